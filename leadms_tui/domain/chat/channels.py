"""What each chat channel allows: one table keyed by the channel (tested complete).

WhatsApp: free text within 24 hours of the person's last message, else an approved template;
bodies up to 4,096 characters. Messenger: 24 hours, or up to 7 days for a message a person
writes, sent with the HUMAN_AGENT tag; text up to 2,000 characters; no templates here.
"""

from dataclasses import dataclass
from datetime import timedelta

from leadms_tui.domain.models import Channel


@dataclass(frozen=True)
class ChatRules:
    window: timedelta  # free text within this of the person's last message
    human_agent: timedelta | None  # a person's reply may go this long after, tagged
    max_text: int  # characters in one text body
    templates: bool  # outside the window an approved template may be sent


CHAT_RULES: dict[Channel, ChatRules] = {
    Channel.WHATSAPP: ChatRules(timedelta(hours=24), None, 4096, templates=True),
    Channel.MESSENGER: ChatRules(timedelta(hours=24), timedelta(days=7), 2000, templates=False),
}
HUMAN_AGENT_TAG = "HUMAN_AGENT"
