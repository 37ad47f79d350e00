"""What every command shares: the chosen database, the acting user, error reporting."""

import os
import socket
import sys
import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

import typer
from typer.core import TyperGroup

from leadms_tui.cli import sessions
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.text import visible

TOKEN_ENV = "LEADMS_TOKEN"
# The largest whole number a command takes: no id, count or limit goes past PostgreSQL's
# integer, and a bigger one overflowed the driver ("unexpected OverflowError").
WHOLE_MAX = 2**31 - 1


class CLIError(Exception):
    """A one-line error for stderr, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class LeadMSGroup(TyperGroup):
    """Root command group: turns every error into one line on stderr, never a traceback, and
    bounds every whole-number parameter of every command (see `bound_whole_numbers`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_whole_numbers(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            # The reader left (`leadms leads list | head -1`): stop quietly as Unix tools do,
            # with 128 + SIGPIPE, and keep Python from complaining when it flushes at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        except CLIError as exc:
            _fail(str(exc), exc.exit_code)
        except LeadMSError as exc:
            _fail(str(exc), 1)
        except Exception as exc:
            if os.environ.get("LEADMS_DEBUG"):
                traceback.print_exc()
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            _fail(f"unexpected {type(exc).__name__}: {detail} (LEADMS_DEBUG=1 shows more)", 1)


def bound_whole_numbers(command: Any) -> None:
    """Every integer option and argument of `command` and its sub-commands, without a range
    of its own, takes -WHOLE_MAX..WHOLE_MAX: a huge id is refused as a usage error naming the
    parameter, as one with its own range is."""
    for sub in getattr(command, "commands", {}).values():
        bound_whole_numbers(sub)
    for param in getattr(command, "params", []):
        annotation = param.type_descriptor.annotation
        kinds = {annotation, *get_args(annotation)}
        kinds |= {inner for kind in kinds for inner in get_args(kind)}
        if int in kinds and bool not in kinds:
            info = param.type_descriptor.parameter_info  # what the range check reads
            for holder in (info, param):
                holder.min = -WHOLE_MAX if holder.min is None else holder.min
                holder.max = WHOLE_MAX if holder.max is None else holder.max


def _fail(message: str, exit_code: int) -> None:
    echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


def echo(message: str, *, err: bool = False) -> None:
    """Print a line of output: stored text is data, so no control character reaches the
    terminal (a lead named "\\e]0;pwned\\a" would retitle the window)."""
    typer.echo(visible(message, lines=True), err=err)


def write_stdout(data: bytes) -> None:
    """Raw bytes to stdout for a pipe or a file, refused on a terminal (a picture's bytes
    would garble it, and may carry escape sequences)."""
    if sys.stdout.isatty():
        raise CLIError("stdout is a terminal; pipe it (| ...) or redirect it (> FILE)", 2)
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def save_new(path: Path, data: bytes, *, force: bool) -> None:
    """`data` to a new file at `path` (see `write_new`); with --force it replaces one."""
    from leadms_tui.domain.local_files import PathExistsError, write_new

    try:
        write_new(path.expanduser(), data, replace=force)
    except PathExistsError as exc:
        raise CLIError(f"{exc} (--force replaces it)") from None
    except OSError as exc:  # no such directory, not allowed, a directory
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None


def spreadsheet_cell(text: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula: one starting with =, +, -,
    @, a tab or a carriage return gets a leading quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def say_if_empty(count: int, what: str) -> None:
    """An empty list says so on stderr: a person sees it, a pipe or script gets nothing."""
    if not count:
        echo(f"no {what}", err=True)


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or the one-line error saying why it cannot be."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise CLIError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1) from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise CLIError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1) from None
    return listener


@dataclass
class Options:
    database_url: str | None = None


def options(ctx: typer.Context) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


def database_url(ctx: typer.Context) -> str:
    from leadms_tui.domain.paths import default_database_url

    return options(ctx).database_url or default_database_url()


def open_db(ctx: typer.Context):  # -> Database (imported lazily to keep --help fast)
    return open_noting_new(database_url(ctx))


def open_noting_new(url: str):  # -> Database
    """Open the database; a SQLite file that was not there is created, and a person told on
    stderr (a mistyped path is then seen at once, not as an empty team)."""
    from leadms_tui.bootstrap import open_database

    database = open_database(url)
    if database.new_file is not None and database.new_file.exists():
        echo(f"note: no database was at {database.new_file}: created a new, empty one", err=True)
    return database


def acting(ctx: typer.Context, session: Any, as_user: str | None = None, *, admin: bool = False):
    """Who a command acts as (an audit Actor): the signed-in user (`leadms login`, or
    LEADMS_TOKEN for scripts), or with `--as` the user a signed-in admin acts for. A database
    with no users yet has nobody to sign in: it is set up without a session (bootstrap)."""
    from leadms_tui.domain.audit import Actor
    from leadms_tui.domain.models import Role
    from leadms_tui.domain.team.access import acting_for, has_users, user_for_token

    if not has_users(session):
        if as_user:
            raise CLIError(f"no user {as_user!r}: this database has no users yet")
        return Actor(None, "cli")
    token = os.environ.get(TOKEN_ENV) or sessions.load(database_url(ctx))
    if not token:
        raise CLIError("sign in first: `leadms login USERNAME` (scripts and dialers: LEADMS_TOKEN)")
    me = user_for_token(session, token)
    if admin and me.role != Role.ADMIN:
        raise CLIError(f"only an admin can do this; {me.username} is a {me.role.value}")
    return acting_for(me, session, as_user) if as_user else me.actor


def day_option(
    session: Any, text: str | None, option: str, *, historic: bool = False
) -> date | None:
    """The day an option names (`--from fri`, `--date 2026-12-07`, `--to +3`), read as every
    TUI date prompt reads it, in the team's timezone; within the plausible window, or the
    historic one (from 1900) for report ranges. None when the option was not given."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.errors import ValidationError
    from leadms_tui.domain.spoken_dates import parse_day
    from leadms_tui.domain.team.settings import load_settings

    if text is None:
        return None
    today = clock.business_date(clock.now(), load_settings(session).timezone)
    window = clock.historic_day if historic else clock.plausible_day
    try:
        return parse_day(text, today, what="day", window=window)
    except ValidationError as exc:
        raise CLIError(f"{option} {exc}", exit_code=2) from None


def viewing(ctx: typer.Context, session: Any):
    """Who reads (an audit Actor): the signed-in user when there is one. Without a session
    a read is allowed as before while reps see the whole team (`reps_see team`); under
    `reps_see own` who reads decides what they may open, so they sign in first."""
    from leadms_tui.domain.audit import Actor
    from leadms_tui.domain.team.settings import load_settings

    signed_in = os.environ.get(TOKEN_ENV) or sessions.load(database_url(ctx))
    if signed_in or load_settings(session).reps_see == "own":
        return acting(ctx, session)
    return Actor(None, "cli")
