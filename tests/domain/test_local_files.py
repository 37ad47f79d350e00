"""Files a person names (issue 23): read only if regular and never past the limit, written only
where nothing is (or replaced by rename), never through a symlink at the last component."""

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadms_tui.cli import sessions
from leadms_tui.domain.local_files import (
    LocalFileError,
    PathExistsError,
    TooLargeError,
    read_regular,
    write_new,
)

GUARD = 10  # seconds: far above what a refusal takes, far below a hang


def _within_guard(call):
    """call() in a thread; fails (instead of hanging the suite) when it has not returned."""
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GUARD)
    assert not thread.is_alive(), f"still reading after {GUARD} s"
    return outcome, time.monotonic() - started


def test_dev_zero_is_refused_at_once_without_reading_it():
    outcome, took = _within_guard(lambda: read_regular(Path("/dev/zero"), 5 * 2**20))
    assert isinstance(outcome.get("error"), LocalFileError)
    assert "device" in str(outcome["error"]) and took < 2


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    outcome, took = _within_guard(lambda: read_regular(fifo, 2**20))
    assert isinstance(outcome.get("error"), LocalFileError)
    assert "pipe" in str(outcome["error"]) and took < 2
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_folder_and_a_missing_file_are_one_line(tmp_path):
    for path, reason in [(tmp_path, "folder"), (tmp_path / "nope.png", "No such file")]:
        with pytest.raises(LocalFileError, match=reason) as caught:
            read_regular(path, 2**20)
        assert "\n" not in str(caught.value)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(0, 4096), limit=st.integers(0, 4096))
def test_a_regular_file_is_read_whole_up_to_the_limit(tmp_path, size, limit):
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(size))
    if size > limit:
        with pytest.raises(TooLargeError):
            read_regular(path, limit)
    else:
        assert read_regular(path, limit) == path.read_bytes()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512), what=st.sampled_from(["file", "symlink", "dangling"]))
def test_write_new_never_writes_over_a_path_or_through_a_symlink(tmp_path, data, what):
    target = tmp_path / "victim.txt"
    target.write_bytes(b"keep me")
    out = tmp_path / f"out-{what}"
    out.unlink(missing_ok=True)
    if what == "file":
        out.write_bytes(b"old")
    elif what == "symlink":
        out.symlink_to(target)
    else:
        out.symlink_to(tmp_path / "nowhere")
    before = os.readlink(out) if out.is_symlink() else out.read_bytes()
    with pytest.raises(PathExistsError):
        write_new(out, data)
    assert (os.readlink(out) if out.is_symlink() else out.read_bytes()) == before
    assert not (tmp_path / "nowhere").exists()

    write_new(out, data, replace=True)  # replaces the link itself, never where it points
    assert not out.is_symlink() and out.read_bytes() == data
    assert target.read_bytes() == b"keep me" and not (tmp_path / "nowhere").exists()


def test_write_new_makes_a_new_file(tmp_path):
    write_new(tmp_path / "new.png", b"bytes")
    assert (tmp_path / "new.png").read_bytes() == b"bytes"
    with pytest.raises(LocalFileError, match="cannot write"):
        write_new(tmp_path / "no-folder" / "x.png", b"bytes")


def test_the_session_file_is_never_written_through_a_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    path = sessions.session_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(victim)
    sessions.save("sqlite:///x.db", "lms_token")
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sessions.load("sqlite:///x.db") == "lms_token"
