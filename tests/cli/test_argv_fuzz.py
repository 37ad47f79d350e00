"""Every CLI command, given hostile arguments, ends in output or a one-line `error: ...`:
never a traceback and never "unexpected <Exception>" (the catch-all that means a root cause
was not handled). The commands are found by walking the Typer app, so a new command is
fuzzed without this file changing."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.main import get_command
from typer.testing import CliRunner

from leadms_tui.bootstrap import open_database
from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()

# Servers and generators run until stopped or for minutes: their arguments have own tests.
NOT_FUZZED = {("web",), ("intake", "serve"), ("demo",), ("bench", "generate"), ("bench", "run")}

HOSTILE = [
    "",
    " ",
    "[bold red]x[/]",
    "[link=http://evil.example]y[/link]",
    "[/]",
    "-1",
    "0",
    "-0",
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e400",
    "NaN",
    "inf",
    "\uff11\uff12",  # full-width digits
    "1,5",
    "1_000",
    "Ω≈ç√ 名前",
    "\x1b]0;pwned\x07",
    "\u202egnp.exe",
    "http://[::1",
    "http://",
    "https://evil.example/?a=[b]",
    "postgresql://u:p@127.0.0.1:1/x",
    "postgresql://u@no-such-host.invalid/x",
    "postgresql://a:b@[::1/x",
    "sqlite:///",
    "field:",
    "Budget=field:",
    "a=b",
    "x=",
    "=x",
    "tier=[b]x",
    "2026-13-45",
    "9999-12-31",
    "0001-01-01",
    "0001-01-01T00:00",
    "9999-12-31 23:59",
    "LEAD-20261125-001",
    "LEAD-99999999-999",
    "'; DROP TABLE leads;--",
    "%s%n",
    "a" * 3000,
    "admin",
    "ana",
    "lead",
    "client",
    "text",
    "link",
    "site=http://[b]x",
    "site=https://[link=x]y[/link]",
    "m.csv",
]
CSV = "Name,Phone,Budget\nAda,+447700900124,5\n"
value = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
# Where a command writes a file: names inside the test's own directory only.
OUTPUT_NAMES = st.sampled_from(["out.txt", "-", "sub/x.ics", "", "out.txt"])
OUTPUT_OPTIONS = {"-o", "--output", "--rejects"}


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    elif path not in NOT_FUZZED:
        yield path, command


COMMANDS = dict(_commands(get_command(app)))


def _argv(command) -> st.SearchStrategy[list[str]]:
    """Each parameter present or not, with hostile values, arguments in order."""
    parts = []
    for param in command.params:
        if param.param_type_name == "argument":
            count = st.integers(0, 3) if param.nargs == -1 else st.just(1)
            parts.append(count.flatmap(lambda n: st.lists(value, min_size=n, max_size=n)))
            continue
        names = [*param.opts, *param.secondary_opts]
        if param.is_flag:
            parts.append(st.sampled_from([[], [names[0]], [names[-1]]]))
            continue
        given_value = OUTPUT_NAMES if set(param.opts) & OUTPUT_OPTIONS else value
        one = st.tuples(st.just(param.opts[0]), given_value).map(list)
        times = st.integers(0, 2) if param.multiple else st.integers(0, 1)
        parts.append(
            times.flatmap(lambda n, one=one: st.lists(one, min_size=n, max_size=n)).map(
                lambda pairs: [part for pair in pairs for part in pair]
            )
        )
    return st.tuples(*parts).map(lambda chunks: [a for chunk in chunks for a in chunk])


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A database with an admin, a rep and a lead, and the admin's token."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'leadms.db'}"
    db = open_database(url)

    def seed(session):
        add_user(session, "admin", role=Role.ADMIN, actor=SYSTEM, password="secret-enough-1")
        add_user(session, "ana", role=Role.REP, actor=SYSTEM, password="secret-enough-2")

    db.write(seed)
    lead = create_lead(
        db, LeadCreate(name="Ada", phone="+447700900123", channel="website"), actor=SYSTEM
    )
    token = cli_token(db, "admin")
    db.dispose()
    added = _leadms(url, token, "fields", "add", "lead", "site", "--type", "link")
    assert added.exit_code == 0, added.output
    return url, token, lead.number


def _leadms(url, token, *argv):
    return runner.invoke(app, ["--database-url", url, *argv], env={"LEADMS_TOKEN": token}, input="")


def _assert_one_line_reason(argv, result):
    shown = f"leadms {' '.join(argv)!r}:\n{result.output}"
    assert "unexpected" not in result.output, shown
    assert "Traceback" not in result.output, shown
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(shown) from result.exception


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_hostile_arguments_get_a_one_line_reason(path, team, tmp_path, monkeypatch):
    url, token, _ = team
    monkeypatch.chdir(tmp_path)  # anything a command writes lands here
    (tmp_path / "m.csv").write_text(CSV)

    @settings(
        max_examples=int(os.environ.get("LEADMS_FUZZ_EXAMPLES", "12")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(argv=_argv(COMMANDS[path]))
    def run(argv):
        _assert_one_line_reason([*path, *argv], _leadms(url, token, *path, *argv))

    run()


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["leads", "set", "{lead}", "site=http://[b]x"], "'http://[b]x' is not a web address"),
        (["leads", "set", "{lead}", "site=http://a:99999999"], "is not a web address"),
        (["import", "csv", "m.csv", "--map", "Budget=field:"], "name the lead field"),
        (["import", "csv", "m.csv", "--map", "Budget=bogus"], "cannot map 'Budget' to 'bogus'"),
        (["leads", "list", "--limit", "99999999999999999999999"], "2147483647"),
        (["rules", "enable", "99999999999999999999999"], "2147483647"),
        (["commissions", "pay", "1", "99999999999999999999999"], "2147483647"),
        (["rules", "run", "--now", "9999-12-31"], "outside the plausible range"),
        (["meetings", "export-ics", "-o", "no/such/dir.ics"], "cannot write no/such/dir.ics"),
        (["db", "move-to", "postgresql://u@127.0.0.1:1/x"], "connection refused"),
        (["db", "move-to", "postgresql://u@no-such-host.invalid/x"], "unknown host"),
        (["db", "move-to", "postgresql://a:b@[::1/x"], "not a database URL"),
    ],
)
def test_each_finding_gets_its_own_reason(argv, reason, team, tmp_path, monkeypatch):
    url, token, number = team
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text(CSV)
    argv = [part.format(lead=number) for part in argv]
    result = _leadms(url, token, *argv)
    _assert_one_line_reason(argv, result)
    assert result.exit_code in (1, 2) and reason in " ".join(result.output.split()), result.output
