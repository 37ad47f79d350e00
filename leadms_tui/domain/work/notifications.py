"""In-app notifications: what rules and escalations tell a user, shown by the TUI."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.models import Lead, Notification


@dataclass(frozen=True)
class NotificationItem:
    id: int
    message: str
    lead_id: int | None
    lead_number: str | None
    created_at: datetime
    read_at: datetime | None = None


def _items() -> Select:
    """A user's notifications as NotificationItem rows, with the lead's number."""
    return select(
        Notification.id,
        Notification.message,
        Notification.lead_id,
        Lead.number,
        Notification.created_at,
        Notification.read_at,
    ).outerjoin(Lead, Lead.id == Notification.lead_id)


def unread_notifications(
    *, session: Session, user_id: int, after_id: int = 0, limit: int = 20
) -> list[NotificationItem]:
    """Unread notifications newer than `after_id` (the last one already shown as a toast)."""
    rows = session.execute(
        _items()
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.id > after_id,
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return [NotificationItem(*row) for row in rows]


def inbox(*, session: Session, user_id: int, limit: int = 200) -> list[NotificationItem]:
    """A user's notifications, unread first, newest first within each."""
    rows = session.execute(
        _items()
        .where(Notification.user_id == user_id)
        .order_by(Notification.read_at.is_not(None), Notification.id.desc())
        .limit(limit)
    )
    return [NotificationItem(*row) for row in rows]


def mark_read(session: Session, user_id: int, ids: list[int], now: datetime | None = None) -> None:
    """A user's own notifications only; reading one is not an audited business write."""
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.id.in_(ids))
        .values(read_at=clock.as_utc(now or clock.now()))
    )
