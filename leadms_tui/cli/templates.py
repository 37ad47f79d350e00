"""`leadms templates`: the WhatsApp message templates, read from Meta (`sync`) and listed."""

import json
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="WhatsApp message templates.", no_args_is_help=True)


@app.command()
def sync(ctx: typer.Context) -> None:
    """Read the business account's templates from Meta into the database (admins).

    Uses LEADMS_WHATSAPP_TOKEN and LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID (and
    LEADMS_META_GRAPH_URL, default https://graph.facebook.com/v21.0), as the intake service
    does. A template Meta lists no more is kept, marked DISABLED.
    """
    import asyncio

    from leadms_tui.domain import clock
    from leadms_tui.domain.chat.templates import store_templates
    from leadms_tui.intake.meta_client import MetaClient, MetaConfig, MetaError

    db = open_db(ctx)
    with db.reading() as session:
        acting(ctx, session, admin=True)  # refused before Meta is asked

    async def read() -> list[dict]:
        async with MetaClient(MetaConfig.from_env()) as client:
            return await client.list_templates()

    try:
        listed = asyncio.run(read())
    except MetaError as exc:
        raise CLIError(str(exc)) from None
    report = db.write(
        lambda s: store_templates(s, listed, actor=acting(ctx, s, admin=True), now=clock.now())
    )
    echo(
        f"{len(listed)} templates read: {report.added} added, {report.changed} changed, "
        f"{report.gone} no longer listed (kept as disabled)"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The synced templates: name, language, status, category and body."""
    from leadms_tui.domain.chat.templates import list_templates

    with open_db(ctx).reading() as session:
        templates = list_templates(session)
    if as_json:
        rows = [
            {
                "name": t.name,
                "language": t.language,
                "status": str(t.status),
                "category": t.category,
                "parameters": t.parameters,
                "body": t.body,
                "synced_at": t.synced_at.isoformat(),
            }
            for t in templates
        ]
        echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not templates:
        echo("no templates yet: run `leadms templates sync`")
        return
    for t in templates:
        pickable = "" if t.status == "APPROVED" else "  (cannot be sent)"
        echo(f"{t.name} [{t.language}] {t.status} {t.category}{pickable}\n    {t.body}")
