"""`leadms people`: a person's data across leads and clients: duplicates, merge, export, erase."""

from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db, save_new

app = typer.Typer(
    help="People and their data: duplicates, merges, export or erase what is held about a person.",
    no_args_is_help=True,
)


@app.command("export")
def export(
    ctx: typer.Context,
    lead: Annotated[str | None, typer.Argument(help="A lead number of the person.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Or: their phone number.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Or: their email address.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip file to write.")] = Path(
        "person.zip"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Everything held about one person (leads, inquiries, replies, calls, notes, meetings,
    field values with their files, sales, the audit events about them) as JSON plus the
    files, in one zip. Managers and admins; the export is audited."""
    from leadms_tui.domain.models import Role
    from leadms_tui.domain.people.export import export_person
    from leadms_tui.domain.people.person import find_person
    from leadms_tui.domain.team.settings import load_settings

    db = open_db(ctx)

    def work(session):
        actor = acting(ctx, session)
        if actor.role == Role.REP.value:
            raise CLIError("only a manager or an admin can export a person's data")
        region = load_settings(session).phone_region
        person = find_person(session, lead_number=lead, phone=phone, email=email, region=region)
        return person, export_person(session, person, actor=actor)

    person, data = db.write(work)
    save_new(output, data, force=force)
    echo(
        f"{output}: {len(person.lead_ids)} lead(s), {len(person.client_ids)} client(s), "
        f"{len(data):,} bytes"
    )


@app.command("duplicates")
def duplicates(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many pairs.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Pairs of leads that are probably one person (same phone, email ignoring case, +tags
    and Gmail dots, chat sender, similar name), best first, each with its reasons.
    Managers and admins."""
    import json

    from leadms_tui.domain.people.duplicates import find_duplicates

    with open_db(ctx).reading() as session:
        _manager(acting(ctx, session))
        pairs = find_duplicates(session, limit=limit)
    for pair in pairs:
        if as_json:
            echo(json.dumps(pair.as_json(), ensure_ascii=False))
        else:
            echo(
                f"{pair.score:4.0%}  {pair.first_number} {pair.first_name[:24]:<24}  "
                f"{pair.second_number} {pair.second_name[:24]:<24}  {'; '.join(pair.reasons)}"
            )
    if not pairs:
        echo("no likely duplicates", err=True)


@app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="A lead of the pair.")],
    second: Annotated[str, typer.Argument(help="The other lead.")],
) -> None:
    """Two people, not one: `people duplicates` proposes this pair no more (audited)."""
    from leadms_tui.domain.people.duplicates import dismiss_pair

    def work(session):
        actor = acting(ctx, session)
        _manager(actor)
        dismiss_pair(session, first, second, actor=actor)

    open_db(ctx).write(work)
    echo(f"{first} and {second}: not proposed again")


def _manager(actor) -> None:  # actor: audit.Actor
    if actor.role == "rep":
        raise CLIError("only a manager or an admin can do this")


@app.command("merge")
def merge(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="A lead of the person (LEAD-A).")],
    second: Annotated[str, typer.Argument(help="Another lead of theirs (LEAD-B).")],
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep",
            help="A or B: the lead that survives (default: one with a client, else the older).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what moves; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The result as one JSON object.")] = False,
) -> None:
    """Merge two leads of one person: every call, note, follow-up, meeting, message, field
    value and sale of the other lead moves to the survivor; the other lead stays, hidden,
    marked merged. Undo with `people unmerge`. Managers and admins; audited."""
    import json

    from leadms_tui.domain.people.merge import default_survivor, merge_leads

    choice = (keep or "").strip().upper()
    if choice not in ("", "A", "B"):
        raise CLIError("--keep takes A (the first lead) or B (the second)")

    def work(session):
        actor = acting(ctx, session)
        _manager(actor)
        if choice:
            survivor = first if choice == "A" else second
        else:
            survivor = default_survivor(session, first, second)
        other = second if survivor.strip().upper() == first.strip().upper() else first
        return merge_leads(session, survivor, other, actor=actor, dry_run=dry_run)

    result = open_db(ctx).write(work)
    if as_json:
        echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    verb = "would move" if dry_run else "moved"
    head = f"{result.merged} into {result.survivor}"
    echo(f"dry run: {head}" if dry_run else f"merge {result.merge_id}: {head}")
    for table, count in sorted(result.moved.items()):
        echo(f"  {verb} {count:>5}  {table}")
    if not result.moved:
        echo(f"  {verb} nothing")
    if result.kept_fields:
        echo(f"  fields both had, survivor's kept: {', '.join(result.kept_fields)}")
    for note in result.notes:
        echo(f"  {note}")
    if not dry_run:
        echo(f"undo with: leadms people unmerge {result.merge_id}")


@app.command("unmerge")
def unmerge(
    ctx: typer.Context,
    merge_id: Annotated[int, typer.Argument(help="The merge's number (`people merge` shows it).")],
) -> None:
    """Undo a merge exactly: the moved rows go back and the merged lead shows again; refused
    when a moved row was deleted or moved elsewhere since. Managers and admins; audited."""
    from leadms_tui.domain.models import Lead
    from leadms_tui.domain.people.merge import unmerge as undo

    def work(session):
        actor = acting(ctx, session)
        _manager(actor)
        merge = undo(session, merge_id, actor=actor)
        return session.get(Lead, merge.merged_id).number, session.get(
            Lead, merge.survivor_id
        ).number

    merged, survivor = open_db(ctx).write(work)
    echo(f"merge {merge_id} undone: {merged} is apart from {survivor} again")


@app.command("erase")
def erase(
    ctx: typer.Context,
    lead: Annotated[str | None, typer.Argument(help="A lead number of the person.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Or: their phone number.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Or: their email address.")] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (the request's reference): kept in the audit.")
    ] = "",
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help="For scripts: the person's lead number, typed."),
    ] = None,
    unpaid_ok: Annotated[
        bool,
        typer.Option("--unpaid-ok", help="Erase even with commission unpaid (amounts stay)."),
    ] = False,
) -> None:
    """Erase a person: names, phones, emails, chat sender ids, messages, notes, field values
    and files go from every table and from the audit trail's kept-apart values; lead
    numbers, statuses, dates, outcomes and amounts stay, so reports still count right.
    Admins only, confirmed by typing a lead number of the person; audited."""
    from leadms_tui.domain.people import erase as erasing
    from leadms_tui.domain.people.person import find_person
    from leadms_tui.domain.team.settings import load_settings

    if not reason.strip():
        raise CLIError("give the reason for the erase: --reason TEXT", exit_code=2)
    db = open_db(ctx)

    def find(session):
        acting(ctx, session, admin=True)
        region = load_settings(session).phone_region
        person = find_person(session, lead_number=lead, phone=phone, email=email, region=region)
        return person, erasing.confirmation_numbers(session, person)

    with db.reading() as session:
        person, numbers = find(session)
    typed = confirm
    if typed is None:
        echo(
            f"This erases the person of {len(numbers)} lead(s) and "
            f"{len(person.client_ids)} client(s) for good: {', '.join(numbers[:5])}"
            + (" …" if len(numbers) > 5 else "")
        )
        typed = typer.prompt(f"Type {numbers[0]} to erase")

    def work(session, unpaid_ok: bool):
        actor = acting(ctx, session, admin=True)
        region = load_settings(session).phone_region
        again = find_person(session, lead_number=lead, phone=phone, email=email, region=region)
        return erasing.erase_person(
            session, again, actor=actor, reason=reason, confirm=typed, unpaid_ok=unpaid_ok
        )

    try:
        erased = db.write(lambda session: work(session, unpaid_ok))
    except erasing.UnpaidCommissionError as exc:
        if confirm is not None:  # a script: the flag is the second confirmation
            raise CLIError(f"{exc} (--unpaid-ok)") from None
        if not typer.confirm(f"{exc}. Erase anyway?", default=False):
            raise CLIError("nothing erased") from None
        erased = db.write(lambda session: work(session, True))
    erasing.compact(db)
    total = sum(v for k, v in erased.counts.items() if k != "audit_events")
    echo(
        f"erased: {', '.join(erased.lead_numbers)}; {total} row(s) cleared, "
        f"{erased.counts.get('audit_events', 0)} audit event(s)' personal values cleared; "
        f"trail sealed (seal {erased.seal_id}) and unchanged"
    )
