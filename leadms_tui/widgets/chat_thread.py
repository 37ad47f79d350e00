"""A chat lead's conversation: the person's messages and our replies in order, each reply with
its state (✓ sent, ✓✓ delivered, ✓✓ read, failed with the reason and what to do next), the
reply window in the border. Rows are options: the highlighted reply is the one `ctrl+r` retries."""

from datetime import date, datetime

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from leadms_tui import formatting
from leadms_tui.domain.chat.meta_errors import STEP_WORDS
from leadms_tui.domain.chat.outbox import Conversation, ThreadItem
from leadms_tui.domain.models import MessageState
from leadms_tui.looks import MESSAGE_LOOKS, theme_style

RETRIED = frozenset({MessageState.FAILED, MessageState.UNCONFIRMED})


def item_text(
    item: ThreadItem, who: str, timezone: str, today: date, colours: dict[str, str]
) -> Text:
    """One message: when, who, the text (data, shown literally), and a reply's state."""
    when = formatting.when(item.at, timezone, today)
    if item.inbound:
        line = Text.assemble((f"{when} ", "dim"), formatting.shown(who, style="bold"), ": ")
        line.append_text(formatting.shown(item.text))
        return line
    line = Text.assemble((f"{when} ", "dim"), formatting.shown(item.author or "we", style="bold"))
    if item.template:
        line.append_text(Text.assemble(" [", formatting.shown(item.template), "]"))
    line.append(": ")
    line.append_text(formatting.shown(item.text))
    if item.state is not None:
        look = MESSAGE_LOOKS[item.state]
        line.append(f"  {look.words}", style=theme_style(look.style, colours))
    if item.reason:
        error = colours.get("error", "") if item.state == MessageState.FAILED else ""
        line.append_text(Text.assemble("\n  ", formatting.shown(item.reason, style=error)))
    if item.next_step is not None:
        line.append(f"\n  next: {STEP_WORDS[item.next_step]}", style="italic")
    return line


class ChatThread(OptionList):
    """The conversation of one lead, oldest first; kept on its message across live reloads."""

    DEFAULT_CSS = """
    ChatThread { height: 1fr; border: round $panel; border-title-color: $text; }
    ChatThread:focus { border: round $accent; border-title-color: $text-accent; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.conversation: Conversation | None = None
        self.border_title = "Conversation"

    def show(self, conversation: Conversation, who: str, timezone: str, today: date) -> None:
        """Show `conversation` (`who`: the person's name), the highlight kept on its message."""
        kept = self.highlighted_option.id if self.highlighted_option else None
        at_end = self.highlighted is None or self.highlighted >= self.option_count - 1
        self.conversation = conversation
        self.border_subtitle = "w reply · ctrl+r retries a failed one"
        colours = self.app.get_css_variables()
        self.clear_options()
        self.add_options(
            Option(item_text(item, who, timezone, today, colours), id=_key(index, item))
            for index, item in enumerate(conversation.items)
        )
        if not conversation.items:
            return
        ids = [_key(index, item) for index, item in enumerate(conversation.items)]
        self.highlighted = ids.index(kept) if kept in ids and not at_end else len(ids) - 1
        self.scroll_to_highlight()

    def show_window(self, at: datetime) -> None:
        """The border's window words, for the time `at` (the window ticks without a reload)."""
        if self.conversation is not None:
            self.border_title = "Conversation · " + formatting.window_words(
                self.conversation.window, at
            )

    def current(self) -> ThreadItem | None:
        """The message under the highlight."""
        if self.conversation is None or self.highlighted is None:
            return None
        items = self.conversation.items
        return items[self.highlighted] if self.highlighted < len(items) else None

    def retriable(self) -> ThreadItem | None:
        """The highlighted reply, when it failed or was never confirmed."""
        item = self.current()
        return item if item is not None and item.state in RETRIED else None


def _key(index: int, item: ThreadItem) -> str:
    if item.message_id is not None:
        return f"out-{item.message_id}"
    return f"in-{item.at.timestamp()}-{index}"
