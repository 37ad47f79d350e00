"""The CLI knows who is acting (issue 10 §5): sessions, API tokens, --as for admins only,
a bootstrap for the first admin, a password policy and throttled sign-ins."""

import json
import stat
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from leadms_tui.cli import app, sessions
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import AuditEvent, Call, User
from leadms_tui.domain.team import users

runner = CliRunner()
GOOD = "correct horse battery"
PASSWORDS = {"boss": GOOD, "ana": "purple monkey dishwasher", "bruno": "tangerine rooftop 42"}


def leadms(url, *args, input=None, token=None):
    env = {"LEADMS_TOKEN": token} if token else None
    return runner.invoke(app, ["--database-url", url, *args], input=input, env=env)


def _team(url):
    """The first admin by bootstrap (no session), then reps added by the signed-in admin."""
    assert leadms(url, "users", "add", "boss", "--role", "admin", "--password-stdin",
                  input=f"{GOOD}\n").exit_code == 0  # fmt: skip
    assert leadms(url, "login", "boss", "--password-stdin", input=f"{GOOD}\n").exit_code == 0
    for rep in ("ana", "bruno"):
        added = leadms(url, "users", "add", rep, "--role", "rep", "--password-stdin",
                       input=f"{PASSWORDS[rep]}\n")  # fmt: skip
        assert added.exit_code == 0, added.output


def test_bootstrap_then_only_an_admin_session_changes_users_settings_and_rules(db_url, db):
    _team(db_url)
    assert "boss (admin)" in leadms(db_url, "whoami").stdout
    assert leadms(db_url, "logout").exit_code == 0
    for args in (
        ("users", "add", "mallory", "--role", "admin"),
        ("settings", "set", "timezone", "Europe/Paris"),
        ("rules", "disable", "1"),
        ("calls", "log", "LEAD-X", "--outcome", "busy"),
    ):
        refused = leadms(db_url, *args)
        assert refused.exit_code == 1, args
        assert refused.stderr.count("\n") == 1 and "leadms login" in refused.stderr
    assert (
        leadms(db_url, "login", "ana", "--password-stdin", input=f"{PASSWORDS['ana']}\n").exit_code
        == 0
    )
    refused = leadms(db_url, "users", "add", "mallory", "--role", "admin")
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    with db.reading() as session:
        assert session.scalar(select(User.id).where(User.username == "mallory")) is None


def test_the_session_file_is_private(db_url, db):
    _team(db_url)
    mode = stat.S_IMODE(sessions.session_file().stat().st_mode)
    assert mode == 0o600
    assert sessions.load(db_url).startswith("lms_")


def test_password_policy(db_url, db):
    for password, reason in [
        ("short1", "at least 10"),
        ("xboss-secret-99", "username"),
        ("password123", "too easy to guess: This is a very common password."),
        ("aaaaaaaaaaaa", "too easy to guess: Repeats like"),
    ]:
        result = leadms(db_url, "users", "add", "boss", "--role", "admin", "--password-stdin",
                        input=f"{password}\n")  # fmt: skip
        assert result.exit_code == 1 and reason in result.stderr, (password, result.stderr)


def test_as_is_for_admins_and_the_trail_names_both(db_url, db):
    _team(db_url)
    lead = create_lead(
        db, LeadCreate(name="Dora", phone="+447700900111", channel="phone"), actor=SYSTEM
    )
    logged = leadms(db_url, "calls", "log", lead.number, "--outcome", "busy", "--as", "bruno")
    assert logged.exit_code == 0, logged.output
    with db.reading() as session:
        bruno = session.scalar(select(User.id).where(User.username == "bruno"))
        call = session.scalars(select(Call)).one()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.create")).one()
    assert call.user_id == bruno and event.actor == "boss for bruno"
    assert (
        leadms(db_url, "login", "ana", "--password-stdin", input=f"{PASSWORDS['ana']}\n").exit_code
        == 0
    )
    refused = leadms(db_url, "calls", "log", lead.number, "--outcome", "busy", "--as", "bruno")
    assert refused.exit_code == 1 and "only an admin may act --as" in refused.stderr
    other = create_lead(
        db, LeadCreate(name="Otto", phone="+447700900222", channel="phone"), actor=SYSTEM
    )
    own = leadms(db_url, "calls", "log", other.number, "--outcome", "busy", "--as", "ana")
    assert own.exit_code == 0  # --as naming yourself is the same as leaving it out


def test_api_tokens_for_scripts_expire_and_are_revoked(db_url, db):
    _team(db_url)
    created = leadms(db_url, "tokens", "create", "dialer", "--user", "ana", "--expires", "2")
    token = created.stdout.strip()
    assert created.exit_code == 0 and token.startswith("lms_")
    assert "ana (rep)" in leadms(db_url, "whoami", token=token).stdout
    listed = [
        json.loads(line) for line in leadms(db_url, "tokens", "list", "--json").stdout.splitlines()
    ]
    dialer = next(t for t in listed if t["name"] == "dialer")
    assert "token_hash" not in dialer and token not in json.dumps(listed)

    later = clock.now() + timedelta(days=3)
    clock.set_clock(lambda: later)
    expired = leadms(db_url, "whoami", token=token)
    assert expired.exit_code == 1 and "has ended" in expired.stderr
    clock.set_clock(None)

    assert leadms(db_url, "tokens", "revoke", str(dialer["id"])).exit_code == 0
    revoked = leadms(db_url, "whoami", token=token)
    assert revoked.exit_code == 1 and "has ended" in revoked.stderr
    assert leadms(db_url, "whoami", token="lms_made_up").exit_code == 1


def test_logout_ends_the_session_for_good(db_url, db):
    _team(db_url)
    token = sessions.load(db_url)
    assert leadms(db_url, "logout").exit_code == 0
    assert sessions.load(db_url) is None
    assert leadms(db_url, "whoami", token=token).exit_code == 1


def test_failed_sign_ins_are_throttled_and_unknown_users_cost_a_verification(
    db_url, db, monkeypatch
):
    _team(db_url)
    for _ in range(5):
        wrong = leadms(db_url, "login", "ana", "--password-stdin", input="not her password\n")
        assert wrong.exit_code == 1 and "unknown user or wrong password" in wrong.stderr
    right = leadms(db_url, "login", "ana", "--password-stdin", input=f"{PASSWORDS['ana']}\n")
    assert right.exit_code == 1 and "too many failed sign-ins" in right.stderr
    assert leadms(db_url, "login", "bruno", "--password-stdin",
                  input=f"{PASSWORDS['bruno']}\n").exit_code == 0  # fmt: skip

    verified = []
    real = users._hasher

    class Counting:
        hash = real.hash

        def verify(self, *args):
            verified.append(args[0])
            return real.verify(*args)

    monkeypatch.setattr(users, "_hasher", Counting())
    for name in ("bruno", "nobody-here"):
        leadms(db_url, "login", name, "--password-stdin", input="wrong guess 123\n")
    assert len(verified) == 2  # the unknown user cost the same argon2 verification


def test_a_browser_that_failed_is_locked_out_not_the_user_and_an_admin_unlocks(db_url, db):
    """Issue 23: five failures from one `leadms web` address lock that address only."""
    _team(db_url)
    browser = {"LEADMS_SIGN_IN_SOURCE": "web:203.0.113.9"}

    def login(user, password, env=None):
        return runner.invoke(app, ["--database-url", db_url, "login", user, "--password-stdin"],
                             input=f"{password}\n", env=env)  # fmt: skip

    for _ in range(5):
        assert login("ana", "not her password", browser).exit_code == 1
    locked = login("ana", PASSWORDS["ana"], browser)
    assert locked.exit_code == 1 and "too many failed sign-ins from here" in locked.stderr
    assert login("ana", PASSWORDS["ana"]).exit_code == 0  # her terminal: slowed, not locked
    refused = leadms(db_url, "users", "unlock", "ana")  # ana's session now: not an admin
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    assert login("boss", GOOD).exit_code == 0
    unlocked = leadms(db_url, "users", "unlock", "ana")
    assert unlocked.exit_code == 0, unlocked.output
    assert unlocked.stdout == "ana unlocked (5 failed sign-in(s) forgotten)\n"
    unknown = leadms(db_url, "users", "unlock", "nobody")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: no user")
    assert login("ana", PASSWORDS["ana"], browser).exit_code == 0
