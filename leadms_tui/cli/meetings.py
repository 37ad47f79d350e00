"""`leadms meetings`: list meetings and demos, export them as an iCalendar file."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import day_option, echo, open_db, save_new, say_if_empty
from leadms_tui.formatting import instant

app = typer.Typer(help="List and export meetings and demos.", no_args_is_help=True)


def _meetings(ctx: typer.Context, user: str | None, date_from: str | None, date_to: str | None):
    from leadms_tui.domain.queries.commitments import list_meetings, meeting_attendees
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import get_user

    with open_db(ctx).reading() as session:
        start = day_option(session, date_from, "--from", historic=True)
        end = day_option(session, date_to, "--to", historic=True)
        timezone = load_settings(session).timezone
        owner_id = get_user(session, user).id if user else None
        items = list_meetings(
            session=session, timezone=timezone, owner_id=owner_id, date_from=start, date_to=end
        )
        attendees = meeting_attendees(session=session, meeting_ids=[m.id for m in items])
    return items, attendees, timezone


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", help="Only meetings this rep attends.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="From this date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Up to this date, inclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Meetings and demos by start time."""
    items, attendees, timezone = _meetings(ctx, user, date_from, date_to)
    for item in items:
        if as_json:
            echo(
                json.dumps(
                    item.as_json() | {"attendees": attendees.get(item.id, [])}, ensure_ascii=False
                )
            )
        else:
            outcome = item.outcome or ("missed" if item.missed_at else "")
            echo(
                f"{instant(item.starts_at, timezone)}  {item.duration_minutes:>3} min  "
                f"{item.kind:<7}  {item.lead}  {item.name[:24]:<24}  "
                f"{item.owner or '-':<10}  {outcome}"
            )
    if not as_json:
        say_if_empty(len(items), "meetings match")


@app.command("export-ics")
def export_ics(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", help="Only meetings this rep attends.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="From this date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Up to this date, inclusive.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file already at the path.")
    ] = False,
) -> None:
    """Write the meetings as an iCalendar (.ics) file any calendar app opens."""
    from leadms_tui.domain.work.ics import CalendarEvent, render_calendar

    items, attendees, _ = _meetings(ctx, user, date_from, date_to)
    events = [
        CalendarEvent(
            uid=f"meeting-{m.id}@leadms",
            starts_at=m.starts_at,
            duration_minutes=m.duration_minutes,
            summary=f"{m.kind.capitalize()}: {m.lead} {m.name}",
            description="\n".join(filter(None, [m.notes, f"Lead {m.lead}"])),
            location=m.place or m.video_link or "",
            url=m.video_link,
            organizer=m.owner_name,
            attendees=tuple(attendees.get(m.id, [])),
            status="CANCELLED" if m.outcome == "cancelled" else "CONFIRMED",
            created_at=m.created_at,
        )
        for m in items
    ]
    data = render_calendar(events, name=f"Lead MS meetings{f' ({user})' if user else ''}")
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        save_new(output, data, force=force)
        echo(f"{len(events)} meeting(s) written to {output}", err=True)
