"""`leadms settings`: team settings stored in the database."""

import json
from typing import Annotated

import typer

from leadms_tui.cli.common import acting, echo, open_db

app = typer.Typer(help="Show and change team settings.", no_args_is_help=True)


@app.command()
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
):
    """Show every setting with its current value."""
    from leadms_tui.domain.team.settings import describe_settings

    with open_db(ctx).reading() as session:
        rows = describe_settings(session)
    if as_json:
        echo(json.dumps({key: value for key, value, _ in rows}, indent=2))
        return
    width = max(len(key) for key, _, _ in rows)
    for key, value, description in rows:
        echo(f"{key:<{width}}  {value:<20}  {description}")


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name: timezone or phone_region.")],
    value: Annotated[str, typer.Argument(help="New value, e.g. Europe/London or GB.")],
):
    """Change one setting (validated; recorded in the audit trail)."""
    from leadms_tui.domain.team.settings import set_setting

    db = open_db(ctx)
    stored = db.write(
        lambda session: set_setting(session, key, value, actor=acting(ctx, session, admin=True))
    )
    echo(f"{key} = {stored}")
