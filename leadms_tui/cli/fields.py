"""`leadms fields` and `leadms files`: admins define lead, client and meeting fields; anyone
saves a stored file to disk."""

import json
from pathlib import Path
from typing import Annotated

import typer

from leadms_tui.cli.common import acting, echo, open_db, save_new, viewing, write_stdout
from leadms_tui.domain.models import FieldKind

app = typer.Typer(
    help="Define dynamic fields of leads, clients and meetings.", no_args_is_help=True
)
files_app = typer.Typer(help="Files of image and document fields.", no_args_is_help=True)
AsJson = Annotated[bool, typer.Option("--json", help="JSON output.")]


TYPES = ", ".join(FieldKind)  # the types of `domain/fields/kinds.KINDS` (a test checks)


def _kind(text: str) -> FieldKind:
    """--type as the domain reads it ("long text" too), refused in its one-line error."""
    from leadms_tui.domain.fields.definitions import parse_kind

    return parse_kind(text)


def _new_kind(text: str) -> FieldKind | None:
    return _kind(text) if text else None  # --type "": the type stays


def _options(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


@app.command("add")
def add(
    ctx: typer.Context,
    entity: Annotated[str, typer.Argument(help="lead, client or meeting (demo).")],
    key: Annotated[str, typer.Argument(help="The field's key: lowercase letters, digits, _.")],
    kind: Annotated[
        FieldKind, typer.Option("--type", help=f"{TYPES}.", parser=_kind, metavar="<str>")
    ],
    label: Annotated[str | None, typer.Option("--label", help="What forms call it.")] = None,
    options: Annotated[str | None, typer.Option("--options", help="Choices: a,b,c.")] = None,
    required: Annotated[bool, typer.Option("--required", help="Forms insist on a value.")] = False,
    default: Annotated[
        str | None, typer.Option("--default", help="Value forms start with.")
    ] = None,
    help_text: Annotated[
        str | None, typer.Option("--help-text", help="A hint shown in forms.")
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Form section (Details).")
    ] = None,
) -> None:
    """Add a field (admins); it appears in forms, details and filters at once."""
    from leadms_tui.domain.fields.definitions import add_field, parse_entity
    from leadms_tui.domain.fields.values import context

    def work(session):
        return add_field(
            session,
            parse_entity(entity),
            key,
            kind,
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
    entity: Annotated[str, typer.Argument(help="lead, client or meeting.")],
    key: Annotated[str, typer.Argument(help="The field's key.")],
    label: Annotated[str | None, typer.Option("--label")] = None,
    kind: Annotated[
        FieldKind | None,
        typer.Option(
            "--type", help="Change the type (values convert).", parser=_new_kind, metavar="<str>"
        ),
    ] = None,
    options: Annotated[
        str | None, typer.Option("--options", help="The full list of choices.")
    ] = None,
    required: Annotated[bool | None, typer.Option("--required/--optional")] = None,
    default: Annotated[str | None, typer.Option("--default", help="'' clears it.")] = None,
    help_text: Annotated[str | None, typer.Option("--help-text")] = None,
    section: Annotated[str | None, typer.Option("--section")] = None,
) -> None:
    """Change a field; refused when a stored value would not convert or an option is used."""
    from leadms_tui.domain.fields.definitions import edit_field, parse_entity
    from leadms_tui.domain.fields.values import context

    def work(session):
        return edit_field(
            session,
            parse_entity(entity),
            key,
            label=label,
            kind=kind,
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
    entity: Annotated[str | None, typer.Option("--entity", help="lead, client or meeting.")] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired fields.")] = False,
    as_json: AsJson = False,
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
    entity: Annotated[str, typer.Argument(help="lead, client or meeting.")],
    key: Annotated[str, typer.Argument(help="The field's key.")],
    restore: Annotated[bool, typer.Option("--restore", help="Bring a retired field back.")] = False,
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
    file_id: Annotated[int, typer.Argument(help="The file's id (leads show --json lists it).")],
    output: Annotated[str, typer.Option("-o", "--output", help="Where to save it; - for stdout.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file already at the path.")
    ] = False,
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
