"""Runs a parsed source through the intake service and counts what became of each row."""

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from leadms_tui import collector
from leadms_tui.domain import audit
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.leads.bulk_intake import RowOutcome, take_in_many
from leadms_tui.domain.leads.intake import LeadCreate
from leadms_tui.domain.local_files import write_new
from leadms_tui.intake.records import LeadRecord, ParsedItem, RejectedRow


@dataclass
class ImportSummary:
    source: str
    read: int = 0  # records and rejected rows seen
    created: int = 0  # new leads
    repeats: int = 0  # of the new leads, those linked to an earlier lead
    appended: int = 0  # new inquiries on a sender's open lead
    skipped: int = 0  # already imported (same delivery or row seen before)
    rejected: int = 0
    dry_run: bool = False
    seconds: float = 0.0
    rejects: list[RejectedRow] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["rejects"] = [asdict(r) for r in self.rejects]
        data["rows_per_second"] = round(self.rows_per_second, 1)
        data["seconds"] = round(self.seconds, 3)
        return data

    def describe(self) -> str:
        mode = " (dry run: nothing was written)" if self.dry_run else ""
        return (
            f"{self.source}: read {self.read}, created {self.created} "
            f"({self.repeats} linked as repeats), appended {self.appended} to open leads, "
            f"skipped {self.skipped} already imported, rejected {self.rejected}{mode}"
        )


def to_lead_create(record: LeadRecord) -> LeadCreate:
    return LeadCreate(
        name=record.name or "",
        channel=record.channel,
        phone=record.phone,
        email=record.email,
        message=record.message,
        external_id=record.external_id,
        dedupe_key=record.dedupe_key,
        received_at=record.received_at,
        payload_ref=record.payload_ref,
        attributes=record.attributes,
        fields=record.fields,
    )


def run_import(
    db: Database,
    items: Iterable[ParsedItem],
    *,
    source: str,
    actor: audit.Actor,
    dry_run: bool = False,
    batch_size: int = 500,
    on_row: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Take in every record of `items`; parser rejects and refused rows land in `rejects`."""
    summary = ImportSummary(source=source, dry_run=dry_run)
    started = time.perf_counter()

    def records() -> Iterator[tuple[int, LeadCreate]]:
        for item in items:
            summary.read += 1
            if isinstance(item, RejectedRow):
                summary.rejects.append(item)
            else:
                try:
                    data = to_lead_create(item)
                except LeadMSError as exc:
                    summary.rejects.append(RejectedRow(item.row, str(exc)))
                    continue
                yield item.row, data

    with collector.roomy():  # rows are made and dropped by the hundred thousand
        outcomes = take_in_many(db, records(), actor=actor, batch_size=batch_size, dry_run=dry_run)
        for outcome in outcomes:
            _count(summary, outcome)
            if on_row:
                on_row(summary.read)
    if not dry_run:
        db.refresh_statistics()  # a big import changes what the query planner should know
    summary.rejects.sort(key=lambda r: r.row)
    summary.rejected = len(summary.rejects)
    summary.seconds = time.perf_counter() - started
    return summary


def _count(summary: ImportSummary, outcome: RowOutcome) -> None:
    result = outcome.result
    if result is None:
        summary.rejects.append(RejectedRow(outcome.row, outcome.error or "refused", outcome.column))
    elif result.appended:
        summary.appended += 1
    elif not result.created:
        summary.skipped += 1
    else:
        summary.created += 1
        summary.repeats += result.repeat_of is not None


def write_rejects(path: Path, rejects: list[RejectedRow]) -> None:
    """The rejected rows as CSV; a rerun replaces its last list (by rename, so a symlink
    planted at the path is replaced, not written through)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["row", "column", "reason"])
    for reject in rejects:
        writer.writerow([reject.row, reject.column or "", reject.reason])
    write_new(path, text.getvalue().encode("utf-8"), replace=True)
