"""`leadms leads`: add and list leads."""

import json
from datetime import date

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="Add and list leads.", no_args_is_help=True)

CHANNELS = "whatsapp, messenger, website, meta_ads, walk_in, phone, email, other"


@app.command()
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The lead's name."),
    phone: str | None = typer.Option(None, "--phone", help="Phone in any format."),
    email: str | None = typer.Option(None, "--email", help="Email address."),
    channel: str = typer.Option(..., "--channel", help=f"One of: {CHANNELS}."),
    message: str | None = typer.Option(None, "--message", help="First message or note."),
    as_user: str | None = typer.Option(None, "--as", help="Acting user (a rep owns the lead)."),
):
    """Take in one lead; prints its number (LEAD-YYYYMMDD-NNN) on stdout."""
    from leadms_tui.domain.leads.intake import LeadCreate, intake_lead
    from leadms_tui.domain.models import Channel, Role

    try:
        parsed_channel = Channel(channel.strip().lower())
    except ValueError:
        raise CLIError(f"unknown channel {channel!r}: choose one of {CHANNELS}") from None

    def work(session):
        actor = acting(ctx, session, as_user)
        owner = actor.user_id if actor.role == Role.REP else None
        data = LeadCreate(
            name=name,
            phone=phone,
            email=email,
            channel=parsed_channel,
            message=message,
            owner_id=owner,
        )
        return intake_lead(session, data, actor=actor)

    result = open_db(ctx).write(work)
    echo(result.number)
    if result.repeat_of:
        echo(f"repeat of {result.repeat_of} ({result.repeat_count} earlier lead(s))", err=True)
    for warning in result.warnings:
        echo(f"warning: {warning}", err=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    day: str | None = typer.Option(None, "--date", help="Only leads of this business date."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many leads."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line (JSON Lines)."),
):
    """Every matching lead in number order, streamed (no silent cap)."""
    from leadms_tui.domain.repositories.leads import iter_leads

    try:
        business_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise CLIError(f"invalid date {day!r}: use YYYY-MM-DD") from None
    with open_db(ctx).reading() as session:
        for row in iter_leads(session=session, day=business_day, limit=limit):
            if as_json:
                echo(json.dumps(row.as_json(), ensure_ascii=False))
            else:
                repeat = f"repeat of {row.repeat_of}" if row.repeat_of else ""
                phone = row.phone_e164 or row.phone_raw or ""
                echo(
                    f"{row.number}  {row.name[:28]:<28}  {phone:<16}  {row.channel:<9}"
                    f"  {row.status:<17}  {row.owner or '-':<10}  {repeat}"
                )
