"""The intake service hands freed memory back: a long soak's RSS stays flat (glibc only)."""

import platform

import pytest

from leadms_tui.intake.server import release_free_memory, release_free_memory_every

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc"
)


def _anonymous_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


def test_freed_memory_in_the_middle_of_the_heap_goes_back_to_the_system():
    blocks = [bytes(2000) for _ in range(60_000)]  # ~120 MB from malloc (not Python's arenas)
    kept = blocks[::50]  # what stays alive pins the heap: free() alone cannot shrink it
    del blocks
    before = _anonymous_rss_kib()
    assert release_free_memory()
    after = _anonymous_rss_kib()
    assert before - after > 50_000, (before, after)  # most of the ~118 MB freed came back
    assert len(kept) == 1200


def test_the_service_releases_memory_on_a_timer():
    thread = release_free_memory_every(3600)
    assert thread is not None and thread.daemon and thread.is_alive()
