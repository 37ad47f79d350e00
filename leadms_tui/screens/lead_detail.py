"""Everything about one lead: contact, status, owner, its fields, repeat links, the chat
conversation of a WhatsApp or Messenger lead (`w` replies) and a timeline."""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Static

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.chat.channels import CHAT_RULES
from leadms_tui.domain.chat.outbox import Conversation, conversation, retry
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import LeadMSError, PermissionDeniedError
from leadms_tui.domain.models import Channel, FieldEntity, MessageState, PhoneFlag
from leadms_tui.domain.queries.lead_detail import LeadDetail, load_lead_detail, words
from leadms_tui.domain.text import visible
from leadms_tui.domain.work.response_clock import clock_view
from leadms_tui.screens import goto
from leadms_tui.screens.base import LeadScreen
from leadms_tui.screens.field_files import FILE_BINDINGS, OpensFiles
from leadms_tui.widgets.chat_thread import ChatThread
from leadms_tui.widgets.clock_history import clock_history
from leadms_tui.widgets.field_view import FieldsPanel, LoadedFields, load_fields
from leadms_tui.widgets.fitted import Fitted
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

_FIRST_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="leadms-detail")
KIND_STYLE = {
    "inquiry": "cyan",
    "call": "green",
    "followup": "yellow",
    "meeting": "magenta",
    "phone": "blue",
    "change": "dim",
}


Loaded = tuple[LeadDetail, LoadedFields, Conversation | None]
WINDOW_TICK_SECONDS = 30  # the window's time left, recounted without reading the database


class LeadDetailScreen(OpensFiles, LeadScreen):
    HELP_NAME = "Lead detail"
    LIVE_TABLES = frozenset(
        {
            "leads",
            "calls",
            "follow_ups",
            "meetings",
            "inquiries",
            "field_values",
            "clients",
            "users",
            "outbound_messages",
            "phone_calls",
        }
    )
    DEFAULT_CSS = """
    LeadDetailScreen #contact-pane { width: 38; border: round $panel; height: 1fr; }
    LeadDetailScreen #contact { padding: 0 1; height: 1fr; }
    LeadDetailScreen #contact-pane.-fields #contact { height: auto; }
    LeadDetailScreen FieldsPanel { padding: 0 1; margin-top: 1; }
    LeadDetailScreen #right { width: 1fr; }
    LeadDetailScreen #related { height: auto; max-height: 7; border: round $panel; }
    LeadDetailScreen #timeline { height: 1fr; border: round $panel; }
    LeadDetailScreen #thread { height: 1fr; }
    LeadDetailScreen DataTable { border-title-color: $text; }
    LeadDetailScreen DataTable:focus { border: round $accent; border-title-color: $text-accent; }
    """
    BINDINGS = [
        Binding("e", "edit", "Edit", id="detail.edit"),
        Binding("enter", "open_related", "Open repeat", show=False, id="detail.open-related"),
        Binding("r", "reload", "Refresh", id="detail.refresh"),
        Binding("w", "reply", "Reply", id="detail.reply"),
        Binding("ctrl+r", "retry", "Retry message", id="detail.retry"),
        *FILE_BINDINGS,
    ]

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.detail: LeadDetail | None = None
        self.fields = LoadedFields()
        self.conversation: Conversation | None = None
        # Read the lead while Textual composes and mounts this screen, not after: the
        # first load waits for this read instead of starting its own.
        self._first_read: Future[Loaded] | None = None
        try:
            signed_in = self.signed_in  # made in a key handler: the app is running
        except RuntimeError:  # NoActiveAppError: outside an app, read on mount
            return
        self._first_read = _FIRST_READS.submit(self._read, signed_in.database, signed_in.actor)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with VerticalScroll(id="contact-pane", can_focus=False):
                yield Fitted("Loading…", id="contact")
                yield FieldsPanel()
            with Vertical(id="right"):
                related = TextTable(id="related", cursor_type="row")
                related.border_title = "Same person"
                related.add_columns("Lead", "Name", "Channel", "Status", "Owner", "Created")
                yield related
                thread = ChatThread(id="thread")
                thread.display = False  # a chat lead's, once loaded
                yield thread
                timeline = TextTable(id="timeline", cursor_type="row", zebra_stripes=True)
                timeline.border_title = "Timeline (newest first)"
                timeline.add_columns("When", "What")
                yield timeline
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#timeline", DataTable).focus()
        self.set_interval(WINDOW_TICK_SECONDS, self._tick_window)

    def _tick_window(self) -> None:
        if self.conversation is not None:
            self.query_one(ChatThread).show_window(clock.now())

    def reload(self) -> None:
        first_read, self._first_read = self._first_read, None
        database, viewer = self.signed_in.database, self.signed_in.actor

        def read() -> Loaded:
            if first_read is not None:
                return first_read.result()
            return self._read(database, viewer)

        self.in_thread(
            read, self._show, group="lead-detail", description="Loading the lead",
            exclusive=True, refused=self._refused,
            refuses=PermissionDeniedError,  # reps_see own: someone else's lead
        )  # fmt: skip

    def action_reload(self) -> None:
        self.reload()

    def _refused(self, reason: LeadMSError) -> None:
        self.notify(str(reason), title="Not yours", severity="error", timeout=8)
        if self.is_current:
            self.app.pop_screen()

    def _read(self, database: Database, viewer: Actor) -> Loaded:
        with database.reading() as session:
            detail = load_lead_detail(session=session, lead_id=self.lead_id, viewer=viewer)
            detail = replace(detail, clock=clock_view(session, self.lead_id))
            fields = load_fields(session, FieldEntity.LEAD, self.lead_id, viewer)
            chat = None
            if Channel(detail.lead.channel) in CHAT_RULES:
                chat = conversation(session, self.lead_id, viewer=viewer)
            return detail, fields, chat

    def _show(self, loaded: Loaded) -> None:
        detail, fields, chat = loaded
        self.detail = detail
        self.fields = fields
        self.conversation = chat
        self.query_one(FieldsPanel).show(fields)
        pane = self.query_one("#contact-pane")
        pane.set_class(bool(fields.fields), "-fields")
        pane.can_focus = bool(fields.fields)  # to scroll through them
        lead = detail.lead
        tz = self.signed_in.settings.timezone
        today = clock.business_date(clock.now(), tz)
        shown = formatting.shown
        phone = shown(formatting.phone(lead.phone_e164) or lead.phone_raw or "—")
        if lead.phone_flag == PhoneFlag.UNUSABLE:
            phone = Text.assemble(shown(lead.phone_raw or ""), (" (unreadable)", "red"))
        elif lead.phone_flag == PhoneFlag.NOT_VALID:
            phone.append(" (unverified)", style="dim")
        status = Text(words(lead.status), style="bold")
        if lead.lost_reason:
            status.append_text(Text.assemble(" — ", shown(lead.lost_reason)))
        contact = Text.assemble((lead.number, "bold"))
        if detail.client_number:
            contact.append(f"  Client {detail.client_number}", style="bold green")
        contact.append_text(Text.assemble("\n", shown(lead.name, style="bold")))
        if detail.repeat_of:
            contact.append_text(
                Text.assemble(
                    "\n", ("Repeat", "bold yellow"), f" of {detail.repeat_of}",
                    f" (#{lead.repeat_count + 1})",
                )
            )  # fmt: skip
        # who wrote, on a chat channel (Messenger PSID, WhatsApp id): what a reply goes to
        sender = Text.assemble("\nSender   ", shown(lead.external_id)) if lead.external_id else ""
        contact.append_text(
            Text.assemble(
                "\n\nPhone    ", phone,
                "\nEmail    ", shown(lead.email or "—"),
                "\nChannel  ", lead.channel, sender,
                "\nStatus   ", status,
                "\nOwner    ", shown(detail.owner or "unassigned"),
                f"\nCreated  {formatting.when(lead.created_at, tz, today)}",
                f"\nUpdated  {formatting.when(lead.updated_at, tz, today)}\n\n",
                *((clock_history(detail.clock, tz, today), "\n\n") if detail.clock else ()),
                ("First message", "dim"), "\n", shown(lead.first_message or "—"),
            )
        )  # fmt: skip
        self.query_one("#contact", Static).update(contact)
        self.sub_title = visible(f"{lead.number} · {lead.name}")

        related = self.query_one("#related", TextTable)
        related.refill(
            [
                (
                    str(other.id),
                    (
                        other.number,
                        other.name,
                        words(other.channel),
                        words(other.status),
                        other.owner or "unassigned",
                        formatting.when(other.created_at, tz, today),
                    ),
                )
                for other in detail.related
            ]
        )
        related.display = bool(detail.related)

        timeline = self.query_one("#timeline", TextTable)
        timeline.border_subtitle = f"times in {tz}"
        entries = []
        for index, entry in enumerate(detail.timeline):
            what = formatting.shown(entry.title, style=KIND_STYLE.get(entry.kind, ""))
            details = [visible(entry.detail)] if entry.detail else []
            if entry.about is not None:
                details.insert(0, f"{entry.about_label} {formatting.when(entry.about, tz, today)}")
            if details:
                what.append(" — " + " ".join(details), style="default")
            # keyed from the oldest: a new entry on top leaves the others' keys (and the
            # cursor on the entry it was on) as they were
            key = str(len(detail.timeline) - index)
            entries.append((key, (formatting.when(entry.at, tz, today), what)))
        timeline.refill(entries)
        thread = self.query_one(ChatThread)
        thread.display = chat is not None
        if chat is not None:
            thread.show(chat, lead.name, tz, today)
            thread.show_window(clock.now())
        self.refresh_bindings()

    def current_lead(self) -> tuple[int, str] | None:
        if self.detail is None:
            return None
        return self.lead_id, f"{self.detail.lead.number} {self.detail.lead.name}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return self.detail is not None or None
        if action == "convert":  # a converted lead shows its client instead
            return (self.detail is not None and not self.detail.client_number) or None
        if action in ("open_file", "save_file"):
            return self.has_files()  # False: out of the footer while there is no file
        if action == "open_related":
            return isinstance(self.focused, DataTable) and self.focused.id == "related"
        if action == "reply":
            if self.detail is None or Channel(self.detail.lead.channel) not in CHAT_RULES:
                return False  # not a chat lead: no such key here
            return self._reply_refusal() is None or None
        if action == "retry":
            return self.conversation is not None and self._retriable() is not None
        return super().check_action(action, parameters)

    def why_not(self, action: str) -> str | None:
        if action == "reply":
            return self._reply_refusal()
        if action == "retry":
            return "Move to a failed or unconfirmed message in the conversation"
        return super().why_not(action)

    def _reply_refusal(self) -> str | None:
        """Why no reply can be written to this lead now (None: it can)."""
        if self.conversation is None:
            return "Not a WhatsApp or Messenger lead: call instead"
        window = self.conversation.window
        if window is None:
            return "This lead has no WhatsApp or Messenger sender to reply to: call instead"
        if not window.open(clock.now()) and not window.templates:
            allowed = formatting.span(CHAT_RULES[window.channel].human_agent or timedelta(0))
            return f"Messenger's {allowed} since their last message are over: call instead"
        return None

    def _retriable(self) -> int | None:
        item = self.query_one(ChatThread).retriable()
        return item.message_id if item is not None else None

    def action_reply(self) -> None:
        if self.detail is not None and self._reply_refusal() is None:
            label = f"{self.detail.lead.number} {self.detail.lead.name}"
            self.go(goto.Compose(self.lead_id, label, then=lambda _sent: self.reload()))

    def action_retry(self) -> None:
        item = self.query_one(ChatThread).retriable()
        if item is None or item.message_id is None:
            return
        message_id = item.message_id
        if item.state == MessageState.UNCONFIRMED and not self.asked_once(
            f"retry:{message_id}",
            "Not confirmed: it may have reached them already. ctrl+r again sends it again.",
        ):
            return
        actor = self.signed_in.actor
        self.commit(
            lambda session: retry(session, message_id, actor=actor),
            lambda _row: self.notify("Queued again: the service sends it", title="Retry"),
            group="retry", description="Sending the message again",
            refused=lambda exc: self.notify(str(exc), title="Not sent", severity="error"),
        )  # fmt: skip

    def action_edit(self) -> None:
        if self.detail is not None:
            edit = goto.EditLead(self.detail.lead, self.fields.fields, lambda _saved: self.reload())
            self.go(edit)

    @on(DataTable.RowSelected, "#related")
    def _related_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.go(goto.OpenLead(int(event.row_key.value)))

    def action_open_related(self) -> None:
        related = self.query_one("#related", DataTable)
        if related.row_count:
            key = related.coordinate_to_cell_key((related.cursor_row, 0)).row_key.value
            if key:
                self.go(goto.OpenLead(int(key)))
