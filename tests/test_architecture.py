"""The domain layer knows nothing of Textual, Typer or Rich."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_whole_domain_loads_no_ui_or_cli_module():
    code = (
        "import pkgutil, importlib, sys, leadms_tui.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'leadms_tui.domain.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "ui = ('leadms_tui.screens', 'leadms_tui.cli', 'leadms_tui.app')\n"
        "bad = sorted(n for n in sys.modules\n"
        "             if n.split('.')[0] in {'textual', 'typer', 'rich'} or n.startswith(ui))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_import_linter_contract_holds():
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_screens_load_only_through_the_loading_helper():
    """Screens and widgets run database work through `screens/loading.py` (load, run,
    in_thread): no hand-written worker, thread hop or stale-result check elsewhere."""
    patterns = ("@work", "get_current_worker", "call_from_thread", "thread=True", "show_latest")
    helper = ROOT / "leadms_tui" / "screens" / "loading.py"
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("screens", "widgets")
        for path in sorted((ROOT / "leadms_tui" / folder).rglob("*.py"))
        if path != helper
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if any(pattern in line for pattern in patterns)
    ]
    assert not found, "\n".join(found)


def test_the_loading_helper_hides_nothing_of_textual():
    """The app and every screen mix the helper in: none of its names may shadow Textual's
    (an `App.run` hidden by a write helper would stop `leadms tui` from starting)."""
    from textual.app import App
    from textual.screen import ModalScreen
    from textual.widgets import Static

    from leadms_tui.screens.loading import Loads

    ours = {name for name in vars(Loads) if not name.startswith("__")}
    for base in (App, ModalScreen, Static):
        assert not ours & set(dir(base)), base
