"""`leadms fields` and `leadms files`: admins define lead, client and meeting fields; anyone
saves a stored file to disk."""

import json
from pathlib import Path

import typer

from leadms_tui.cli.common import acting, echo, open_db, save_new, viewing, write_stdout

app = typer.Typer(
    help="Define dynamic fields of leads, clients and meetings.", no_args_is_help=True
)
files_app = typer.Typer(help="Files of image and document fields.", no_args_is_help=True)
AsJson = typer.Option(False, "--json", help="JSON output.")


def _options(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


@app.command("add")
def add(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="lead, client or meeting (demo)."),
    key: str = typer.Argument(..., help="The field's key: lowercase letters, digits, _."),
    kind: str = typer.Option(
        ...,
        "--type",
        help="text, long_text, integer, decimal, money, "
        "date, datetime, yes_no, choice, multi_choice, link, email, "
        "phone, image, document.",
    ),
    label: str | None = typer.Option(None, "--label", help="What forms call it."),
    options: str | None = typer.Option(None, "--options", help="Choices: a,b,c."),
    required: bool = typer.Option(False, "--required", help="Forms insist on a value."),
    default: str | None = typer.Option(None, "--default", help="Value forms start with."),
    help_text: str | None = typer.Option(None, "--help-text", help="A hint shown in forms."),
    section: str | None = typer.Option(None, "--section", help="Form section (Details)."),
) -> None:
    """Add a field (admins); it appears in forms, details and filters at once."""
    from leadms_tui.domain.fields.definitions import add_field, parse_entity, parse_kind
    from leadms_tui.domain.fields.values import context

    def work(session):
        return add_field(
            session,
            parse_entity(entity),
            key,
            parse_kind(kind),
            label=label,
            options=_options(options),
            required=required,
            default=default,
            help_text=help_text,
            section=section,
            actor=acting(ctx, session, admin=True),
            ctx=context(session),
        )

    field = open_db(ctx).write(work)
    echo(f"{field.entity.value} field {field.key} ({field.kind.value}) added: {field.label}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="lead, client or meeting."),
    key: str = typer.Argument(..., help="The field's key."),
    label: str | None = typer.Option(None, "--label"),
    kind: str | None = typer.Option(None, "--type", help="Change the type (values convert)."),
    options: str | None = typer.Option(None, "--options", help="The full list of choices."),
    required: bool | None = typer.Option(None, "--required/--optional"),
    default: str | None = typer.Option(None, "--default", help="'' clears it."),
    help_text: str | None = typer.Option(None, "--help-text"),
    section: str | None = typer.Option(None, "--section"),
) -> None:
    """Change a field; refused when a stored value would not convert or an option is used."""
    from leadms_tui.domain.fields.definitions import edit_field, parse_entity, parse_kind
    from leadms_tui.domain.fields.values import context

    def work(session):
        return edit_field(
            session,
            parse_entity(entity),
            key,
            label=label,
            kind=parse_kind(kind) if kind else None,
            options=_options(options),
            required=required,
            default=default,
            help_text=help_text,
            section=section,
            actor=acting(ctx, session, admin=True),
            ctx=context(session),
        )

    field = open_db(ctx).write(work)
    echo(f"{field.entity.value} field {field.key} saved ({field.kind.value})")


@app.command("list")
def list_(
    ctx: typer.Context,
    entity: str | None = typer.Option(None, "--entity", help="lead, client or meeting."),
    retired: bool = typer.Option(False, "--retired", help="Include retired fields."),
    as_json: bool = AsJson,
) -> None:
    """The fields, in form order."""
    from leadms_tui.domain.fields.definitions import list_fields, parse_entity

    with open_db(ctx).reading() as session:
        found = list_fields(
            session, parse_entity(entity) if entity else None, include_retired=retired
        )
    if as_json:
        echo(json.dumps([f.as_json() for f in found], indent=2, ensure_ascii=False))
        return
    if not found:
        echo("no fields defined")
    for f in found:
        flags = " required" if f.required else ""
        flags += "" if f.active else " retired"
        choices = f" [{', '.join(f.options)}]" if f.options else ""
        echo(f"{f.entity.value:<8} {f.key:<20} {f.kind.value:<12} {f.label}{choices}{flags}")


@app.command("retire")
def retire(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="lead, client or meeting."),
    key: str = typer.Argument(..., help="The field's key."),
    restore: bool = typer.Option(False, "--restore", help="Bring a retired field back."),
) -> None:
    """Hide a field from forms and lists; its values and history stay."""
    from leadms_tui.domain import clock
    from leadms_tui.domain.fields.definitions import parse_entity, retire_field

    open_db(ctx).write(
        lambda session: retire_field(
            session,
            parse_entity(entity),
            key,
            actor=acting(ctx, session, admin=True),
            now=clock.now(),
            restore=restore,
        )
    )
    echo(f"{key} {'restored' if restore else 'retired'}")


@files_app.command("get")
def get(
    ctx: typer.Context,
    file_id: int = typer.Argument(..., help="The file's id (leads show --json lists it)."),
    output: str = typer.Option(..., "-o", "--output", help="Where to save it; - for stdout."),
    force: bool = typer.Option(False, "--force", help="Replace a file already at the path."),
) -> None:
    """Save a stored file to a new path (an existing one only with --force), or to stdout."""
    from leadms_tui.domain.fields.files import read_file

    with open_db(ctx).reading() as session:
        info, content = read_file(session, file_id, viewing(ctx, session))
    if output == "-":
        write_stdout(content)
        return
    save_new(Path(output), content, force=force)
    echo(f"saved {info.size} bytes ({info.mime_type}) to {output}")
