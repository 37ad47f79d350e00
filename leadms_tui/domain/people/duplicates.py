"""The duplicate finder: pairs of leads that are probably one person but that repeat detection
did not link (it links only the same E.164 phone or the same email, exactly).

Each lead counts as its person's first lead (`repeat_of_id`, else itself). Candidates come
from blocks, never from comparing every lead with every other: the same phone, the same
normalized email (case, plus-tags, Gmail's dots and googlemail.com), the same channel sender
id, and names that fold to the same sorted words or share a rare surname. A pair's score adds
what it shares (each with its reason); names are compared with rapidfuzz. A pair a person
dismissed is not proposed again.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlmodel import Session, col

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.models import DuplicateDismissal, Lead, fold

WEIGHTS = {"phone": 0.6, "sender": 0.6, "email": 0.5}
NAME_WEIGHT = 0.4  # times the similarity (0..1): a name alone is a weak sign
MIN_NAME_SIMILARITY = 85  # rapidfuzz token_sort_ratio, 0..100
MAX_BLOCK = 50  # a block bigger than this (a common name) is too weak to pair everyone in it
GMAIL = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class DuplicatePair:
    first_id: int  # the older first lead of the two people
    second_id: int
    first_number: str
    second_number: str
    first_name: str
    second_name: str
    score: float  # 0..1
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "first": self.first_number,
            "second": self.second_number,
            "first_name": self.first_name,
            "second_name": self.second_name,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class PairLead:
    """One side of a pair as the duplicates screen shows it."""

    id: int
    number: str
    name: str
    phone: str | None  # E.164 when it read as a phone, else as given
    email: str | None


@dataclass(frozen=True)
class DuplicateRow:
    pair: DuplicatePair
    first: PairLead
    second: PairLead


def check_manages_people(actor: audit.Actor) -> None:
    """Finding, dismissing and merging duplicates is for managers and admins."""
    if actor.is_rep:
        raise PermissionDeniedError("only a manager or an admin can find and merge duplicates")


def duplicate_page(
    session: Session, *, viewer: audit.Actor, offset: int = 0, limit: int = 50
) -> tuple[list[DuplicateRow], bool]:
    """Pairs `offset` .. `offset + limit` of the finder's ranking, each lead with its phone and
    email; True when more pairs follow."""
    check_manages_people(viewer)
    pairs = find_duplicates(session, limit=offset + limit + 1)
    more = len(pairs) > offset + limit
    pairs = pairs[offset : offset + limit]
    ids = {i for p in pairs for i in (p.first_id, p.second_id)}
    leads = {
        row[0]: PairLead(row[0], row[1], row[2], row[3] or row[4], row[5])
        for row in session.execute(
            select(Lead.id, Lead.number, Lead.name, Lead.phone_e164, Lead.phone_raw, Lead.email)
            .where(col(Lead.id).in_(ids))
        )
    } if ids else {}  # fmt: skip
    rows = [DuplicateRow(p, leads[p.first_id], leads[p.second_id]) for p in pairs]
    return rows, more


def normalized_email(email: str | None) -> str | None:
    """'Ana.Lima+promo@GoogleMail.com' → 'analima@gmail.com'; plus-tags dropped everywhere."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), GMAIL[0]
    return f"{local}@{domain}" if local else None


@dataclass
class _Person:
    lead_id: int
    number: str
    name: str
    folded: str


def find_duplicates(
    session: Session, *, limit: int = 50, min_score: float = 0.3
) -> list[DuplicatePair]:
    """The likeliest duplicate pairs, best first."""
    people: dict[int, _Person] = {}
    blocks: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    rows = session.execute(
        select(Lead.id, Lead.repeat_of_id, Lead.number, Lead.name, Lead.phone_e164, Lead.email,
               Lead.channel, Lead.external_id)
        .where(col(Lead.merged_into_id).is_(None))  # one person already
        .order_by(Lead.id)
    )  # fmt: skip
    for lead_id, repeat_of, number, name, phone, email, channel, sender in rows:
        root = repeat_of or lead_id
        if root not in people:
            folded = fold(name or "")
            people[root] = _Person(root, number, name, folded)
            for key in _name_keys(folded):
                blocks["name"][key].add(root)
        if phone:
            blocks["phone"][phone].add(root)
        if email_key := normalized_email(email):
            blocks["email"][email_key].add(root)
        if sender:
            blocks["sender"][f"{channel}:{sender}"].add(root)
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for kind in ("phone", "email", "sender", "name"):
        for members in blocks[kind].values():
            if len(members) < 2 or len(members) > MAX_BLOCK:
                continue
            for pair in combinations(sorted(members), 2):
                shared[pair].add(kind)
    dismissed = set(
        session.execute(
            select(DuplicateDismissal.first_lead_id, DuplicateDismissal.second_lead_id)
        ).tuples()
    )
    pairs = []
    for (a, b), kinds in shared.items():
        if (a, b) in dismissed:
            continue
        first, second = people[a], people[b]
        score, reasons = _score(first, second, kinds)
        if score >= min_score:
            pairs.append(DuplicatePair(a, b, first.number, second.number, first.name,
                                       second.name, score, reasons))  # fmt: skip
    pairs.sort(key=lambda p: (-p.score, p.first_id, p.second_id))
    return pairs[:limit]


def _name_keys(folded: str) -> Iterable[str]:
    words = [w for w in folded.split() if len(w) > 1]
    if not words:
        return []
    keys = [" ".join(sorted(words))]  # the same words in any order
    if len(words) > 1:
        keys.append(f"~{words[0][:1]} {words[-1]}")  # first initial and surname
    return keys


def _score(first: _Person, second: _Person, kinds: set[str]) -> tuple[float, tuple[str, ...]]:
    reasons = []
    score = 0.0
    words = {"phone": "same phone", "email": "same email (ignoring case, +tags, Gmail dots)",
             "sender": "same chat sender"}  # fmt: skip
    for kind in ("phone", "sender", "email"):
        if kind in kinds:
            score += WEIGHTS[kind]
            reasons.append(words[kind])
    similarity = fuzz.token_sort_ratio(first.folded, second.folded)
    if similarity >= MIN_NAME_SIMILARITY:
        score += NAME_WEIGHT * similarity / 100
        reasons.append("same name" if similarity == 100 else f"similar name ({similarity:.0f}%)")
    elif not (kinds - {"name"}):
        return 0.0, ()  # only a block of names, not similar enough
    return min(score, 1.0), tuple(reasons)


def dismiss_pair(
    session: Session,
    first_number: str,
    second_number: str,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> None:
    """Two people, not one: the finder proposes this pair no more (audited)."""
    check_manages_people(actor)
    at = clock.as_utc(now or clock.now())
    ids = []
    for number in (first_number, second_number):
        row = session.execute(
            select(Lead.id, Lead.repeat_of_id).where(Lead.number == number.strip().upper())
        ).first()
        if row is None:
            raise NotFoundError(f"no lead {number!r}")
        ids.append(row[1] or row[0])
    if ids[0] == ids[1]:
        raise ValidationError("those leads are already one person (repeats of one lead)")
    first, second = sorted(ids)
    exists = session.execute(
        select(DuplicateDismissal.id).where(
            DuplicateDismissal.first_lead_id == first, DuplicateDismissal.second_lead_id == second
        )
    ).first()
    if exists:
        return
    row = DuplicateDismissal(first_lead_id=first, second_lead_id=second,
                             dismissed_by_id=actor.user_id, dismissed_at=at)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record_row(session, actor, "duplicate.dismiss", row, at=at)
