"""The `leadms` CLI: commands, JSON output, one-line errors, concurrent shells."""

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from leadms_tui.cli import app
from tests.conftest import cli_token

runner = CliRunner()


def leadms(url: str, *args: str, input: str | None = None, token: str | None = None):
    env = {"LEADMS_TOKEN": token} if token else None
    return runner.invoke(app, ["--database-url", url, *args], input=input, env=env)


def _all_commands(command, path: tuple[str, ...] = ()):
    yield path
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _all_commands(sub, (*path, name))


def test_every_command_has_help():
    paths = list(_all_commands(get_command(app)))
    assert ("leads", "add") in paths and ("demo",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_settings_show_and_set(db_url, db):
    assert leadms(db_url, "settings", "set", "timezone", "Europe/London").output == (
        "timezone = Europe/London\n"
    )
    shown = json.loads(leadms(db_url, "settings", "show", "--json").output)
    assert (shown["timezone"], shown["phone_region"]) == ("Europe/London", "US")


def test_invalid_setting_is_one_line_on_stderr(db_url, db):
    result = leadms(db_url, "settings", "set", "timezone", "Mars/Olympus")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "unknown timezone 'Mars/Olympus'" in result.stderr


def test_the_holiday_region_is_set_shown_and_refused_with_the_reason(db_url, db):
    assert leadms(db_url, "settings", "set", "holiday_region", "gb-eng").output == (
        "holiday_region = GB-ENG\n"
    )
    shown = json.loads(leadms(db_url, "settings", "show", "--json").output)
    assert (shown["holiday_region"], shown["response_target_minutes"]) == ("GB-ENG", "15")
    result = leadms(db_url, "settings", "set", "holiday_region", "GB-XYZ")
    assert result.exit_code == 1 and result.stdout == ""
    assert "GB's subdivisions are ENG, NIR, SCT, WLS" in result.stderr
    (line,) = [
        li for li in leadms(db_url, "settings", "show").output.splitlines() if "GB-ENG" in li
    ]
    assert line.split()[:2] == ["holiday_region", "GB-ENG"] and "Public holidays" in line


def test_users_add_and_list(db_url, db):
    added = leadms(
        db_url,
        "users",
        "add",
        "ana",
        "--name",
        "Ana Ruiz",
        "--role",
        "admin",
        "--password-stdin",
        input="a long s3cret phrase\n",
    )
    assert added.exit_code == 0, added.output
    admin = cli_token(db, "ana")  # the first user was added without a session; now: an admin
    leadms(db_url, "users", "add", "maria", "--role", "manager", token=admin)
    users = json.loads(leadms(db_url, "users", "list", "--json").output)
    assert [(u["username"], u["role"], u["name"]) for u in users] == [
        ("ana", "admin", "Ana Ruiz"),
        ("maria", "manager", "maria"),
    ]
    bad = leadms(db_url, "users", "add", "zed", "--role", "boss", token=admin)
    assert bad.exit_code == 1 and "unknown role 'boss'" in bad.stderr


def test_leads_add_prints_the_number_and_list_streams_json(db_url, db):
    leadms(db_url, "settings", "set", "phone_region", "GB")
    leadms(db_url, "users", "add", "ana", "--role", "rep")
    ana = cli_token(db, "ana")
    first = leadms(
        db_url,
        "leads",
        "add",
        "--name",
        "Ana Ruiz",
        "--phone",
        "07700 900123",
        "--channel",
        "website",
        token=ana,
    )
    assert first.exit_code == 0, first.output
    number = first.stdout.strip()
    assert number.startswith("LEAD-") and number.endswith("-001")
    again = leadms(
        db_url,
        "leads",
        "add",
        "--name",
        "Ana",
        "--phone",
        "447700900123",
        "--channel",
        "whatsapp",
        "--message",
        "Hi again",
        token=ana,
    )
    assert f"repeat of {number}" in again.stderr

    lines = leadms(db_url, "leads", "list", "--json").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["repeat_of"] for r in rows] == [None, number]
    assert rows[0]["owner"] == "ana" and rows[1]["owner"] == "ana"  # a repeat stays with its rep
    assert rows[0]["phone_e164"] == "+447700900123"
    assert set(rows[0]) >= {
        "number",
        "name",
        "phone_e164",
        "email",
        "channel",
        "status",
        "owner",
        "repeat_of",
        "created_at",
    }
    assert len(leadms(db_url, "leads", "list", "--limit", "1").stdout.splitlines()) == 1
    day = number.split("-")[1]
    iso_day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    assert len(leadms(db_url, "leads", "list", "--date", iso_day).stdout.splitlines()) == 2
    none = leadms(db_url, "leads", "list", "--date", "2001-01-01")
    assert (none.stdout, none.stderr) == ("", "no leads match\n")
    assert leadms(db_url, "leads", "list", "--date", "2001-01-01", "--json").output == ""


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["leads", "list"], "no leads yet"),
        (["followups", "list"], "no follow-ups match"),
        (["meetings", "list"], "no meetings match"),
        (["clients", "list"], "no clients yet"),
        (["clients", "list", "--search", "Ada"], "no clients match"),
    ],
)
def test_an_empty_list_says_so_on_stderr_only(sqlite_url, command, said):
    """A person sees why nothing printed; a pipe or a script reading stdout gets nothing."""
    result = leadms(sqlite_url, *command)
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == ("", said + "\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channel", "fax", "--phone", "+12025550143"], "unknown channel 'fax'"),
        (["--channel", "website", "--phone", "call me"], "invalid phone number 'call me'"),
        (["--channel", "website", "--phone", "+12025550143", "--as", "ghost"], "no user 'ghost'"),
    ],
)
def test_bad_lead_input_is_refused_with_one_line(sqlite_url, args, message):
    result = leadms(sqlite_url, "leads", "add", "--name", "X", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert leadms(sqlite_url, "leads", "list").stdout == ""


def test_unreachable_database_is_one_line_not_a_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadms_tui",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
            "leads",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "cannot connect to 127.0.0.1 port 1: connection refused" in result.stderr


@pytest.mark.slow
def test_leads_add_from_eight_shells_at_once(db_url, db):
    """Eight real `leadms leads add` processes started together: unique, gapless numbers."""
    env = {**os.environ, "LEADMS_DATABASE_URL": db_url}
    start = time.monotonic()
    shells = [
        subprocess.Popen(
            [
                "sh",
                "-c",
                " && ".join(  # the first failure ends the shell with its status
                    f"{sys.executable} -m leadms_tui leads add --name 'Shell {s} #{i}' "
                    f"--email s{s}.{i}@example.com --channel phone"
                    for i in range(3)
                ),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for s in range(8)
    ]
    outputs = [shell.communicate(timeout=300) for shell in shells]
    assert all(shell.returncode == 0 for shell in shells), [err for _, err in outputs]
    numbers = [line for out, _ in outputs for line in out.split()]
    assert len(numbers) == 24, [err for _, err in outputs]
    assert not [n for n, c in Counter(numbers).items() if c > 1]
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 25))
    assert time.monotonic() - start < 300


def test_a_sqlite_url_to_no_file_says_a_new_database_was_created(tmp_path):
    """A mistyped path became a silent, empty team: now stderr says where it was made."""
    typo = tmp_path / "leadsm.db"
    first = leadms(f"sqlite:///{typo}", "leads", "list")
    assert first.exit_code == 0, first.output
    assert f"note: no database was at {typo}: created a new, empty one" in first.output
    again = leadms(f"sqlite:///{typo}", "leads", "list")
    assert "created a new" not in again.output
