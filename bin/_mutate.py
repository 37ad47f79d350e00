"""Mutation testing of the modules that guard numbers, money, access and text (issue 26).

One small change to a module at a time (a comparison, an operator, a number, a string, a `raise`
or a call statement removed), then the tests mapped to that module; a mutant the tests do not
fail on "survives". The package and the tests are copied to `mutants/` (gitignored) and the
copy is mutated, so the worktree is never touched. One pytest process at a time, niced by
the caller. Usage: see `bin/mutate --help`; results and known equivalents in TESTING.md.
"""

import argparse
import ast
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "mutants"
PACKAGE = "leadms_tui/domain"

# Each guarded module (a name for the command line) -> the files mutated and the tests that
# cover them: only those run for a mutant, so a module takes minutes, not the whole suite.
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "numbering": (
        ["leads/numbering.py", "leads/numbered_insert.py"],
        ["tests/domain/test_numbering.py", "tests/domain/test_bulk_intake.py"],
    ),
    "commission": (
        ["sales/commission.py"],
        ["tests/domain/test_sales_edges.py", "tests/domain/test_sales.py"],
    ),
    "text": (["text.py"], ["tests/domain/test_text.py"]),
    "money": (
        ["sales/money.py"],
        ["tests/domain/test_sales_edges.py", "tests/domain/test_sales.py"],
    ),
    "access": (
        ["team/access.py"],
        [
            "tests/domain/test_access_edges.py",
            "tests/domain/test_sign_in_trust.py",
            "tests/domain/test_users_admin.py",
        ],
    ),
    "rules": (
        [
            "work/rules/engine.py",
            "work/rules/actions.py",
            "work/rules/sweeper.py",
            "work/rules/definitions.py",
            "work/rules/delays.py",
        ],
        [
            "tests/domain/test_rules_definitions.py",
            "tests/domain/test_rules_actions.py",
            "tests/domain/test_rules_engine.py",
            "tests/domain/test_rules_delays.py",
            "tests/domain/test_rules_edges.py",
            "tests/domain/test_rules.py",
        ],
    ),
    "assignment": (["team/assignment.py"], ["tests/domain/test_assignment.py"]),
    "phones": (["leads/phones.py"], ["tests/domain/test_phones.py"]),
    "response_clock": (
        ["work/response_clock.py"],
        ["tests/domain/test_response_clock.py", "tests/cli/test_response_clock_cli.py"],
    ),
    # outbox: a sample of 100 run; bridge and merge: landed 2026-12-07, not yet run (TESTING.md)
    "outbox": (
        ["chat/outbox.py", "chat/channels.py", "chat/meta_errors.py", "chat/templates.py"],
        [
            "tests/domain/test_chat.py",
            "tests/domain/test_chat_edges.py",
            "tests/intake/test_chat_sending.py",
        ],
    ),
    "bridge": (
        ["phone/bridge.py", "phone/dialing.py"],
        ["tests/domain/test_phone_bridge.py", "tests/phone/test_ami_bridge.py"],
    ),
    "merge": (
        ["people/merge.py", "people/duplicates.py", "people/person.py"],
        ["tests/domain/test_people_merge.py", "tests/domain/test_duplicates.py",
         "tests/domain/test_people_export.py"],
    ),
}
# The pytest plugins a mutant's run loads (no others); _mutate_trace maps lines to tests and
# makes argon2 cheap (the seeded users' hashes were most of the time).
PLUGINS = ["pytest_asyncio.plugin", "_hypothesis_pytestplugin", "time_machine", "_mutate_trace"]
# `--sample` draws from these: modules whose every survivor is listed in EQUIVALENT below,
# with tests fast enough for CI. A sampled survivor not listed there fails the run.
SAMPLED = ["text", "money", "access", "commission", "numbering"]
# Survivors judged equivalent (no behaviour differs), one `Mutant.key()` line each; the
# reasons are in TESTING.md.
EQUIVALENT = ROOT / "bin" / "_mutate_equivalent.txt"


def _equivalent() -> set[str]:
    lines = EQUIVALENT.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line.strip() and not line.startswith("#")}


_COMPARE_SWAPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_BINOP_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the package
    index: int  # the n-th mutation point of the file, in walk order
    line: int
    before: str
    after: str
    # the lines of the changed node, then of its statement (a whole `def` for a default):
    # the tests that ran any of them are the ones that can notice the change
    lines: tuple[int, int] = (0, 0)
    statement_lines: tuple[int, int] = (0, 0)

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.before}  ->  {self.after}"

    def key(self) -> str:
        """The mutant without its line number: stays the same when lines above it move."""
        return f"{self.path}: {self.before}  ->  {self.after}"


def _points(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    """Every place a mutation applies, with the kind of change; docstrings and type
    annotations are left alone (no behaviour to test there)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):  # a docstring
            skip.update((id(first), id(value)))
        if isinstance(node, ast.JoinedStr):  # an f-string's parts are not strings on their own
            skip.update(id(n) for n in ast.walk(node) if n is not node)
        for annotation in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if annotation is not None:
                skip.update(id(n) for n in ast.walk(annotation))
    points: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            points += [
                (node, f"cmp{i}") for i, op in enumerate(node.ops) if type(op) in _COMPARE_SWAPS
            ]
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
            points.append((node, "op"))
        elif isinstance(node, ast.BoolOp):
            points.append((node, "bool"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            points.append((node, "not"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, bool, str):
            points.append((node, "const"))
        elif isinstance(node, ast.Raise) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        ):
            points.append((node, "drop"))
    return points


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, kind: str) -> None:
        self.target, self.kind = target, kind

    def visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return self.generic_visit(node)
        kind = self.kind
        if kind.startswith("cmp"):
            i = int(kind[3:])
            node.ops[i] = _COMPARE_SWAPS[type(node.ops[i])]()
        elif kind == "op":
            node.op = _BINOP_SWAPS[type(node.op)]()
        elif kind == "bool":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "not":
            return node.operand
        elif kind == "const":
            value = node.value
            if isinstance(value, str):
                node.value = f"XX{value}XX"
            else:
                node.value = (not value) if isinstance(value, bool) else value + 1
        elif kind == "drop":
            return ast.Pass()
        return node


def _statement_of(tree: ast.Module, target: ast.AST) -> ast.stmt:
    """The innermost simple statement (or the header of a compound one) holding `target`."""
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        holds = isinstance(node, ast.stmt) and any(n is target for n in ast.walk(node))
        if holds and (best is None or node.lineno >= best.lineno):
            best = node
    assert best is not None
    return best


def _header(statement: ast.stmt) -> str:
    """A statement as one short line: compound statements show only their header."""
    for field in ("test", "iter", "value"):
        if isinstance(statement, ast.If | ast.While | ast.For) and hasattr(statement, field):
            head = ast.unparse(getattr(statement, field))
            return f"{type(statement).__name__.lower()} {head}:"
    if isinstance(statement, ast.FunctionDef | ast.ClassDef):
        decorators = "".join(f"@{ast.unparse(d)} " for d in statement.decorator_list)
        if isinstance(statement, ast.ClassDef):
            return f"{decorators}class {statement.name}"
        return f"{decorators}def {statement.name}({ast.unparse(statement.args)})"
    text = ast.unparse(statement).splitlines()
    return text[0] + (" ..." if len(text) > 1 else "")


def mutants_of(path: str, source: str | None = None) -> list[Mutant]:
    source = (ROOT / PACKAGE / path).read_text() if source is None else source
    found = []
    tree = ast.parse(source)
    for index, (node, _kind) in enumerate(_points(tree)):
        _, line, before, after = _mutate(source, index)
        statement = _statement_of(tree, node)
        found.append(
            Mutant(
                path, index, line, before, after,
                (node.lineno, node.end_lineno or node.lineno),
                (statement.lineno, statement.end_lineno or statement.lineno),
            )
        )  # fmt: skip
    return sorted(found, key=lambda m: (m.line, m.index))


def _mutate(source: str, index: int) -> tuple[str, int, str, str]:
    """The source with mutation `index` applied, its line and the statement before/after."""
    tree = ast.parse(source)
    node, kind = _points(tree)[index]
    statement = _statement_of(tree, node)
    before = _header(statement)
    line = statement.lineno
    tree = ast.fix_missing_locations(_Apply(node, kind).visit(tree))
    statement_after = _statement_of_line(tree, line)
    after = _header(statement_after) if statement_after else "pass"
    if kind == "drop":
        after = "pass"
    return ast.unparse(tree), line, before, after


def _statement_of_line(tree: ast.Module, line: int) -> ast.stmt | None:
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and getattr(node, "lineno", None) == line:
            found = node
    return found


def _make_copy(copy: Path) -> None:
    if copy.exists():
        shutil.rmtree(copy)
    ignore = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "mutants", "*.egg-info")
    shutil.copytree(ROOT, copy, ignore=ignore)


def _run_tests(
    copy: Path, tests: list[str], timeout: float, env: dict[str, str] | None = None
) -> str:
    """'passed', 'failed' or 'timeout' for the tests run in the copy."""
    path = os.pathsep.join([str(copy), str(copy / "bin")])
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the TUI and API plugins cost 10+ s a start
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    for plugin in PLUGINS:
        command += ["-p", plugin]
    command += tests
    try:
        result = subprocess.run(
            command, cwd=copy, env=env, timeout=timeout, capture_output=True, text=True
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    if result.returncode == 0:
        return "passed"
    # 2: the mutant broke a test module's import (collection error); 4: a conftest's
    # ("ImportError while loading conftest"): the clean run has shown the command is right
    if result.returncode in (1, 2, 4):
        return "failed"
    sys.exit(f"error: pytest could not run ({result.returncode}):\n{result.stdout[-2000:]}")


def _traced_clean_run(copy: Path, name: str) -> tuple[float, dict[str, Any]]:
    """Run the module's tests unchanged, recording which lines of its files each test runs
    (bin/_mutate_trace.py); returns the time taken and that map."""
    paths, tests = MODULES[name]
    watched = os.pathsep.join(str(copy / PACKAGE / path) for path in paths)
    trace_map = copy / "mutate-map.json"
    env = {
        "LEADMS_MUTATE_TRACE": watched,
        "LEADMS_MUTATE_MAP": str(trace_map),
    }
    started = time.monotonic()
    if _run_tests(copy, tests, timeout=3600, env=env) != "passed":
        sys.exit(f"error: the tests of {name} fail without any mutation")
    return time.monotonic() - started, json.loads(trace_map.read_text(encoding="utf-8"))


def _tests_for(mutant: Mutant, copy: Path, trace: dict[str, Any]) -> list[str] | None:
    """The ids of the tests that ran the mutated node (else its statement); None when none
    did (code run at import: module constants, class bodies), then all of them run."""
    path = str(copy / PACKAGE / mutant.path)
    for first, last in (mutant.lines, mutant.statement_lines):
        wanted = set(range(first, last + 1))
        hits = [test for test, ran in trace.items() if wanted & set(ran["lines"].get(path, ()))]
        if hits:
            return hits
    return None


def _in_lines(mutant: Mutant, lines: str | None) -> bool:
    """Whether `mutant` is in `--lines` ("A-B" or "FILE:A-B", FILE the end of its path)."""
    if lines is None:
        return True
    where, _, span = lines.rpartition(":")
    first, _, last = span.partition("-")
    in_file = not where or mutant.path.endswith(where)
    return in_file and int(first) <= mutant.line <= int(last or first)


def run_module(
    name: str,
    *,
    limit: int | None,
    seed: int | None,
    jobs: int = 1,
    select: bool = True,
    lines: str | None = None,
    keys: set[str] | None = None,
) -> list[Mutant]:
    """Every mutant of the module (or `limit` of them drawn with `seed`, or those on `lines`);
    returns survivors. Each mutant runs only the tests that ran its line (unless `select` is
    off), `jobs` at a time, each job in its own copy."""
    paths, tests = MODULES[name]
    copies = [COPY / f"{name}-{job}" for job in range(jobs)]  # modules may run at once
    for copy in copies:
        _make_copy(copy)
    seconds, trace = _traced_clean_run(copies[0], name)
    timeout = 3 * seconds + 30
    # the sources as copied: an edit in the worktree during the run must not shift the
    # mutants (each is the n-th mutation point of its file)
    sources = {path: (copies[0] / PACKAGE / path).read_text() for path in paths}
    mutants = [m for path in paths for m in mutants_of(path, sources[path])]
    mutants = [m for m in mutants if _in_lines(m, lines) and (keys is None or m.key() in keys)]
    if limit is not None:
        mutants = sorted(
            random.Random(seed).sample(mutants, min(limit, len(mutants))),
            key=lambda m: (m.path, m.index),
        )
    print(f"== {name}: {len(mutants)} mutants, tests {' '.join(tests)}", flush=True)
    free: queue.Queue[Path] = queue.Queue()
    for copy in copies:
        free.put(copy)
    equivalent = _equivalent()

    def run_one(mutant: Mutant) -> tuple[Mutant, str, int]:
        copy = free.get()
        try:
            selected = _tests_for(mutant, copies[0], trace) if select else None
            # the map names files in the first copy; a test id is the same in every copy
            run = tests if selected is None else selected
            target = copy / PACKAGE / mutant.path
            original = sources[mutant.path]
            target.write_text(_mutate(original, mutant.index)[0])
            try:
                order = {"LEADMS_MUTATE_ORDER": str(copies[0] / "mutate-map.json")}
                return mutant, _run_tests(copy, run, timeout, order), len(selected or trace)
            finally:
                target.write_text(original)
        finally:
            free.put(copy)

    survivors = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for mutant, outcome, ran in pool.map(run_one, mutants):
            verdict = "SURVIVED" if outcome == "passed" else f"killed ({outcome})"
            if outcome == "passed" and mutant.key() in equivalent:
                verdict = "equivalent"
            if outcome == "passed":
                survivors.append(mutant)
            print(f"{verdict:16} {mutant.describe()}  [{ran} tests]", flush=True)
    for copy in copies[1:]:  # the first keeps the map of lines to tests
        shutil.rmtree(copy)
    killed = len(mutants) - len(survivors)
    known = sum(m.key() in equivalent for m in survivors)
    print(f"== {name}: {killed}/{len(mutants)} killed, {known} known equivalent", flush=True)
    return survivors


def _keys(path: str | None) -> set[str] | None:
    """The mutant keys in a file: each line a key, or a printed result line (its verdict,
    line number and test count are dropped)."""
    if path is None:
        return None
    keys = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(("SURVIVED", "equivalent", "killed")):
            line = line[17:]
        line = re.sub(r"  \[\d+ tests?\]$", "", line)  # the test count, verdict or not
        head, sep, rest = line.partition(": ")
        name, colon, number = head.rpartition(":")
        keys.add(f"{name}: {rest}" if colon and number.isdigit() else f"{head}{sep}{rest}")
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(prog="bin/mutate", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument(
        "--sample", action="store_true", help="a few mutants of one module (for CI)"
    )
    parser.add_argument("--limit", type=int, help="at most this many mutants per module")
    parser.add_argument("--seed", type=int, help="which mutants --sample/--limit draw")
    parser.add_argument(
        "--lines",
        metavar="[FILE:]A-B",
        help="only the mutants on these lines (of FILE, the end of a module's path)",
    )
    parser.add_argument(
        "--keys",
        metavar="FILE",
        help="only the mutants whose key (a printed line without its line number and verdict) "
        "is a line of FILE: re-runs the survivors of a run against tests added since",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="mutants run at once, each in its own copy"
    )
    parser.add_argument(
        "--all-tests",
        action="store_true",
        help="run all the module's tests for each mutant, not only those that ran its line",
    )
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.exit(2, f"error: unknown module {unknown[0]!r} (one of {', '.join(MODULES)})\n")
    if args.sample:
        seed = args.seed if args.seed is not None else random.randrange(10**6)
        name = random.Random(seed).choice(SAMPLED)
        print(f"sample seed {seed} (bin/mutate --sample --seed {seed} repeats it)")
        survivors = run_module(name, limit=args.limit or 4, seed=seed, jobs=args.jobs)
        unexplained = [m for m in survivors if m.key() not in _equivalent()]
        if unexplained:
            sys.exit(f"error: {len(unexplained)} mutant(s) of {name} survived its tests")
        return
    for name in args.modules or list(MODULES):
        if args.list:
            for path in MODULES[name][0]:
                for mutant in mutants_of(path):
                    if _in_lines(mutant, args.lines):
                        print(mutant.describe())
            continue
        run_module(
            name,
            limit=args.limit,
            seed=args.seed,
            jobs=args.jobs,
            select=not args.all_tests,
            lines=args.lines,
            keys=_keys(args.keys),
        )


if __name__ == "__main__":
    main()
