"""Files of image and document fields, kept in the database by content (sha256), so every
terminal on a shared database opens the same bytes and a backup or a move takes them along.
The real type is sniffed from the bytes: a `.png` that is not a PNG is refused."""

import hashlib
import mimetypes
from dataclasses import dataclass

import filetype
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadms_tui.domain import clock
from leadms_tui.domain.audit import Actor
from leadms_tui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from leadms_tui.domain.leads.checks import reads_own_only
from leadms_tui.domain.models import (
    Client,
    FieldDefinition,
    FieldEntity,
    FieldKind,
    FieldValue,
    Lead,
    Meeting,
    StoredFile,
    saved_id,
    table_of,
)

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
DOCUMENT_TYPES = IMAGE_TYPES | {
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/msword",
    "application/vnd.ms-excel",
    "text/plain",
    "text/csv",
}
_TEXT_EXTENSIONS = {".txt": "text/plain", ".csv": "text/csv"}
_FILES = table_of(StoredFile)


@dataclass(frozen=True)
class FileInfo:
    id: int
    mime_type: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, object]:
        return {"type": self.mime_type, "size": self.size, "sha256": self.sha256}


def sniff(data: bytes, name: str) -> str:
    """The file's real MIME type from its bytes; text only for .txt/.csv that decode as UTF-8."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in _TEXT_EXTENSIONS and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return _TEXT_EXTENSIONS[extension]
    return "application/octet-stream"


def check_file(data: bytes, name: str, kind: FieldKind, *, max_bytes: int) -> str:
    """The sniffed MIME type of an acceptable file, or a ValidationError saying why not."""
    if not data:
        raise ValidationError(f"{name} is empty")
    if len(data) > max_bytes:
        raise ValidationError(
            f"{name} is {len(data) / 1_048_576:.1f} MB; the limit is {max_bytes // 1_048_576} MB"
        )
    mime = sniff(data, name)
    allowed = IMAGE_TYPES if kind == FieldKind.IMAGE else DOCUMENT_TYPES
    if mime not in allowed:
        what = "an image (PNG, JPEG, GIF, WebP)" if kind == FieldKind.IMAGE else "a document"
        raise ValidationError(f"{name} is not {what} (its bytes are {mime})")
    claimed, _ = mimetypes.guess_type(name)
    if claimed and claimed != mime and not _same_family(claimed, mime):
        raise ValidationError(f"{name} is named like {claimed} but its bytes are {mime}")
    return mime


def _same_family(claimed: str, mime: str) -> bool:
    """.jpg/.jpeg and image/pjpeg spellings, or a .csv that sniffs as plain text."""
    aliases = {"image/pjpeg": "image/jpeg", "application/csv": "text/csv"}
    return aliases.get(claimed, claimed) == mime


def store_file(session: Session, data: bytes, mime: str) -> FileInfo:
    """Keep `data` once (the same bytes uploaded twice are one row); returns its info."""
    digest = hashlib.sha256(data).hexdigest()
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    session.execute(
        dialect.insert(_FILES)
        .values(sha256=digest, size=len(data), mime_type=mime, content=data, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    file_id = session.execute(select(StoredFile.id).where(StoredFile.sha256 == digest)).scalar_one()
    return FileInfo(file_id, mime, len(data), digest)


def file_info(session: Session, ids: list[int]) -> dict[int, FileInfo]:
    rows = session.execute(
        select(StoredFile.id, StoredFile.mime_type, StoredFile.size, StoredFile.sha256).where(
            StoredFile.id.in_(ids)
        )
    ).all()
    return {row[0]: FileInfo(*row) for row in rows}


def read_file(session: Session, file_id: int, viewer: Actor) -> tuple[FileInfo, bytes]:
    """A stored file, if `viewer` may open a record it belongs to (see `may_read_file`)."""
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFoundError(f"no file #{file_id}")
    if not may_read_file(session, file_id, viewer):
        raise PermissionDeniedError(
            f"file #{file_id} belongs to another rep's records (this team's reps see their own)"
        )
    return FileInfo(saved_id(row), row.mime_type, row.size, row.sha256), row.content


def may_read_file(session: Session, file_id: int, viewer: Actor) -> bool:
    """Under `reps_see own` a rep opens a file of a lead (or of a meeting about a lead) they
    may read, or of a client they manage or nobody does; otherwise every file."""
    if not reads_own_only(session, viewer):
        return True
    mine = or_(Lead.owner_id.is_(None), Lead.owner_id == viewer.user_id)
    uses = (
        select(FieldValue.entity_id, FieldDefinition.entity)
        .join(FieldDefinition, FieldDefinition.id == FieldValue.definition_id)
        .where(FieldValue.file_id == file_id)
    ).subquery()
    on_lead = select(Lead.id).join(
        uses, and_(uses.c.entity == FieldEntity.LEAD, uses.c.entity_id == Lead.id)
    )
    on_meeting = (
        select(Lead.id)
        .join(Meeting, Meeting.lead_id == Lead.id)
        .join(uses, and_(uses.c.entity == FieldEntity.MEETING, uses.c.entity_id == Meeting.id))
    )
    on_client = select(Client.id).join(
        uses, and_(uses.c.entity == FieldEntity.CLIENT, uses.c.entity_id == Client.id)
    )
    client_mine = or_(Client.owner_id.is_(None), Client.owner_id == viewer.user_id)
    found = session.execute(
        select(
            exists(on_lead.where(mine))
            | exists(on_meeting.where(mine))
            | exists(on_client.where(client_mine))
        )
    ).scalar()
    return bool(found)
