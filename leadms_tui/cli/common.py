"""What every command shares: the chosen database, the acting user, error reporting."""

import os
import traceback
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from leadms_tui.domain.errors import LeadMSError


class CLIError(Exception):
    """A one-line error for stderr, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class LeadMSGroup(TyperGroup):
    """Root command group: turns every error into one line on stderr, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except CLIError as exc:
            _fail(str(exc), exc.exit_code)
        except LeadMSError as exc:
            _fail(str(exc), 1)
        except Exception as exc:
            if os.environ.get("LEADMS_DEBUG"):
                traceback.print_exc()
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            _fail(f"unexpected {type(exc).__name__}: {detail} (LEADMS_DEBUG=1 shows more)", 1)


def _fail(message: str, exit_code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


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
    from leadms_tui.domain.db import open_database

    return open_database(database_url(ctx))


def acting_user(session: Any, username: str | None):  # -> UserInfo | None
    """The user named by `--as`, which must exist and be active."""
    if username is None:
        return None
    from leadms_tui.domain.users import get_user

    user = get_user(session, username)
    if not user.active:
        raise CLIError(f"user {username!r} is not active")
    return user


def actor_for(user: Any) -> Any:
    from leadms_tui.domain.audit import Actor

    return user.actor if user is not None else Actor(None, "cli")
