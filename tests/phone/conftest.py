"""Seeds for the phone bridge's adapter tests: a GB team whose reps have extensions."""

import pytest

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.settings import set_setting
from leadms_tui.domain.team.users import add_user, update_user


@pytest.fixture
def phones(db):
    """ana on 201, bruno on 202 (a GB team in London); their UserInfo by username."""

    def seed(session):
        set_setting(session, "timezone", "Europe/London", actor=SYSTEM)
        set_setting(session, "phone_region", "GB", actor=SYSTEM)
        users = {
            name: add_user(session, name, role=Role.REP, actor=SYSTEM, password="secret")
            for name in ("ana", "bruno")
        }
        update_user(session, "ana", actor=SYSTEM, extension="201")
        update_user(session, "bruno", actor=SYSTEM, extension="202")
        return users

    return db.write(seed)
