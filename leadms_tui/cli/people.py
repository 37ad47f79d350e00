"""`leadms people`: a person's data across leads and clients (export)."""

from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db, save_new

app = typer.Typer(
    help="People and their data: export everything held about a person.", no_args_is_help=True
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
