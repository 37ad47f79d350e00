"""`leadms leads`: add, list and convert leads."""

import json
from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import (
    CLIError,
    acting,
    day_option,
    echo,
    open_db,
    save_new,
    say_if_empty,
    spreadsheet_cell,
    viewing,
    write_stdout,
)
from leadms_tui.domain.models import Channel, LeadStatus

app = typer.Typer(help="Add, list and convert leads.", no_args_is_help=True)

CHANNELS = "whatsapp, messenger, website, meta_ads, walk_in, phone, email, other"


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The lead's name.")],
    *,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone in any format.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email address.")] = None,
    channel: Annotated[str, typer.Option("--channel", help=f"One of: {CHANNELS}.")],
    message: Annotated[str | None, typer.Option("--message", help="First message or note.")] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Acting user (a rep owns the lead).")
    ] = None,
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
    day: Annotated[
        str | None, typer.Option("--date", help="Only leads of this business date.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many leads.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line (JSON Lines).")
    ] = False,
):
    """Every matching lead in number order, streamed (no silent cap)."""
    from leadms_tui.domain.queries.leads import iter_leads

    shown = 0
    with open_db(ctx).reading() as session:
        business_day = day_option(session, day, "--date", historic=True)
        viewer = viewing(ctx, session)
        for row in iter_leads(session=session, viewer=viewer, day=business_day, limit=limit):
            shown += 1
            if as_json:
                echo(json.dumps(row.as_json(), ensure_ascii=False))
            else:
                repeat = f"repeat of {row.repeat_of}" if row.repeat_of else ""
                phone = row.phone_e164 or row.phone_raw or ""
                echo(
                    f"{row.number}  {row.name[:28]:<28}  {phone:<16}  {row.channel:<9}"
                    f"  {row.status:<17}  {row.owner or '-':<10}  {repeat}"
                )
    if not as_json:
        say_if_empty(shown, "leads match" if day else "leads yet")


@app.command()
def convert(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    value: Annotated[
        str, typer.Option("--value", help="Deal value (team currency), e.g. 1234.50.")
    ],
    product: Annotated[str | None, typer.Option("--plan", help="The plan or product sold.")] = None,
    commission_plan: Annotated[
        str | None,
        typer.Option(
            "--commission-plan", help="Commission plan by name (default: by product, else default)."
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template", help="Onboarding template by name, or 'none' (default: the default)."
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split", help="Commission shares OWNER/CLOSER, e.g. 60/40 (lead owner / you)."
        ),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="The rep who closed the deal.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Convert a lead into a sale of a client: commission and onboarding tasks in one go."""
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead

    request = ConversionRequest(
        value=value,
        product=product,
        commission_plan=commission_plan,
        template=template,
        split=split,
    )

    def work(session):
        actor = acting(ctx, session, as_user)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        return convert_lead(session, lead_id, request, actor=actor)

    result = open_db(ctx).write(work)
    if as_json:
        echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    _print_conversion(result)


def _print_conversion(result) -> None:  # result: Conversion
    from leadms_tui.domain.sales.money import format_money

    currency = result.currency
    kind = "new client" if result.new_client else "existing client"
    echo(f"{result.lead_number}: won; {kind} {result.client_number} {result.client_name}")
    echo(f"sale #{result.sale_id}: {format_money(result.value, currency)}  {result.product or '-'}")
    if result.commission_plan is None:
        echo("commission: none (no commission plan)")
    else:
        total = format_money(result.commission_total, currency)
        rate = result.commission_rate
        terms = f", {rate.normalize():f}% of the value" if rate is not None else ""
        echo(f"commission: {total} (plan {result.commission_plan}{terms})")
    for line in result.commissions:
        share = f"{line.share.normalize():f}%"
        echo(f"  {line.username:<16} {share:>7}  {format_money(line.amount, currency):>16}")
    if not result.tasks:
        echo("onboarding: none")
        return
    echo("onboarding:")
    for task in result.tasks:
        echo(f"  {task.due_on.isoformat()}  {task.title[:40]:<40}  {task.owner or '-'}")


@app.command()
def unconvert(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The converted lead.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is reversed (kept in the trail).")
    ],
    as_user: Annotated[
        str | None, typer.Option("--as", help="The manager who reverses it.")
    ] = None,
) -> None:
    """Reverse a lead's conversion (managers): commission void, open onboarding cancelled."""
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.sales.conversion import reverse_conversion, sale_of_lead

    def work(session):
        actor = acting(ctx, session, as_user)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        sale = reverse_conversion(
            session, sale_of_lead(session, lead_id), reason=reason, actor=actor
        )
        return sale.id, str(sale.previous_status)

    sale_id, status = open_db(ctx).write(work)
    echo(
        f"{lead_number.strip().upper()}: sale #{sale_id} reversed; the lead is {status} again, "
        "its commission void and its open onboarding cancelled"
    )


@app.command("set")
def set_fields(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    assignments: Annotated[
        list[str],
        typer.Argument(help="KEY=VALUE for each lead field; KEY=@path for a file; KEY= clears it."),
    ],
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (admins).")] = None,
) -> None:
    """Set dynamic fields of a lead: all valid, or nothing is written."""
    from leadms_tui.domain.fields import files
    from leadms_tui.domain.fields.definitions import list_fields
    from leadms_tui.domain.fields.kinds import FILE_KINDS, Upload
    from leadms_tui.domain.fields.values import set_fields as set_values
    from leadms_tui.domain.local_files import read_regular
    from leadms_tui.domain.models import FieldEntity
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.settings import load_settings

    raw: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"{item!r}: use KEY=VALUE (KEY=@path for a file)", exit_code=2)
        raw[key.strip().lower()] = value

    def work(session):
        actor = acting(ctx, session, as_user)
        kinds_by_key = {f.key: f.kind for f in list_fields(session, FieldEntity.LEAD)}
        limit = load_settings(session).file_max_bytes
        values: dict[str, object] = {}
        for key, value in raw.items():
            if kinds_by_key.get(key) in FILE_KINDS and value.startswith("@"):
                path = Path(value[1:]).expanduser()
                data = read_regular(path, limit)
                mime = files.check_file(data, path.name, kinds_by_key[key], max_bytes=limit)
                values[key] = Upload(files.store_file(session, data, mime).id, path.name)
            else:
                values[key] = value
        lead_id = lead_id_by_number(session=session, number=lead_number)
        return set_values(session, FieldEntity.LEAD, lead_id, values, actor=actor)  # type: ignore[arg-type]

    shown = open_db(ctx).write(work)
    changed = [f for f in shown if f.key in raw]
    echo(", ".join(f"{f.field.label} = {f.text or '(blank)'}" for f in changed))


@app.command("show")
def show(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output, fields typed.")] = False,
) -> None:
    """A lead with its fields (files as id, name, type, size and sha256)."""
    from leadms_tui.domain.fields.values import values_for
    from leadms_tui.domain.leads.checks import check_may_read
    from leadms_tui.domain.models import FieldEntity
    from leadms_tui.domain.queries.leads import lead_id_by_number, lead_row
    from leadms_tui.domain.work.response_clock import clock_view

    with open_db(ctx).reading() as session:
        lead_id = lead_id_by_number(session=session, number=lead_number)
        check_may_read(session, viewing(ctx, session), lead_id)
        row = lead_row(session=session, lead_id=lead_id)
        fields = values_for(session, FieldEntity.LEAD, [lead_id])[lead_id]
        response = clock_view(session, lead_id)
    if as_json:
        data = {
            **row.as_json(),
            "fields": {f.key: f.value for f in fields},
            "clock": response.as_json() if response else None,
        }
        echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    echo(f"{row.number}  {row.name}  {row.phone}  {row.email or ''}  {row.status}")
    for f in fields:
        echo(f"  {f.field.label}: {f.text}")
    if response is not None:
        echo(f"  response clock: {_clock_summary(response)}")


@app.command("clock")
def clock_history(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """A lead's response clock: when it started, paused, resumed, each ladder step, the touch."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.work.response_clock import clock_view

    with open_db(ctx).reading() as session:
        lead_id = lead_id_by_number(session=session, number=lead_number)
        view = clock_view(session, lead_id)
        timezone = load_settings(session).timezone
    if view is None:
        raise CLIError(f"{lead_number.strip().upper()} has no response clock (taken in before)")
    if as_json:
        echo(json.dumps(view.as_json(), indent=2))
        return
    echo(f"{view.lead_number}: {_clock_summary(view)}")
    for event in view.events:
        local = clock.local(event.at, timezone)
        echo(f"  {local:%a %d %b %H:%M}  {event.minute:>4}m  {event.what}")


def _clock_summary(view) -> str:  # view: ClockView
    if view.state == "touched":
        summary = f"touched by {view.touched_by} after {view.minutes_used} business minutes"
    elif view.minutes_left > 0:
        summary = f"running: {view.minutes_left}m left of {view.target_minutes}"
    else:
        summary = f"over by {-view.minutes_left}m (target {view.target_minutes})"
    return summary + ("; flagged: no eligible rep" if view.flagged else "")


@app.command("export")
def export(
    ctx: typer.Context,
    search: Annotated[
        str, typer.Option("--search", help="Name, number, phone or email, as the list searches.")
    ] = "",
    status: Annotated[LeadStatus | None, typer.Option("--status", help="Only this status.")] = None,
    channel: Annotated[Channel | None, typer.Option("--channel", help="Only this channel.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this rep's leads.")] = None,
    unassigned: Annotated[
        bool, typer.Option("--unassigned", help="Only leads with no owner.")
    ] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Business date from (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Business date to (YYYY-MM-DD).")
    ] = None,
    repeats: Annotated[bool, typer.Option("--repeats", help="Only repeats.")] = False,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", help="A field filter: plan=Gold, budget>=1000, notes~roof (repeatable)."
        ),
    ] = None,
    saved: Annotated[
        str | None,
        typer.Option(
            "--filter", help="A filter you saved in the lead list (ctrl+s), instead of the above."
        ),
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV with a header row (the default).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, fields typed.")] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here, not stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """The leads the list's filters match, newest first, with every dynamic lead field as a
    column (CSV) or typed (JSON Lines): a list to take away. Only leads you may open.
    `--filter NAME`: the search and filters you saved in the lead list under NAME."""
    import csv
    import io

    from leadms_tui.domain.fields.values import FieldFilter
    from leadms_tui.domain.queries.leads import LeadFilter, export_leads
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.domain.team.users import get_user

    if as_csv and as_json:
        raise CLIError("give --csv or --json, not both", exit_code=2)
    narrowed = search or status or channel or owner or unassigned or date_from or date_to
    if saved is not None and (narrowed or repeats or field):
        raise CLIError("--filter is a saved filter as it is: leave out the other filters",
                       exit_code=2)  # fmt: skip
    buffer = io.StringIO()
    count = 0
    with open_db(ctx).reading() as session:
        viewer = viewing(ctx, session)
        where = (
            _saved_filter(ctx, session, saved)
            if saved is not None
            else LeadFilter(
                text=search,
                status=status.value if status else None,
                channel=channel.value if channel else None,
                owner_id=get_user(session, owner).id if owner else None,
                unassigned=unassigned,
                date_from=day_option(session, date_from, "--from", historic=True),
                date_to=day_option(session, date_to, "--to", historic=True),
                repeats_only=repeats,
                fields=tuple(FieldFilter.parse(text) for text in field or []),
            )
        )
        rows = export_leads(session=session, where=where, viewer=viewer,
                            phone_region=load_settings(session).phone_region)  # fmt: skip
        writer = None
        for row, fields in rows:
            count += 1
            if as_json:
                record = {**row.as_json(), "fields": {f.key: f.value for f in fields}}
                buffer.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                continue
            if writer is None:
                writer = csv.writer(buffer)
                writer.writerow([*_EXPORT_COLUMNS, *(f.key for f in fields)])
            writer.writerow([
                row.number, spreadsheet_cell(row.name), row.phone,
                spreadsheet_cell(row.email or ""), row.channel, row.status,
                row.owner or "", row.repeat_of or "", row.created_at.isoformat(),
                *(spreadsheet_cell(_csv_value(f.value)) for f in fields),
            ])  # fmt: skip
    data = buffer.getvalue()
    if output is None:
        write_stdout(data.encode())
    else:
        save_new(output, data.encode(), force=force)
        echo(f"{output}: {count:,} lead(s)", err=True)
    say_if_empty(count, "leads match")


def _saved_filter(ctx: typer.Context, session, name: str):  # -> LeadFilter
    """The signed-in user's saved filter `name`, its dates read today."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.leads.saved_filters import saved_filter
    from leadms_tui.domain.team.settings import load_settings

    actor = acting(ctx, session)
    if actor.user_id is None:
        raise CLIError("saved filters belong to a user: sign in with `leadms login`")
    found = saved_filter(session=session, user_id=actor.user_id, name=name)
    today = clock.business_date(clock.now(), load_settings(session).timezone)
    return found.criteria.lead_filter(today)


_EXPORT_COLUMNS = ("number", "name", "phone", "email", "channel", "status", "owner",
                   "repeat_of", "created_at")  # fmt: skip


def _csv_value(value: object) -> str:
    """A field's typed value as a spreadsheet reads it: 1500 (not 1,500), ISO dates, choices
    joined by "; ", a file by its name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_csv_value(item) for item in value)
    if isinstance(value, dict):
        return str(value.get("name") or "")  # a file: its name (the zip of `people export` has it)
    return str(value)
