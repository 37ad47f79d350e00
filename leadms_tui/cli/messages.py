"""`leadms messages`: reply to a WhatsApp or Messenger lead and list its replies, with the
TUI's rules (the window, approved templates, the lead yours to edit). A reply is queued; the
intake service sends it."""

import json
from typing import Annotated, Any

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db, say_if_empty, viewing
from leadms_tui.formatting import instant

app = typer.Typer(help="Reply in the chat (WhatsApp, Messenger).", no_args_is_help=True)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """--param K=V, each once: `1=Bruno` or `first_name=Bruno`."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name = name.strip().strip("{}").strip()
        if not equals or not name:
            raise CLIError(f"--param {pair!r}: write NAME=VALUE, e.g. 1=Bruno", exit_code=2)
        if name in values:
            raise CLIError(f"--param {name} is given twice", exit_code=2)
        values[name] = value
    return values


@app.command("send")
def send(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    text: Annotated[
        str | None, typer.Option("--text", help="Free text (inside the window).")
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="An approved WhatsApp template's name.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="A template parameter, NAME=VALUE (1=Bruno); the others are filled from the "
            "lead as the TUI fills them.",
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="The template's language (en_US) when it has several."),
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="The rep who replies.")] = None,
) -> None:
    """Queue a reply: free text inside the channel's window, else an approved template."""
    from leadms_tui.domain.chat.outbox import send_template, send_text
    from leadms_tui.domain.chat.templates import find_template, suggested_values
    from leadms_tui.domain.models import Lead, User
    from leadms_tui.domain.queries.leads import lead_id_by_number

    if (text is None) == (template is None):
        raise CLIError("give --text or --template (one of them)", exit_code=2)
    if text is not None and (param or language):
        raise CLIError("--param and --language go with --template", exit_code=2)
    values = parse_params(param or [])
    db = open_db(ctx)

    def work(session: Any) -> tuple[str, Any]:
        actor = acting(ctx, session, as_user)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        if text is not None:
            return _number(session, lead_id), send_text(session, lead_id, text, actor=actor)
        assert template is not None
        found = find_template(session, template, language)
        lead = session.get(Lead, lead_id)
        rep = session.get(User, actor.user_id) if actor.user_id is not None else None
        suggested = suggested_values(found, lead, rep)
        unknown = sorted(set(values) - set(suggested))
        if unknown:
            raise CLIError(f"template {found.name!r} has no parameter {{{{{unknown[0]}}}}}")
        filled = {name: value for name, value in suggested.items() if value} | values
        row = send_template(
            session, lead_id, found.name, filled, language=found.language, actor=actor
        )
        return _number(session, lead_id), row

    number, row = db.write(work)
    what = f"template {row.template_name}" if row.template_name else "reply"
    tagged = " (tagged HUMAN_AGENT)" if row.tag else ""
    echo(
        f"{number}: {what} queued as message {row.id} to {row.channel} {row.recipient}{tagged}; "
        "the intake service sends it"
    )


def _number(session: Any, lead_id: int) -> str:
    from leadms_tui.domain.models import Lead

    return session.get(Lead, lead_id).number


@app.command("list")
def list_(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead, e.g. LEAD-20261125-007.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The lead's replies, oldest first, each with its state; a failure with its reason."""
    from sqlalchemy import select

    from leadms_tui.domain.chat.meta_errors import STEP_WORDS, explain
    from leadms_tui.domain.chat.outbox import messages_of
    from leadms_tui.domain.models import MessageState, User
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.domain.team.settings import load_settings
    from leadms_tui.looks import MESSAGE_LOOKS

    with open_db(ctx).reading() as session:
        viewer = viewing(ctx, session)
        lead_id = lead_id_by_number(session=session, number=lead_number)
        rows = messages_of(session, lead_id, viewer=viewer)
        timezone = load_settings(session).timezone
        authors = {i: name for i, name in session.execute(select(User.id, User.username))}
    for row in rows:
        state = MessageState(row.state)
        reason = step = None
        if state == MessageState.FAILED:
            reason, next_step = explain(row.error_code, row.error_title, row.error_detail)
            step = STEP_WORDS[next_step]
        elif state == MessageState.UNCONFIRMED:
            reason, step = "not confirmed: it may have arrived", "retry only if it did not"
        if as_json:
            echo(json.dumps(_as_json(row, authors, reason, step), ensure_ascii=False))
            continue
        what = f"[{row.template_name}] " if row.template_name else ""
        author = authors.get(row.created_by_id, "-")
        echo(
            f"{instant(row.created_at, timezone)}  #{row.id}  {MESSAGE_LOOKS[state].words:<15}  "
            f"{author:<10}  {what}{' '.join(row.body.split())[:80]}"
        )
        if reason:
            echo(f"    {reason.rstrip('.')}; next: {step}")
    if not as_json:
        say_if_empty(len(rows), "replies on this lead")


def _as_json(
    row: Any, authors: dict[int, str], reason: str | None, step: str | None
) -> dict[str, Any]:
    stamps = ("created_at", "sent_at", "delivered_at", "read_at", "failed_at")
    return {
        "id": row.id,
        "channel": row.channel,
        "recipient": row.recipient,
        "kind": row.kind,
        "state": row.state,
        "body": row.body,
        "template": row.template_name,
        "language": row.template_language,
        "parameters": row.parameters,
        "tag": row.tag,
        "attempts": row.attempt,
        "by": authors.get(row.created_by_id),
        "error_code": row.error_code,
        "reason": reason,
        "next_step": step,
    } | {stamp: (getattr(row, stamp).isoformat() if getattr(row, stamp) else None)
         for stamp in stamps}  # fmt: skip
