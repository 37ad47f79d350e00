"""`leadms users set` and `leadms users password`: an admin changes users from scripts."""

import json

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user, get_user
from tests.conftest import cli_token

runner = CliRunner()
ANA_OLD = "purple monkey dishwasher"
ANA_NEW = "tangerine rooftop 42"


def leadms(url, *args, input=None, token=None):
    env = {"LEADMS_TOKEN": token} if token else None
    return runner.invoke(app, ["--database-url", url, *args], input=input, env=env)


def _team(db):
    def seed(session):
        add_user(session, "ada", role=Role.ADMIN, actor=SYSTEM, password="ada's long secret")
        add_user(session, "ana", role=Role.REP, actor=SYSTEM, password=ANA_OLD)

    db.write(seed)
    return cli_token(db, "ada")


def _ana(db):
    with db.reading() as session:
        return get_user(session, "ana")


def test_set_changes_only_what_is_given(db_url, db):
    token = _team(db)
    result = leadms(
        db_url, "users", "set", "ana", "--capacity", "40", "--languages", "en,ES",
        "--display-name", "Ana Ruiz", token=token,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "ana: Ana Ruiz, rep, active, capacity 40, en,es\n"
    assert leadms(db_url, "users", "set", "ana", "--inactive", "--role", "manager",
                  token=token).exit_code == 0  # fmt: skip
    ana = _ana(db)
    assert (ana.capacity, ana.languages, ana.active, ana.role) == (
        40,
        ["en", "es"],
        False,
        Role.MANAGER,
    )
    listed = json.loads(leadms(db_url, "users", "list", "--json").stdout)
    assert {"username": "ana", "active": False, "capacity": 40}.items() <= listed[1].items()


def test_set_refusals_are_one_line(db_url, db):
    token = _team(db)
    for args, message in [
        (("ana",), "nothing to change"),
        (("ana", "--capacity", "10001"), "capacity must be between 0 and 10000"),
        (("ana", "--languages", "en,klingon"), "unknown language code(s) klingon"),
        (("ana", "--role", "boss"), "unknown role 'boss'"),
        (("ada", "--inactive"), "ada is the last active admin"),
        (("zoe", "--capacity", "3"), "no user 'zoe'"),
    ]:
        result = leadms(db_url, "users", "set", *args, token=token)
        assert result.exit_code == 1, args
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    refused = leadms(db_url, "users", "set", "ada", "--capacity", "1", token=cli_token(db, "ana"))
    assert refused.exit_code == 1 and "only an admin can do this" in refused.stderr
    assert _ana(db).capacity == 25


def test_password_is_asked_twice_and_ends_the_users_sessions(db_url, db):
    token = _team(db)
    login = leadms(db_url, "login", "ana", "--password-stdin", input=f"{ANA_OLD}\n")
    assert login.exit_code == 0, login.output
    assert "ana" in leadms(db_url, "whoami").stdout

    differ = leadms(db_url, "users", "password", "ana", input=f"{ANA_NEW}\nsomething else\n",
                    token=token)  # fmt: skip
    assert differ.exit_code == 1 and "the two passwords differ" in differ.stderr
    assert ANA_NEW not in differ.output  # hidden input is not echoed
    weak = leadms(db_url, "users", "password", "ana", "--password-stdin", input="ana12345678\n",
                  token=token)  # fmt: skip
    assert weak.exit_code == 1 and "must not contain the username" in weak.stderr

    changed = leadms(db_url, "users", "password", "ana", input=f"{ANA_NEW}\n{ANA_NEW}\n",
                     token=token)  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "password of ana changed; 1 CLI session(s) ended" in changed.stdout
    ended = leadms(db_url, "whoami")  # ana's saved session
    assert ended.exit_code == 1 and "has ended" in ended.stderr
    old = leadms(db_url, "login", "ana", "--password-stdin", input=f"{ANA_OLD}\n")
    assert old.exit_code == 1
    new = leadms(db_url, "login", "ana", "--password-stdin", input=f"{ANA_NEW}\n")
    assert new.exit_code == 0, new.output


def test_password_from_stdin_needs_an_admin(db_url, db):
    _team(db)
    refused = leadms(db_url, "users", "password", "ada", "--password-stdin",
                     input=f"{ANA_NEW}\n", token=cli_token(db, "ana"))  # fmt: skip
    assert refused.exit_code == 1 and "only an admin can do this" in refused.stderr
    empty = leadms(db_url, "users", "password", "ana", "--password-stdin", input="\n",
                   token=cli_token(db, "ada"))  # fmt: skip
    assert empty.exit_code == 1 and "no password on stdin" in empty.stderr
