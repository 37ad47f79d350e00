"""Files on this computer that a person names: read capped and only if regular, saved only
where nothing is yet (or replaced on purpose), never through a symlink.

Every path a person gives (`@file` values, the TUI's file fields, imports, `files get -o`,
`meetings export-ics -o`, the TUI's save) goes through these two functions, so a device such
as /dev/zero, a FIFO or a planted symlink cannot fill memory, hang or redirect a write.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from leadms_tui.domain.errors import ValidationError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once instead of waiting for a writer
_BINARY = getattr(os, "O_BINARY", 0)


class LocalFileError(ValidationError):
    """A path that cannot be read or written as asked; the message says why in one line."""


class TooLargeError(LocalFileError):
    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(f"{path.name} is larger than the limit of {_megabytes(limit)}")
        self.limit = limit


class PathExistsError(LocalFileError):
    pass


def _megabytes(limit: int) -> str:
    return f"{limit / 1_048_576:g} MB"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, read no further than `limit` + 1 bytes:
    TooLargeError past the limit, LocalFileError for a folder, device, FIFO or socket."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise LocalFileError(f"cannot read {path}: it is {_kind(mode)}, not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise TooLargeError(path, limit)
    return data


def write_new(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to `path`: a new file only (PathExistsError if anything, a dangling
    symlink included, is there), or with `replace` a temporary file renamed over it, which
    replaces a symlink itself rather than writing to where it points."""
    try:
        if replace:
            _replace(path, data)
        else:
            descriptor = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o666
            )
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
    except FileExistsError:
        raise PathExistsError(f"{path} exists; choose another name") from None
    except OSError as exc:
        raise LocalFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def _replace(path: Path, data: bytes, *, private: bool = False) -> None:
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(21, "it is a folder")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp makes it 0600
            handle.write(data)
        if not private:
            os.chmod(temporary, 0o666 & ~_umask())  # as a plain new file would be
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def replace_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by its owner only (0600), by temporary file and rename:
    a symlink planted at `path` is replaced, never written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _replace(path, data, private=True)
    except OSError as exc:
        raise LocalFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
