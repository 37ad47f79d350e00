"""`leadms rules`: list the automation rules and run the time-based ones (for cron)."""

import json
from datetime import datetime
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="Automation rules.", no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this ISO date-time.")
    ] = None,
) -> None:
    """Run time rules and mark missed commitments once; safe to run from several places."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.work.rules import sweep

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise CLIError(f"--now {now!r}: use an ISO date-time") from None
        moment = clock.plausible(moment, "--now")  # 9999-12-31 overflowed in every zone
    echo(sweep(open_db(ctx), now=moment).describe())


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Every rule in evaluation order, in words."""
    from leadms_tui.domain.work.rules import describe_rule, list_rules, rule_as_json

    with open_db(ctx).reading() as session:
        rules = list_rules(session=session)
    if as_json:
        echo(json.dumps([rule_as_json(r) for r in rules], indent=2, ensure_ascii=False))
        return
    for rule in rules:
        state = "on " if rule.enabled else "off"
        echo(f"{rule.id:>3} {state} {rule.name}\n      {describe_rule(rule)}")


def _set_enabled(ctx: typer.Context, rule_id: int, enabled: bool) -> None:
    from leadms_tui.domain.work.rules import set_rule_enabled

    open_db(ctx).write(
        lambda s: set_rule_enabled(s, rule_id, enabled, actor=acting(ctx, s, admin=True))
    )
    echo(f"rule {rule_id} {'enabled' if enabled else 'disabled'}")


@app.command()
def enable(ctx: typer.Context, rule_id: Annotated[int, typer.Argument(help="Rule id.")]) -> None:
    """Turn a rule on."""
    _set_enabled(ctx, rule_id, True)


@app.command()
def disable(ctx: typer.Context, rule_id: Annotated[int, typer.Argument(help="Rule id.")]) -> None:
    """Turn a rule off."""
    _set_enabled(ctx, rule_id, False)
