"""The layers: the domain knows nothing of Textual, Typer or Rich; no import cycle runs
through the screens."""

import ast
import subprocess
import sys
from collections.abc import Iterator
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


def _screen_imports() -> dict[str, set[str]]:
    """Which of the screen modules (and the app) each imports, at module level or inside a
    function: a lazy import runs all the same, and hid a cycle of 11 screens once (issue 25).
    Imports under `if TYPE_CHECKING:` never run and are left out."""
    package = ROOT / "leadms_tui"
    files = {
        "leadms_tui.app": package / "app.py",
        "leadms_tui.navigation": package / "navigation.py",
    }
    for path in (package / "screens").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    files = {name: path for name, path in files.items() if path.exists()}

    def imported(node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in imported(child))
            return
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            yield from imported(child)

    return {
        name: {n for n in imported(ast.parse(path.read_text())) if n in files and n != name}
        for name, path in files.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path):
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_runs_through_the_screens_lazy_imports_counted():
    graph = _screen_imports()
    assert "leadms_tui.screens.day_view" in graph["leadms_tui.app"] | graph.get(
        "leadms_tui.navigation", set()
    )  # the graph sees the imports made inside functions
    assert _cycles(graph) == []


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
