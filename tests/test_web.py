"""`leadms web`: the TUI in a real browser (Debian's headless chromium, driven by Playwright),
signed in like a terminal; and what it refuses or warns about before it serves."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from leadms_tui.bootstrap import open_database
from leadms_tui.cli import app
from leadms_tui.cli.web import is_loopback, origin_allowed
from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FollowUp, LoginFailure, Role
from leadms_tui.domain.team.users import add_user

PASSWORD = "web sign-in 42"

# textual-serve keeps its xterm.js terminal in a closure. The page's code sets it as the
# `terminal` property of its own object: a setter on Object.prototype (installed before the
# page's scripts run) keeps a reference, so the test reads the screen as the browser has it.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && value.loadAddon) window.leadmsTerminal = value;
  },
});
"""
SCREEN_TEXT = """() => {
  const terminal = window.leadmsTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""
# The colour of an input's left border, found by its placeholder: it changes with focus.
INPUT_BORDER = """(placeholder) => {
  const terminal = window.leadmsTerminal;
  const buffer = terminal.buffer.active;
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    const text = line.translateToString(true);
    const at = text.indexOf(placeholder);
    const cell = at < 0 ? null : line.getCell(text.lastIndexOf("\u258a", at));
    if (cell) return `${cell.getFgColorMode()}/${cell.getFgColor()}`;
  }
  return "";
}"""


@pytest.fixture
def web_db(tmp_path) -> str:
    """Rep ana, with a lead and a follow-up already due, so the day view has a row."""
    url = f"sqlite:///{tmp_path / 'leadms.db'}"
    database = open_database(url)
    ana = database.write(
        lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password=PASSWORD)
    )
    lead = create_lead(
        database,
        LeadCreate(name="Dora Due", phone="+44 7700 900111", channel="website", owner_id=ana.id),
        actor=ana.actor,
    )
    due = clock.now() - timedelta(minutes=5)
    database.write(
        lambda s: s.add(FollowUp(lead_id=lead.lead_id, owner_id=ana.id, reason="Call", due_at=due))
    )
    database.dispose()
    return url


def test_loopback_addresses():
    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "", "192.168.1.20", "crm.example.com"]))


def test_loopback_is_the_default():
    result = CliRunner().invoke(app, ["web", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output


def test_unreachable_database_is_one_line_before_serving():
    result = _leadms("postgresql://nobody@127.0.0.1:1/none", "web")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_a_database_without_users_is_refused(tmp_path):
    """Its first-run setup would make whoever reaches the page the admin."""
    (tmp_path / "new.db").touch()  # there already: no "created a new database" note
    result = _leadms(f"sqlite:///{tmp_path / 'new.db'}", "web", "--port", str(_free_port()))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "error: this database has no users yet: run `leadms` in a terminal first\n"
    )


def test_a_port_in_use_is_one_line(web_db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _leadms(web_db, "web", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1 and result.stdout == ""  # not "Serving ..." first
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:")
    assert result.stderr.endswith(": Address already in use\n")
    assert result.stderr.count("\n") == 1


def test_any_other_address_gets_the_reverse_proxy_warning(tmp_path, web_db):
    with _serving(tmp_path, web_db, "--host", "0.0.0.0", "--port", str(_free_port())) as server:
        server.wait_for(lambda: "Serving Lead MS on" in server.out.read_text(), "serving line")
        warning = server.err.read_text()
    assert "0.0.0.0 is not a loopback address" in warning
    assert "plain HTTP" in warning and "reverse proxy with TLS" in warning
    assert "README: In a browser" in warning


def test_origin_rule():
    public = "http://127.0.0.1:8000"
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", public)
    assert origin_allowed("http://localhost:8000", "localhost:8000", public)
    assert origin_allowed("https://crm.example.com", "127.0.0.1:8000", "https://crm.example.com/")
    assert not origin_allowed("https://evil.example", "127.0.0.1:8000", public)
    assert not origin_allowed(None, "127.0.0.1:8000", public)  # no Origin: not a page of ours
    assert not origin_allowed("null", "127.0.0.1:8000", public)  # a sandboxed frame, a file
    # DNS rebinding: evil.example resolved to 127.0.0.1, so its page is "same origin"
    assert not origin_allowed("http://evil.example:8000", "evil.example:8000", public)


@settings(max_examples=200, deadline=None)
@given(
    name=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){1,3}", fullmatch=True),
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["http", "https"]),
)
def test_any_other_named_site_is_refused_even_as_its_own_host(name, port, scheme):
    """A page on any other domain, also one that resolves to this server (DNS rebinding, so
    the Host header names it too), never opens a session."""
    assume(name not in {"crm.example.com", socket.gethostname().lower()})
    origin = f"{scheme}://{name}:{port}"
    assert not origin_allowed(origin, f"{name}:{port}", "https://crm.example.com")
    assert not origin_allowed(origin, "127.0.0.1:8000", "http://127.0.0.1:8000")
    assert not origin_allowed("null", f"{name}:{port}", f"{scheme}://{name}:{port}")


@given(cli_args=st.lists(st.text(max_size=30), max_size=3))
@settings(max_examples=30, deadline=None)
def test_bad_public_urls_are_one_line(cli_args):
    url = "".join(cli_args)
    unreachable = "postgresql://nobody@127.0.0.1:1/none"  # a valid URL stops at the database
    args = ["--database-url", unreachable, "web", "--public-url", url, "--port", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (1, 2) and result.output.count("\n") <= 1
    assert "unexpected" not in result.output and not isinstance(result.exception, ValueError)


async def _tab(port: int, *, origin: str | None, forwarded_for: str | None = None):
    """A websocket to `leadms web` as a browser tab would open it (aiohttp's client)."""
    import aiohttp

    headers = {"Origin": origin} if origin else {}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    client = aiohttp.ClientSession(skip_auto_headers=["Origin"])
    try:
        socket_ = await client.ws_connect(f"http://127.0.0.1:{port}/ws", headers=headers)
    except BaseException:
        await client.close()
        raise
    socket_.client = client  # closed with it, by _close
    return socket_


async def _close(socket_) -> None:
    await socket_.close()
    await socket_.client.close()


async def _refused_status(port: int, **kwargs) -> tuple[int, str]:
    import aiohttp

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _close(await _tab(port, **kwargs))
    return refused.value.status, refused.value.message


def _tuis(server: "Served") -> int:
    """The TUI processes the server started (its children)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return len(children.read_text().split())


async def test_a_foreign_page_cannot_open_a_session(tmp_path, web_db):
    """Issue 23: any page in the user's browser could start a TUI and type into it."""
    port = _free_port()
    with _serving(tmp_path, web_db, "--port", str(port)) as server:
        server.wait_for(lambda: _listening(port), f"server on port {port}")
        for origin in ("https://evil.example", None, f"http://evil.example:{port}"):
            assert (await _refused_status(port, origin=origin))[0] == 403, origin
        assert _tuis(server) == 0  # refused before any TUI process started
        own = await _tab(port, origin=f"http://127.0.0.1:{port}")
        try:
            first = await own.receive(timeout=30)  # the TUI's first bytes
            assert first.type.name == "BINARY" and _tuis(server) == 1
        finally:
            await _close(own)


async def test_live_sessions_are_capped_per_address_and_in_total(tmp_path, web_db):
    import aiohttp

    port = _free_port()
    args = ("--port", str(port), "--max-sessions", "2", "--max-sessions-per-address", "1")
    page = f"http://127.0.0.1:{port}"
    with _serving(tmp_path, web_db, *args) as server:
        server.wait_for(lambda: _listening(port), f"server on port {port}")
        first = await _tab(port, origin=page, forwarded_for="198.51.100.1")
        second = None
        try:
            status, _ = await _refused_status(port, origin=page, forwarded_for="198.51.100.1")
            assert status == 503  # one per address
            async with aiohttp.ClientSession() as client:
                headers = {"X-Forwarded-For": "198.51.100.1"}
                async with client.get(page + "/", headers=headers) as response:
                    assert response.status == 503
                    text = await response.text()
                assert "1 Lead MS tabs are already open from your address" in text
                async with client.get(page + "/", headers={"X-Forwarded-For": "x.y"}) as other:
                    assert other.status == 200  # another address still gets the page
            second = await _tab(port, origin=page, forwarded_for="198.51.100.2")
            status, _ = await _refused_status(port, origin=page, forwarded_for="198.51.100.3")
            assert status == 503  # two in all
            assert _tuis(server) == 2
        finally:
            await _close(first)
            if second is not None:
                await _close(second)
        # a closed tab frees its place
        server.wait_for(lambda: _index_status(page) == 200, "a free place after closing")


def _index_status(page: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(page + "/", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def test_a_tabs_failed_sign_ins_count_against_its_address(tmp_path, web_db):
    """The TUI behind a websocket throttles by the browser's address, not the server's tty."""
    port = _free_port()
    with _serving(tmp_path, web_db, "--port", str(port)) as server:
        server.wait_for(lambda: _listening(port), f"server on port {port}")
        tab = await _tab(port, origin=f"http://127.0.0.1:{port}", forwarded_for="203.0.113.9")
        try:
            await tab.receive(timeout=30)
            await tab.send_json(["stdin", "ana\r"])  # typed ahead: waits for the sign-in
            await tab.send_json(["stdin", "not her password\r"])
            database = open_database(web_db)
            try:

                def failures() -> list[str]:
                    with database.reading() as session:
                        return list(session.execute(select(LoginFailure.terminal)).scalars())

                deadline = time.monotonic() + 60
                while not failures() and time.monotonic() < deadline:
                    await asyncio.sleep(0.3)
                assert failures() == ["web:203.0.113.9"]
            finally:
                database.dispose()
        finally:
            await _close(tab)


@pytest.mark.browser
@pytest.mark.slow
def test_sign_in_in_a_real_browser_shows_the_day_view(tmp_path, web_db):
    chromium = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with _serving(tmp_path, web_db, "--port", str(port)) as server, sync_playwright() as pw:
        server.wait_for(lambda: _listening(port), f"server on port {port}")
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/fonts.googleapis.com/**", lambda route: route.abort())  # offline CI
            page.add_init_script(CATCH_TERMINAL)
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")

            def screen() -> str:
                return page.evaluate(SCREEN_TEXT)

            server.wait_for(lambda: "Sign in to Lead MS" in screen(), "sign-in screen", screen)
            page.evaluate("() => window.leadmsTerminal.focus()")
            blurred = page.evaluate(INPUT_BORDER, "password")
            page.keyboard.type("ana")
            page.keyboard.press("Enter")  # on to the password: type it only once it has focus
            server.wait_for(
                lambda: page.evaluate(INPUT_BORDER, "password") != blurred,
                "focus on the password",
                screen,
            )
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            server.wait_for(lambda: "Follow-ups due" in screen(), "day view", screen)
            server.wait_for(lambda: "Dora Due" in screen(), "lead in the day view", screen)
            shot = page.screenshot(path=tmp_path / "day-view.png")
        finally:
            browser.close()
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 20_000
    if target := os.environ.get("LEADMS_WEB_SCREENSHOT"):
        Path(target).write_bytes(shot)


def _chromium_or_skip() -> str:
    """Debian's chromium (Playwright downloads no browser of its own here)."""
    chromium = shutil.which("chromium")
    reason = None
    if chromium is None:
        reason = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        reason = "the playwright package is missing: pip install -e '.[dev]'"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert chromium is not None
    return chromium


def _leadms(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "leadms_tui", "--database-url", url, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@dataclass
class Served:
    process: subprocess.Popen
    out: Path
    err: Path

    def wait_for(self, ready: Callable[[], bool], what: str, screen=None) -> None:
        """Until `ready()`, failing with the server's stderr (and the screen) if it does not
        come, or at once if the server has stopped."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            if ready():
                return
            time.sleep(0.2)
        shown = f"\nscreen:\n{screen()}" if screen else ""
        pytest.fail(f"no {what}; server stderr:\n{self.err.read_text()}{shown}")


@contextmanager
def _serving(tmp_path: Path, url: str, *args: str) -> Iterator[Served]:
    """`leadms web ARGS` in its own process group, stopped with the TUIs it started."""
    out, err = tmp_path / "web.out", tmp_path / "web.err"
    command = [sys.executable, "-m", "leadms_tui", "--database-url", url, "web", *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield Served(process, out, err)
    finally:
        _stop(process)


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the whole group (the server and the TUI it runs per browser tab), then
    SIGKILL to whatever is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        server.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
