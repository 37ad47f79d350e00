"""`leadms meetings`: list meetings and demos, export them as an iCalendar file."""

import json
import sys
from datetime import date
from pathlib import Path

import typer

from leadms_tui.cli.common import CLIError, echo, open_db, say_if_empty

app = typer.Typer(help="List and export meetings and demos.", no_args_is_help=True)


def _day(text: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise CLIError(f"{option} {text!r}: use YYYY-MM-DD") from None


def _meetings(ctx: typer.Context, user: str | None, date_from: str | None, date_to: str | None):
    from leadms_tui.domain.repositories.commitments import list_meetings, meeting_attendees
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import get_user

    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    with open_db(ctx).reading() as session:
        timezone = load_settings(session).timezone
        owner_id = get_user(session, user).id if user else None
        items = list_meetings(
            session=session, timezone=timezone, owner_id=owner_id, date_from=start, date_to=end
        )
        attendees = meeting_attendees(session=session, meeting_ids=[m.id for m in items])
    return items, attendees


@app.command("list")
def list_(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", help="Only meetings this rep attends."),
    date_from: str | None = typer.Option(None, "--from", help="From this date (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="Up to this date, inclusive."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Meetings and demos by start time."""
    items, attendees = _meetings(ctx, user, date_from, date_to)
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
                f"{item.starts_at:%Y-%m-%d %H:%M}Z  {item.duration_minutes:>3} min  "
                f"{item.kind:<7}  {item.lead}  {item.name[:24]:<24}  "
                f"{item.owner or '-':<10}  {outcome}"
            )
    if not as_json:
        say_if_empty(len(items), "meetings match")


@app.command("export-ics")
def export_ics(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", help="Only meetings this rep attends."),
    date_from: str | None = typer.Option(None, "--from", help="From this date (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="Up to this date, inclusive."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),
) -> None:
    """Write the meetings as an iCalendar (.ics) file any calendar app opens."""
    from leadms_tui.domain.work.ics import CalendarEvent, render_calendar

    items, attendees = _meetings(ctx, user, date_from, date_to)
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
        try:
            output.write_bytes(data)
        except OSError as exc:  # no such directory, not allowed, a directory
            raise CLIError(f"cannot write {output}: {exc.strerror or exc}") from None
        echo(f"{len(events)} meeting(s) written to {output}", err=True)
