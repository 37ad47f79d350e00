"""The settings' Chat tab: the team's quick replies, which admins add, change and delete
here, and WhatsApp's message templates as `leadms templates sync` last read them from Meta
(read-only: they are made and approved in Meta's WhatsApp Manager)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, TextArea

from leadms_tui import formatting
from leadms_tui.domain import clock
from leadms_tui.domain.chat.templates import (
    MAX_QUICK_REPLY,
    delete_quick_reply,
    list_quick_replies,
    list_templates,
    save_quick_reply,
)
from leadms_tui.domain.models import MessageTemplate, QuickReply, Role, TemplateStatus
from leadms_tui.screens.settings.form import FormModal, entry, row
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.key_footer import KeyFooter
from leadms_tui.widgets.text_table import TextTable

STATUS_STYLE = {
    TemplateStatus.APPROVED: "green",
    TemplateStatus.PENDING: "yellow",
    TemplateStatus.REJECTED: "red",
    TemplateStatus.PAUSED: "red",
    TemplateStatus.DISABLED: "dim",
}


class ChatTab(Vertical):
    """Quick replies above (the keys act on them), the message templates below (tab)."""

    def compose(self) -> ComposeResult:
        yield QuickRepliesPanel()
        yield TemplatesPanel()

    def reload(self) -> None:
        self.query_one(QuickRepliesPanel).reload()
        self.query_one(TemplatesPanel).reload()


class TemplatesPanel(WithApp, Vertical):
    """WhatsApp's message templates, read-only; a rejected or paused one cannot be sent."""

    DEFAULT_CSS = """
    TemplatesPanel { height: 1fr; }
    TemplatesPanel #message-templates { height: 1fr; border: round $panel; }
    TemplatesPanel #message-templates:focus { border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        table = TextTable(id="message-templates", cursor_type="row", zebra_stripes=True)
        table.border_title = "WhatsApp message templates"
        for label in ("Name", "Language", "Category", "Status", "Text"):
            table.add_column(label)
        yield table

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.load(
            list_templates, self._loaded,
            group="settings-templates", description="Loading the message templates",
        )  # fmt: skip

    def _loaded(self, templates: list[MessageTemplate]) -> None:
        table = self.query_one("#message-templates", TextTable)
        table.refill(
            [
                (
                    str(t.id),
                    (
                        t.name,
                        t.language,
                        t.category.lower(),
                        formatting.shown(t.status.lower(), style=STATUS_STYLE[t.status]),
                        " ".join(t.body.split()),
                    ),
                )
                for t in templates
            ]
        )
        synced = max((t.synced_at for t in templates), default=None)
        tz = self.signed_in.settings.timezone
        table.border_title = (
            "WhatsApp message templates: none yet, `leadms templates sync` reads them from Meta"
            if not templates
            else "WhatsApp message templates (read-only: `leadms templates sync` reads them)"
        )
        table.border_subtitle = (
            f"synced {formatting.when(synced, tz, clock.business_date(clock.now(), tz))}"
            if synced
            else ""
        )


class QuickRepliesPanel(WithApp, Vertical):
    """Short texts reps insert in a reply (ctrl+o), with {first_name}-style variables."""

    DEFAULT_CSS = """
    QuickRepliesPanel { height: 1fr; }
    QuickRepliesPanel #quick-replies { height: 1fr; border: round $panel; }
    QuickRepliesPanel #quick-replies:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("a", "add_reply", "Add", id="settings.quick.add"),
        Binding("e,enter", "edit_reply", "Edit", key_display="e", id="settings.quick.edit"),
        Binding("delete,x", "delete_reply", "Delete", key_display="del/x",
                id="settings.quick.delete"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.replies: dict[str, QuickReply] = {}

    def compose(self) -> ComposeResult:
        table = TextTable(id="quick-replies", cursor_type="row", zebra_stripes=True)
        table.border_title = "Quick replies"
        table.border_subtitle = "{first_name} {name} {number} {rep} are filled in"
        table.add_column("Title")
        table.add_column("Text")
        yield table

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.load(
            list_quick_replies, self._loaded,
            group="settings-quick-replies", description="Loading the quick replies",
        )  # fmt: skip

    def _loaded(self, replies: list[QuickReply]) -> None:
        self.replies = {str(r.id): r for r in replies}
        table = self.query_one("#quick-replies", TextTable)
        table.refill([(str(r.id), (r.title, " ".join(r.body.split()))) for r in replies])
        table.border_title = "Quick replies" if replies else "Quick replies: none yet, a adds one"
        self.screen.refresh_bindings()

    def current(self) -> QuickReply | None:
        return self.replies.get(self.query_one("#quick-replies", TextTable).key_at_cursor() or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        admin = self.signed_in.user.role == Role.ADMIN
        if action == "add_reply":
            return admin or None
        if action in ("edit_reply", "delete_reply"):
            return (admin and self.current() is not None) or None
        return True

    def why_not(self, action: str) -> str | None:
        if self.signed_in.user.role != Role.ADMIN:
            return "Only an admin changes the quick replies"
        if action in ("edit_reply", "delete_reply"):
            return "No quick reply under the cursor"
        return None

    def _saved(self, reply: QuickReply | None) -> None:
        if reply is not None:
            self.app.notify(formatting.titled("Quick reply saved", reply.title), title="Saved")
            self.reload()
        self.query_one("#quick-replies", DataTable).focus()

    def action_add_reply(self) -> None:
        self.app.push_screen(QuickReplyModal(None), self._saved)

    def action_edit_reply(self) -> None:
        reply = self.current()
        if reply is not None:
            self.app.push_screen(QuickReplyModal(reply), self._saved)

    def action_delete_reply(self) -> None:
        reply = self.current()
        if reply is None or reply.id is None:
            return
        if not self.asked_once(f"delete:{reply.id}", "Press again to delete this quick reply"):
            return
        reply_id, title, actor = reply.id, reply.title, self.signed_in.actor
        self.commit(
            lambda session: delete_quick_reply(session, reply_id, actor=actor),
            lambda _: self._deleted(title),
            group="settings-quick-delete", description="Deleting the quick reply",
        )  # fmt: skip

    def _deleted(self, title: str) -> None:
        self.app.notify(formatting.titled("Quick reply deleted", title), title="Deleted")
        self.reload()


class QuickReplyModal(FormModal[QuickReply | None]):
    """A new quick reply, or a change to one (checked by the domain: title unique, lengths)."""

    HELP_NAME = "Quick reply"
    DEFAULT_CSS = """
    QuickReplyModal #quick-body { height: 6; }
    """

    def __init__(self, reply: QuickReply | None) -> None:
        super().__init__()
        self.reply = reply

    def compose(self) -> ComposeResult:
        heading = "Change the quick reply" if self.reply else "New quick reply"
        with Vertical():
            yield Label(Text.assemble((heading, "bold"), " (ctrl+s saves, escape cancels)"))
            yield row("Title", entry(self.reply.title if self.reply else "", "quick-title"))
            yield Label(
                f"Text, up to {MAX_QUICK_REPLY} characters; {{first_name}}, {{name}}, "
                "{number} and {rep} are filled in for the lead",
                classes="form-note",
                markup=False,
            )
            yield TextArea(self.reply.body if self.reply else "", id="quick-body")
            yield Label("", id="form-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#quick-title", Input).focus()

    def action_save(self) -> None:
        title, body = self.value("quick-title"), self.query_one("#quick-body", TextArea).text
        actor, reply = self.signed_in.actor, self.reply
        reply_id = reply.id if reply else None
        version = reply.version if reply else None
        self.write(
            lambda session: save_quick_reply(
                session, title, body, actor=actor, reply_id=reply_id, version=version
            )
        )
