"""The `snap_compare` fixture: a screen's SVG screenshot against the accepted one in the test
module's __snapshots__/ folder (`--snapshot-update` accepts new ones). Syrupy stores and
compares; Textual takes the screenshot as its own snapshot tests do. This stands in for
pytest-textual-snapshot, whose exact pin of syrupy 4.8 keeps pytest below 9; the files it
wrote are read unchanged."""

import re
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from textual._doc import take_svg_screenshot
from textual.app import App
from textual.pilot import Pilot

Compare = Callable[..., bool]


def normalize_svg(svg: str) -> str:
    """Drop the run-specific number rich puts in an export's class names."""
    return re.sub(r"\bterminal-\d+-([\w-]+)", r"terminal-\1", svg)


class SVGImageExtension(SingleFileSnapshotExtension):
    file_extension = "svg"
    _write_mode = WriteMode.TEXT

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return normalize_svg(str(super().serialize(data, **kwargs)))


@pytest.fixture
def snap_compare(snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> Compare:
    """compare(app, press=(), terminal_size=(80, 24), run_before=None) -> whether the screen
    matches its snapshot; a mismatch leaves the new screenshot in the test's temp folder."""
    svg_snapshot = snapshot.use_extension(SVGImageExtension)

    def compare(
        app: App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool:
        actual = take_svg_screenshot(
            app=app, press=press, terminal_size=terminal_size, run_before=run_before
        )
        matches = bool(svg_snapshot == actual)
        if not matches:
            out = Path(request.getfixturevalue("tmp_path")) / "actual.svg"
            out.write_text(normalize_svg(actual), encoding="utf-8")
            print(f"screenshot taken: {out}")  # shown with the failure
        return matches

    return compare
