"""A pytest plugin every bin/mutate run loads: which lines of the mutated files each test
runs, and how long it takes (standard library only: sys.settrace, no coverage package).

Loaded with `-p _mutate_trace` in the clean run. LEADMS_MUTATE_TRACE names the files to watch
(os.pathsep between them), LEADMS_MUTATE_MAP where the JSON map goes:
{test id: {"seconds": s, "lines": {file: [line, ...]}}}. A mutant then runs only the tests
that ran its line: a test that never runs the changed code cannot tell the mutant apart.
"""

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

_WATCHED = set(filter(None, os.environ.get("LEADMS_MUTATE_TRACE", "").split(os.pathsep)))
_MAP: dict[str, dict[str, Any]] = {}
_lines: dict[str, set[int]] = {}


def _local(frame: FrameType, event: str, _arg: object) -> Any:
    if event == "line":
        _lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
    return _local


def _global(frame: FrameType, event: str, _arg: object) -> Any:
    if frame.f_code.co_filename not in _WATCHED:
        return None  # not a watched file: no line events for this frame
    # the call event's line is the def (or its first decorator): the defaults and decorator
    # arguments written there are used by this call
    _lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
    return _local


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _lines.clear()
    started = time.monotonic()
    sys.settrace(_global)
    threading.settrace(_global)  # the writes some tests make run in worker threads
    try:
        yield
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    _MAP[item.nodeid] = {
        "seconds": round(time.monotonic() - started, 3),
        "lines": {path: sorted(lines) for path, lines in _lines.items()},
    }


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """argon2 at its cheapest (1 pass, 8 KiB): still real hashing and verifying, but the
    seeded users' hashes no longer cost a second each; no guarded module is about its cost."""
    from argon2 import PasswordHasher

    try:
        from leadms_tui.domain.team import users
    except Exception:  # a mutant that breaks the import: collection reports it
        return
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A mutant's run: the fastest tests first (LEADMS_MUTATE_ORDER, the clean run's map), so
    that with -x most mutants die in a second, not after the slow multi-process tests."""
    order = os.environ.get("LEADMS_MUTATE_ORDER")
    if order:
        with open(order, encoding="utf-8") as source:
            took = {test: ran["seconds"] for test, ran in json.load(source).items()}
        items.sort(key=lambda item: took.get(item.nodeid, 0.0))


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("LEADMS_MUTATE_MAP")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump(_MAP, out)
