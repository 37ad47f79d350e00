"""Shared seeds for the domain tests."""

import pytest

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user


@pytest.fixture
def team(db):
    """A GB team in London: two reps and a manager; returns their UserInfo by username."""

    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        set_setting(session, "phone_region", "GB", actor=SYSTEM)
        return {
            name: add_user(session, name, role=role, actor=SYSTEM, password="secret")
            for name, role in [("ana", Role.REP), ("bruno", Role.REP), ("maria", Role.MANAGER)]
        }

    return db.write(seed)
