"""First run (issue 16): an empty database sets up its first admin and the team's basics."""

import os

import pytest
from sqlalchemy import func, select

from leadms_tui.app import LeadMSApp
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import AuditEvent, Role, Setting, User
from leadms_tui.domain.team import settings as team_settings
from leadms_tui.domain.team.settings import detected_timezone
from leadms_tui.domain.team.users import add_user, authenticate
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.first_run import FirstRunScreen
from leadms_tui.screens.login import LoginScreen
from leadms_tui.screens.modals.what_next_modal import WhatNextModal
from tests.tui.conftest import settle

GOOD_PASSWORD = "correct horse 42"


def _count(db, model) -> int:
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _settings(db) -> dict[str, str]:
    with db.reading() as session:
        return dict(session.execute(select(Setting.key, Setting.value)).all())


def _error(app) -> str:
    return str(app.screen.query_one("#first-run-error").render())


async def _fill_admin(pilot, password: str, again: str | None = None) -> None:
    """Username, name, the password twice, from the username field."""
    await pilot.press(*"ada", "tab", *"Ada Admin", "tab")
    await pilot.press(*password, "tab", *(password if again is None else again))


async def test_an_empty_database_opens_the_first_run_setup(db, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    app = LeadMSApp(db, username="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        assert app.screen.focused is app.screen.query_one("#first-run-username")
        assert app.screen.query_one("#first-run-timezone").value == "America/New_York"


async def test_a_database_with_users_still_opens_the_sign_in(db):
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret"))
    app = LeadMSApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)


async def test_a_weak_password_is_refused_and_nothing_is_written(db):
    app = LeadMSApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _fill_admin(pilot, "secret")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        assert "at least 10 characters" in _error(app)
        assert screen.focused is screen.query_one("#first-run-password")
        assert screen.query_one("#first-run-password").value == ""  # typed twice again
        assert screen.query_one("#first-run-username").value == "ada"  # the rest is kept
        await pilot.press(*GOOD_PASSWORD, "tab", *"something else", "enter")
        await settle(pilot)
        assert "differ" in _error(app)
        assert isinstance(app.screen, FirstRunScreen)
    assert (_count(db, User), _count(db, Setting), _count(db, AuditEvent)) == (0, 0, 0)


async def test_the_admin_and_the_team_settings_are_set_up_then_the_day_view_opens(
    db, frozen_clock, monkeypatch
):
    monkeypatch.setenv("TZ", "America/New_York")
    app = LeadMSApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _fill_admin(pilot, GOOD_PASSWORD)
        # tab selects a prefilled field: typing replaces it
        await pilot.press("tab", *"Europe/London", "tab", *"gb", "tab", *"EUR")
        await pilot.press("tab", *"08:00-17:00", "enter")  # every field filled: enter sets up
        await settle(pilot)
        assert isinstance(app.screen, WhatNextModal)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "leadms import csv FILE" in shown and "leadms intake serve" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DayViewScreen)
        assert app.user is not None and app.user.role == Role.ADMIN
        assert app.settings.timezone == "Europe/London"
        assert app.sub_title.startswith("Ada Admin (admin) · ")
    with db.reading() as session:
        users = session.execute(select(User)).scalars().all()
        assert [(u.username, u.display_name, u.role) for u in users] == [
            ("ada", "Ada Admin", Role.ADMIN)
        ]
        assert authenticate(session, "ada", GOOD_PASSWORD).username == "ada"
    assert _settings(db) == {
        "timezone": "Europe/London",
        "phone_region": "GB",
        "currency": "EUR",
        "business_hours": "08:00-17:00",
        "business_days": "mon-fri",
    }


async def test_a_bad_setting_writes_nothing_not_even_the_admin(db):
    app = LeadMSApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _fill_admin(pilot, GOOD_PASSWORD)
        await pilot.press("tab", "tab", "tab", *"EURO", "ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        assert "ISO 4217" in _error(app)
        assert screen.focused is screen.query_one("#first-run-currency")
    assert (_count(db, User), _count(db, Setting), _count(db, AuditEvent)) == (0, 0, 0)


async def test_a_user_added_meanwhile_elsewhere_sends_to_the_sign_in(db):
    app = LeadMSApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        db.write(lambda s: add_user(s, "boss", role=Role.ADMIN, actor=SYSTEM, password="x" * 12))
        await _fill_admin(pilot, GOOD_PASSWORD)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
    with db.reading() as session:
        assert session.execute(select(User.username)).scalars().all() == ["boss"]


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("Europe/London", "Europe/London"),
        (":Asia/Tokyo", "Asia/Tokyo"),
        ("/usr/share/zoneinfo/America/Sao_Paulo", "America/Sao_Paulo"),
        ("GMT0BST,M3.5.0/1,M10.5.0", "UTC"),  # a POSIX rule names no zone
        ("Not/AZone", "UTC"),
        ("", "UTC"),
    ],
)
def test_detected_timezone_reads_tz(monkeypatch, tmp_path, tz, expected):
    monkeypatch.setattr(team_settings, "LOCALTIME", tmp_path / "no-localtime")
    monkeypatch.setenv("TZ", tz)
    assert detected_timezone() == expected


def test_detected_timezone_reads_the_localtime_link(monkeypatch, tmp_path):
    link = tmp_path / "localtime"
    os.symlink("/usr/share/zoneinfo/Europe/Madrid", link)  # need not exist: only read
    monkeypatch.setattr(team_settings, "LOCALTIME", link)
    monkeypatch.delenv("TZ", raising=False)
    assert detected_timezone() == "Europe/Madrid"


async def test_a_refusal_goes_once_the_refused_input_changes(db):
    app = LeadMSApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _fill_admin(pilot, "secret")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "at least 10 characters" in _error(app)  # stays while nothing changed
        await pilot.press("c")  # a new password being typed: the old refusal is stale
        await settle(pilot)
        assert _error(app) == ""
