"""`w` on a WhatsApp or Messenger lead: write a reply. Inside the channel's window, free text
(ctrl+o inserts a quick reply); once it closed on WhatsApp, only an approved template, its
parameters prefilled from the lead and editable, with a preview of what the person reads.
The reply is queued for the intake service, which sends it: nothing here talks to Meta."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.chat.outbox import Window, chat_window, send_template, send_text
from leadms_tui.domain.chat.templates import (
    expand_quick_reply,
    fill_template,
    list_quick_replies,
    list_templates,
    pickable_templates,
    placeholders,
    split_body,
    suggested_values,
)
from leadms_tui.domain.errors import NotFoundError, ValidationError
from leadms_tui.domain.leads.checks import check_may_read
from leadms_tui.domain.models import (
    Channel,
    Lead,
    MessageTemplate,
    OutboundMessage,
    TemplateStatus,
    User,
)
from leadms_tui.domain.team.language import detect_language
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter

WINDOW_TICK_SECONDS = 30
WriteReply = Callable[[Session], OutboundMessage]
CHANNEL_NAMES = {Channel.WHATSAPP: "WhatsApp", Channel.MESSENGER: "Messenger"}


class Mode(StrEnum):
    LOADING = "loading"
    TEXT = "text"  # the window is open: free text
    TEMPLATE = "template"  # an approved WhatsApp template (the only way once the window closed)
    NONE = "none"  # closed and no templates on this channel: call instead


@dataclass(frozen=True)
class TemplateChoice:
    template: MessageTemplate
    suggested: dict[str, str]  # each placeholder prefilled from the lead and the rep

    @property
    def pickable(self) -> bool:
        return self.template.status == TemplateStatus.APPROVED


@dataclass(frozen=True)
class ComposeData:
    window: Window | None
    templates: list[TemplateChoice]  # approved ones (the lead's language first), then the rest
    quick_replies: list[tuple[str, str]]  # (title, text filled in for this lead)


def compose_data(session: Session, lead_id: int, actor: Actor) -> ComposeData:
    """What the composer offers on this lead now."""
    check_may_read(session, actor, lead_id)
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead with id {lead_id}")
    rep = session.get(User, actor.user_id) if actor.user_id is not None else None
    window = chat_window(session, lead)
    templates: list[TemplateChoice] = []
    if window is not None and window.templates:
        approved = pickable_templates(session, detect_language(lead.first_message))
        others = [t for t in list_templates(session) if t.status != TemplateStatus.APPROVED]
        templates = [TemplateChoice(t, suggested_values(t, lead, rep)) for t in approved + others]
    quick = [(q.title, expand_quick_reply(q.body, lead, rep)) for q in list_quick_replies(session)]
    return ComposeData(window, templates, quick)


class ComposeModal(WithApp, ModalScreen[bool]):
    HELP_NAME = "Reply"
    DEFAULT_CSS = """
    ComposeModal { align: center middle; }
    ComposeModal > Vertical { width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    ComposeModal .hint { width: 1fr; color: $text-muted; }
    ComposeModal #compose-window { width: 1fr; color: $text-accent; }
    ComposeModal #compose-status { width: 1fr; height: auto; color: $error; }
    ComposeModal #text-pane, ComposeModal #template-pane { height: auto; }
    ComposeModal #compose-text { height: 7; }
    ComposeModal #quick-replies, ComposeModal #templates { height: auto; max-height: 6; }
    ComposeModal #params { height: auto; }
    ComposeModal .form-row { height: 1; }
    ComposeModal .form-row > Label { width: 16; color: $text-muted; }
    ComposeModal .form-row > Input { width: 1fr; }
    ComposeModal #preview { height: auto; max-height: 8; border: round $panel; padding: 0 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", key_display="^s", id="compose.send", priority=True),
        Binding("ctrl+o", "quick_reply", "Quick reply", id="compose.quick-reply", priority=True),
        Binding("ctrl+t", "switch", "Template / text", id="compose.switch", priority=True),
        Binding("escape", "cancel", "Cancel", id="compose.cancel"),
    ]

    def __init__(self, lead_id: int, label: str) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self.data: ComposeData | None = None
        self.mode = Mode.LOADING
        self._picked: int | None = None  # the index of the template shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(formatting.titled("Reply", self.label))
            yield Label("Loading…", id="compose-window", markup=False)
            yield Label("", id="compose-status", markup=False)
            with Vertical(id="text-pane"):
                yield TextArea(id="compose-text", soft_wrap=True, tab_behavior="focus")
                quick = OptionList(id="quick-replies")
                quick.border_title = "Quick replies (enter inserts, escape closes)"
                quick.display = False
                yield quick
                yield Label(
                    "ctrl+s sends (enter is a new line); ctrl+o inserts a quick reply",
                    classes="hint",
                )
            with Vertical(id="template-pane"):
                yield OptionList(id="templates")
                yield Vertical(id="params")
                yield Label("What they will read", classes="hint")
                yield Static("", id="preview")
        yield KeyFooter()

    def on_mount(self) -> None:
        for pane in ("#text-pane", "#template-pane"):
            self.query_one(pane).display = False
        actor = self.signed_in.actor
        self.load(
            lambda session: compose_data(session, self.lead_id, actor), self._loaded,
            group="compose", description="Loading the conversation's window",
        )  # fmt: skip
        self.set_interval(WINDOW_TICK_SECONDS, self._show_window)

    def _loaded(self, data: ComposeData) -> None:
        self.data = data
        window, now = data.window, clock.now()
        templates = self.query_one("#templates", OptionList)
        templates.add_options(
            Option(_template_line(choice), id=str(index), disabled=not choice.pickable)
            for index, choice in enumerate(data.templates)
        )
        self.query_one("#quick-replies", OptionList).add_options(
            Option(Text.assemble(formatting.shown(title, style="bold"), " — ",
                                 formatting.shown(body)), id=str(index))
            for index, (title, body) in enumerate(data.quick_replies)
        )  # fmt: skip
        if window is not None and window.open(now):
            self._set_mode(Mode.TEXT)
        elif window is not None and window.templates:
            self._set_mode(Mode.TEMPLATE)
        else:
            self._set_mode(Mode.NONE)
        self._show_window()

    def _show_window(self) -> None:
        if self.data is None:
            return
        window, now = self.data.window, clock.now()
        channel = CHANNEL_NAMES[window.channel] if window else "Chat"
        words = formatting.window_words(window, now)
        if self.mode == Mode.TEMPLATE and window is not None and window.free_text(now):
            words += " (a template may be sent anyway)"
        self.query_one("#compose-window", Label).update(Text.assemble(channel, " · ", words))

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.query_one("#text-pane").display = mode == Mode.TEXT
        self.query_one("#template-pane").display = mode == Mode.TEMPLATE
        self.say("")
        if mode == Mode.TEXT:
            self.query_one("#compose-text", TextArea).focus()
        elif mode == Mode.TEMPLATE:
            templates = self.query_one("#templates", OptionList)
            templates.focus()
            first = next(
                (i for i, c in enumerate(self.data.templates if self.data else []) if c.pickable),
                None,
            )
            if first is None:
                self.say("No approved template to send: an admin runs `leadms templates sync`")
            elif templates.highlighted is None:
                templates.highlighted = first
        else:
            self.say("Nothing can reach them by chat now: call instead")
        self._show_window()
        self.refresh_bindings()

    def say(self, words: str) -> None:
        """The line under the window: why a send was refused (said literally)."""
        self.query_one("#compose-status", Label).update(formatting.shown(words))

    # --- templates ---------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#templates")
    async def _template_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.data is None or event.option.id is None:
            return
        index = int(event.option.id)
        if index == self._picked:
            return
        self._picked = index
        choice = self.data.templates[index]
        params = self.query_one("#params", Vertical)
        await params.remove_children()
        await params.mount_all(
            Horizontal(
                Label(f"{{{{{name}}}}}"),
                Input(choice.suggested.get(name, ""), id=f"param-{n}", compact=True),
                classes="form-row",
            )
            for n, name in enumerate(placeholders(choice.template.body))
        )
        self._preview()

    def _choice(self) -> TemplateChoice | None:
        if self.data is None or self._picked is None:
            return None
        return self.data.templates[self._picked]

    def _values(self, choice: TemplateChoice) -> dict[str, str]:
        names = placeholders(choice.template.body)
        return {
            name: self.query_one(f"#param-{n}", Input).value
            for n, name in enumerate(names)
            if self.query(f"#param-{n}")
        }

    @on(Input.Changed, "#params Input")
    def _preview(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        values = self._values(choice)
        missing = self.app.get_css_variables().get("error", "red")
        preview = Text()
        for piece, name in split_body(choice.template.body):
            if name is None:
                preview.append_text(formatting.shown(piece))
                continue
            value = " ".join((values.get(name) or "").split())
            if value:
                preview.append_text(formatting.shown(value, style="bold"))
            else:
                preview.append(f"{{{{{name}}}}}", style=f"bold {missing}")
        self.query_one("#preview", Static).update(preview)
        self.say("")

    @on(Input.Submitted, "#params Input")
    def _submitted(self) -> None:
        self.action_send()

    # --- quick replies -----------------------------------------------------------------

    @on(OptionList.OptionSelected, "#quick-replies")
    def _quick_reply_picked(self, event: OptionList.OptionSelected) -> None:
        if self.data is None or event.option.id is None:
            return
        _title, body = self.data.quick_replies[int(event.option.id)]
        text = self.query_one("#compose-text", TextArea)
        text.insert(body)
        self._close_quick_replies()

    def _close_quick_replies(self) -> None:
        self.query_one("#quick-replies").display = False
        self.query_one("#compose-text", TextArea).focus()

    # --- keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quick_reply":
            return self.mode == Mode.TEXT
        if action == "switch":
            window = self.data.window if self.data else None
            return bool(window and window.templates and window.open(clock.now()))
        if action == "send":
            return self.mode in (Mode.TEXT, Mode.TEMPLATE) or None
        return True

    def action_quick_reply(self) -> None:
        quick = self.query_one("#quick-replies", OptionList)
        if not quick.option_count:
            self.say("No quick replies yet: an admin adds them in Settings → Quick replies")
            return
        quick.display = True
        quick.highlighted = quick.highlighted or 0
        quick.focus()

    def action_switch(self) -> None:
        self._set_mode(Mode.TEMPLATE if self.mode == Mode.TEXT else Mode.TEXT)

    def action_send(self) -> None:
        actor, lead_id = self.signed_in.actor, self.lead_id
        if self.mode == Mode.TEXT:
            body = self.query_one("#compose-text", TextArea).text
            if not body.strip():
                self.say("Write the message first")
                return
            self._queue(lambda session: send_text(session, lead_id, body, actor=actor))
            return
        choice = self._choice()
        if self.mode != Mode.TEMPLATE or choice is None:
            return
        values = self._values(choice)
        try:
            fill_template(choice.template, values)  # a missing parameter is named here
        except ValidationError as exc:
            self.say(str(exc))
            return
        name, language = choice.template.name, choice.template.language
        self._queue(
            lambda session: send_template(
                session, lead_id, name, values, language=language, actor=actor
            )
        )

    def _queue(self, write: WriteReply) -> None:
        self.say("Queuing…")
        self.commit(
            write, lambda _row: self._queued(),
            group="compose-send", description="Queuing the reply",
            refused=lambda exc: self.say(str(exc)),
        )  # fmt: skip

    def _queued(self) -> None:
        self.app.notify(
            formatting.titled("Reply queued", self.label, ": the service sends it"), title="Reply"
        )
        self.dismiss(True)

    def action_cancel(self) -> None:
        if self.query_one("#quick-replies").display:
            self._close_quick_replies()
            return
        self.dismiss(False)


def _template_line(choice: TemplateChoice) -> Text:
    template = choice.template
    line = Text.assemble(
        formatting.shown(template.name, style="bold"),
        "  ",
        formatting.shown(f"{template.language} · {template.category.lower()}"),
    )
    if not choice.pickable:
        line.append(f"  {template.status.lower()}: cannot be sent", style="dim")
        line.stylize("dim")
    return line
