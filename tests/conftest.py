"""Fixtures: every test gets its own real database, SQLite file or PostgreSQL.

PostgreSQL tests run against the server at $LEADMS_TEST_PG_URL (default: the
local server, database `test`). Without a server they skip locally, and fail in
CI (CI=true), where a skipped database test would hide a broken build.
"""

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from leadms_tui import bootstrap
from leadms_tui.domain import clock
from leadms_tui.domain.db import Database

pytest_plugins = ["tests.snapshots"]  # snap_compare: screens against their SVG snapshots


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--travel-to",
        metavar="ISO",
        help="move the real clock to this instant (time-machine, ticking) for the whole run: "
        "proves the tests do not depend on the day they run",
    )


def pytest_configure(config: pytest.Config) -> None:
    destination = config.getoption("--travel-to")
    if destination:
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(destination), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: on several workers, a long test started last would end the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config: pytest.Config) -> str:
    destination = config.getoption("--travel-to")
    shown = f"travelled to {destination}" if destination else "real"
    return f"wall clock: {shown}, now {datetime.now().astimezone().isoformat(timespec='minutes')}"


PG_ADMIN_URL = os.environ.get("LEADMS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_TEMPLATE = f"leadms_template_{os.getpid()}"


def _pg_conninfo(database: str | None = None) -> str:
    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    if database is None:
        return url
    return url.rsplit("/", 1)[0] + f"/{database}"


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(_pg_conninfo(), autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; each test copies it (CREATE DATABASE ... TEMPLATE)."""
    try:
        admin = _pg_admin()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{_TEMPLATE}"')
    template = Database(_pg_conninfo(_TEMPLATE))
    template.upgrade()
    template.dispose()
    yield _TEMPLATE
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    name = f"leadms_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_conninfo(name)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    # an empty file is an empty SQLite database: the CLI's "created a new database" note
    # is for a path nothing was at (tests of that note use their own path)
    (tmp_path / "leadms.db").touch()
    return f"sqlite:///{tmp_path / 'leadms.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """The URL of a fresh, migrated database on each engine in turn."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The database at `db_url`, its events reaching the product's subscribers (a test of
    the wiring itself opens its own through `bootstrap` with a dispatcher of its choice)."""
    database = (
        bootstrap.open_database(db_url)
        if db_url.startswith("sqlite")
        else bootstrap.database(db_url)
    )
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch) -> None:
    """Never touch the developer's real data dir or database from a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))  # CLI sessions
    monkeypatch.delenv("LEADMS_TOKEN", raising=False)
    monkeypatch.delenv("LEADMS_DATABASE_URL", raising=False)


def cli_token(db: Database, username: str) -> str:
    """An API token for `username`, for CLI tests that act as that user (LEADMS_TOKEN)."""
    from leadms_tui.domain.audit import SYSTEM
    from leadms_tui.domain.team.access import issue_token
    from leadms_tui.domain.team.users import get_user

    return db.write(
        lambda s: issue_token(s, get_user(s, username), kind="api", name="tests", actor=SYSTEM)
    )
