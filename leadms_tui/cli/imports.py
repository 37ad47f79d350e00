"""`leadms import`: bring every channel's files in through the intake service.

Exit codes: 0 every row accepted, 1 some rows rejected (see the rejects CSV),
2 unusable input (unreadable file, unknown format).
"""

import json
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="Import leads from channel files.", no_args_is_help=True)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Do everything, then roll back: exact counts.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]
Rejects = Annotated[
    Path | None,
    typer.Option(
        "--rejects", help="Where to write rejected rows (default: <file>.rejects.csv here)."
    ),
]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Rows per committed transaction.")
]
AsUser = Annotated[
    str | None, typer.Option("--as", help="Acting user recorded in the audit trail.")
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The file's text encoding (e.g. cp1251, iso8859_2, shift_jis); detected if not given.",
    ),
]


def _max_bytes(ctx: typer.Context) -> int:
    from leadms_tui.domain.team.settings import load_settings

    with open_db(ctx).reading() as session:
        return load_settings(session).import_max_bytes


def _too_large(what: object, limit: int) -> CLIError:
    return CLIError(
        f"{what} is larger than {limit // 2**20} MB "
        "(raise the limit with `leadms settings set import_max_mb N`)",
        exit_code=2,
    )


def _read(ctx: typer.Context, path: Path) -> bytes:
    """The file's bytes, never more than the import limit (a device such as /dev/zero or a
    FIFO is refused at once, a huge file after reading one byte past the limit)."""
    from leadms_tui.domain.local_files import LocalFileError, TooLargeError, read_regular

    limit = _max_bytes(ctx)
    try:
        return read_regular(path, limit)
    except TooLargeError:
        raise _too_large(path, limit) from None
    except LocalFileError as exc:
        raise CLIError(str(exc), exit_code=2) from None


def _decoded(ctx: typer.Context, path: Path, data: bytes, encoding: str | None) -> Any:
    """How the file's text is read (an `encodings.Decoded`): as given, or detected with the
    team's phone region breaking ties; refused (exit 2, with the guess) when it cannot be told."""
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.intake.parsers.encodings import decode_text
    from leadms_tui.intake.records import UnusableInput

    with open_db(ctx).reading() as session:
        region = load_settings(session).phone_region
    try:
        return decode_text(data, encoding=encoding, region=region)
    except UnusableInput as exc:
        raise CLIError(f"{path}: {exc}", exit_code=2) from None


def _run(
    ctx: typer.Context,
    path: Path,
    parse: Callable[[str], Iterable[Any]],
    *,
    dry_run: bool,
    as_json: bool,
    rejects_path: Path | None,
    batch_size: int,
    as_user: str | None,
    decoded: Any = None,
) -> None:
    """Parse with `parse(timezone)`, import, report, and leave with the right exit code."""
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.intake.importer import run_import, write_rejects
    from leadms_tui.intake.records import UnusableInput

    db = open_db(ctx)
    actor = db.write(lambda session: acting(ctx, session, as_user))
    with db.reading() as session:
        timezone = load_settings(session).timezone
    try:
        items = iter(parse(timezone))
        first = next(items, None)  # unusable input shows up before the first row
    except UnusableInput as exc:
        raise CLIError(f"{path}: {exc}", exit_code=2) from None

    def all_items() -> Iterable[Any]:
        if first is not None:
            yield first
        try:
            yield from items
        except UnusableInput as exc:
            raise CLIError(f"{path}: {exc}", exit_code=2) from None

    with _progress(path.name) as on_row:
        summary = run_import(
            db,
            all_items(),
            source=str(path),
            actor=actor,
            dry_run=dry_run,
            batch_size=batch_size,
            on_row=on_row,
        )
    if summary.rejects:
        target = rejects_path or Path.cwd() / f"{path.name}.rejects.csv"
        write_rejects(target, summary.rejects)
    if as_json:
        shown = summary.as_json()
        if decoded is not None:
            shown["encoding"] = {
                "name": decoded.encoding,
                "how": decoded.how,
                "also_reads_as": list(decoded.others),
            }
        echo(json.dumps(shown, default=str))
    else:
        echo(summary.describe())
        if decoded is not None:
            echo(f"{path.name}: {decoded.describe()}")
        if summary.rejects:
            echo(f"rejected rows written to {target}", err=True)
            for reject in summary.rejects[:10]:
                where = f" ({reject.column})" if reject.column else ""
                echo(f"  row {reject.row}{where}: {reject.reason}", err=True)
            if len(summary.rejects) > 10:
                echo(f"  ... and {len(summary.rejects) - 10} more", err=True)
    if summary.rejected:
        raise typer.Exit(1)


class _progress:
    """A Rich progress line on a terminal; nothing when stderr is piped."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.progress: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed} rows"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.start()
        task = self.progress.add_task(f"importing {self.label}", total=None)
        return lambda rows: self.progress.update(task, completed=rows)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


@app.command("csv")
def import_csv(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV export (website form, form tool, spreadsheet).")
    ],
    channel: Annotated[str, typer.Option("--channel", help="Channel of these leads.")] = "website",
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD (name, first_name, last_name, phone, email, message, "
            "created_at, external_id, ignore, or field:KEY for a lead field); repeatable.",
        ),
    ] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
    rejects: Rejects = None,
    batch_size: BatchSize = 500,
    as_user: AsUser = None,
    encoding: Encoding = None,
) -> None:
    """Import a generic or website-form CSV; headers, delimiter and encoding are detected."""
    from leadms_tui.domain.models import Channel
    from leadms_tui.intake.parsers.csv_leads import parse_csv_leads

    try:
        parsed_channel = Channel(channel.strip().lower())
    except ValueError:
        raise CLIError(f"unknown channel {channel!r}", exit_code=2) from None
    columns = {}
    for item in mapping or []:
        column, sep, field = item.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise CLIError(f"--map {item!r}: use COLUMN=FIELD", exit_code=2)
        if field.strip().startswith("field:") and not field.strip()[6:].strip():
            raise CLIError(f"--map {item!r}: name the lead field, e.g. field:budget", 2)
        columns[column.strip()] = field.strip()
    data = _read(ctx, file)
    decoded = _decoded(ctx, file, data, encoding)
    _run(
        ctx,
        file,
        lambda tz: parse_csv_leads(
            data,
            source_name=file.name,
            channel=parsed_channel,
            mapping=columns or None,
            timezone=tz,
            encoding=decoded.encoding,
        ),
        dry_run=dry_run,
        as_json=as_json,
        rejects_path=rejects,
        batch_size=batch_size,
        as_user=as_user,
        decoded=decoded,
    )


@app.command("meta-leads")
def import_meta_leads(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Meta (Facebook/Instagram) Lead Ads CSV export.")],
    dry_run: DryRun = False,
    as_json: AsJson = False,
    rejects: Rejects = None,
    batch_size: BatchSize = 500,
    as_user: AsUser = None,
    encoding: Encoding = None,
) -> None:
    """Import a Meta Lead Ads export (UTF-16 tab-separated or UTF-8 CSV)."""
    from leadms_tui.intake.parsers.meta_leads import parse_meta_leads

    data = _read(ctx, file)
    decoded = _decoded(ctx, file, data, encoding)
    _run(
        ctx,
        file,
        lambda tz: parse_meta_leads(
            data, source_name=file.name, timezone=tz, encoding=decoded.encoding
        ),
        dry_run=dry_run,
        as_json=as_json,
        rejects_path=rejects,
        batch_size=batch_size,
        as_user=as_user,
        decoded=decoded,
    )


@app.command("whatsapp-chat")
def import_whatsapp_chat(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A WhatsApp 'export chat' .txt file, or its .zip.")],
    business_name: Annotated[
        list[str] | None,
        typer.Option("--business-name", help="Your business's name in the chat (repeatable)."),
    ] = None,
    day_first: Annotated[
        bool | None,
        typer.Option("--day-first/--month-first", help="Date order, when the file cannot tell."),
    ] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
    rejects: Rejects = None,
    batch_size: BatchSize = 500,
    as_user: AsUser = None,
) -> None:
    """Import one exported chat as one lead, its first customer message as the inquiry."""
    from leadms_tui.intake.parsers.whatsapp_chat import parse_whatsapp_chat

    data, name = _read(ctx, file), file.name
    if zipfile.is_zipfile(file):
        data, name = _chat_from_zip(file, _max_bytes(ctx))
    _run(
        ctx,
        file,
        lambda tz: parse_whatsapp_chat(
            data,
            source_name=name,
            business_names=business_name or [],
            day_first=day_first,
            timezone=tz,
        ),
        dry_run=dry_run,
        as_json=as_json,
        rejects_path=rejects,
        batch_size=batch_size,
        as_user=as_user,
    )


def _chat_from_zip(path: Path, limit: int) -> tuple[bytes, str]:
    """The chat inside an exported zip, expanded to at most `limit` bytes (a zip bomb of 1 MB
    that expands to 1 GB is refused, whatever size its header claims)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CLIError(f"{path}: not a readable zip ({exc})", exit_code=2) from None
    with archive:
        texts = [n for n in archive.namelist() if n.lower().endswith(".txt")]
        if len(texts) != 1:
            raise CLIError(f"{path}: expected one chat .txt in the zip, found {len(texts)}", 2)
        name = texts[0]
        if not name.startswith("WhatsApp Chat") and path.stem.startswith("WhatsApp Chat"):
            name = f"{path.stem}.txt"  # iOS zips hold "_chat.txt"; the zip carries the name
        if archive.getinfo(texts[0]).file_size > limit:
            raise _too_large(f"{path}: {texts[0]}", limit)
        with archive.open(texts[0]) as member:
            data = member.read(limit + 1)
        if len(data) > limit:
            raise _too_large(f"{path}: {texts[0]}", limit)
        return data, name


@app.command("payloads")
def import_payloads(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Saved webhook bodies: JSON, JSON array or JSON Lines.")
    ],
    dry_run: DryRun = False,
    as_json: AsJson = False,
    rejects: Rejects = None,
    batch_size: BatchSize = 500,
    as_user: AsUser = None,
) -> None:
    """Import saved WhatsApp Cloud API / Messenger webhook bodies and Lead Ads field_data."""
    from leadms_tui.intake.parsers.webhooks import parse_payload_file

    data = _read(ctx, file)
    _run(
        ctx,
        file,
        lambda _tz: parse_payload_file(data, source_name=file.name),
        dry_run=dry_run,
        as_json=as_json,
        rejects_path=rejects,
        batch_size=batch_size,
        as_user=as_user,
    )
