"""`leadms web`: the TUI in a browser, served by textual-serve.

Each browser tab gets its own TUI process on the same database, opening on the sign-in
screen: a browser user signs in with a username and password like a terminal user, and
then has the same role and permissions. Only the page this server serves may open a tab
(same origin), the live tabs are capped in total and per address, and each tab's sign-ins
are throttled by its browser's address.
"""

import asyncio
import html
import ipaddress
import logging
import os
import shlex
import socket
import sys
from collections import Counter
from typing import Annotated
from urllib.parse import urlsplit
from weakref import WeakSet

import typer

from leadms_tui.cli.common import CLIError, bind_listener, database_url, echo, open_noting_new

log = logging.getLogger("textual-serve")  # its log, for a tab that fails

PROXY_WARNING = (
    "warning: {host} is not a loopback address: the TUI, passwords included, is served over "
    "plain HTTP. Put it behind a reverse proxy with TLS (README: In a browser)."
)


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (1-65535).")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The address browsers use, if not http://HOST:PORT "
            "(behind a reverse proxy: https://crm.example.com).",
        ),
    ] = None,
    max_sessions: Annotated[
        int,
        typer.Option(
            "--max-sessions", help="Browser tabs open at once, in all (each runs a TUI process)."
        ),
    ] = 20,
    max_sessions_per_address: Annotated[
        int,
        typer.Option(
            "--max-sessions-per-address", help="Browser tabs open at once from one address."
        ),
    ] = 4,
) -> None:
    """Serve the TUI in a browser: every tab signs in like a terminal.

    Loopback only by default. On another address, put it behind a reverse proxy with TLS
    (README: In a browser) and give the proxy's address with --public-url.
    """
    if not 1 <= port <= 65535:
        raise CLIError(f"--port must be between 1 and 65535, not {port}", 2)
    for option, value in [
        ("--max-sessions", max_sessions),
        ("--max-sessions-per-address", max_sessions_per_address),
    ]:
        if not 1 <= value <= 10_000:
            raise CLIError(f"{option} must be between 1 and 10000, not {value}", 2)
    if public_url is not None and not _is_http_url(public_url):
        # browsers send its origin: the websocket check compares with it
        raise CLIError(f"--public-url must be an http(s) address, not {public_url!r}", 2)
    from leadms_tui.domain.db import describe_url
    from leadms_tui.domain.team.access import has_users

    url = database_url(ctx)
    database = open_noting_new(url)  # not upgraded, unreachable: the usual one-line error, now
    with database.reading() as session:
        ready = has_users(session)
    database.dispose()
    if not ready:  # the first-run setup creates an admin: never for whoever reaches the page
        raise CLIError("this database has no users yet: run `leadms` in a terminal first")
    # Each tab's TUI inherits the environment: the URL travels there, not on a command line
    # where `ps` would show its password. It is never given a user: it opens on the sign-in.
    os.environ["LEADMS_DATABASE_URL"] = url
    command = shlex.join([sys.executable, "-m", "leadms_tui"])
    if not is_loopback(host):
        echo(PROXY_WARNING.format(host=host or "every address"), err=True)
    public_url = (public_url or f"http://{_url_host(host)}:{port}").rstrip("/")
    server = _server_class()(
        command,
        host=host,
        port=port,
        title="Lead MS",
        public_url=public_url,
        limits=SessionLimits(max_sessions, max_sessions_per_address),
    )
    bind_listener(host, port).close()  # a taken port is said before "Serving", not after
    echo(f"Serving Lead MS on {public_url} (database {describe_url(url)}); Ctrl+C stops.")
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's
        raise CLIError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """The host part of the pages' own URLs (the websocket and static files)."""
    if host in ("", "0.0.0.0", "::"):  # every address: browsers need a real name
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


class SessionLimits:
    """Live browser tabs, in all and per address: each is a TUI process (about 70 MB)."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total, self.per_address = total, per_address
        self.live: Counter[str] = Counter()

    def refusal(self, address: str) -> str | None:
        """Why one more tab from `address` is refused, or None."""
        if self.live[address] >= self.per_address:
            return (
                f"{self.per_address} Lead MS tabs are already open from your address, the most "
                "allowed: close one of them (or sign out there), then reload this page."
            )
        if self.live.total() >= self.total:
            return (
                f"Lead MS is serving {self.total} tabs, the most it allows: try again in a "
                "while, or ask your admin (leadms web --max-sessions)."
            )
        return None


def origin_allowed(origin: str | None, host_header: str | None, public_url: str) -> bool:
    """A websocket may come only from the page this server serves: its Origin is the public
    URL's, or the very address the request was sent to (same origin) when that names this
    server (an IP address, localhost, this machine or the public URL's host). Any other
    page, and a rebound DNS name (evil.example resolving to 127.0.0.1), is refused."""
    if not origin or not host_header:
        return False
    origin = origin.strip().lower().rstrip("/")
    if origin == _origin(public_url):
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.netloc != host_header.strip().lower():
        return False
    name = parts.hostname or ""
    known = {"localhost", socket.gethostname().lower(), urlsplit(public_url).hostname or ""}
    return name in known or _is_ip(name)


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The browser's address, for the session caps and sign-in throttling. Behind a reverse
    proxy on this machine, the address it appends last to X-Forwarded-For (the one it saw);
    a browser's script cannot set that header on a websocket."""
    peer = peer or "unknown"
    if forwarded_for and is_loopback(peer):
        return forwarded_for.rsplit(",", 1)[-1].strip()[:64] or peer
    return peer


def _origin(url: str) -> str:
    """scheme://host[:port] as a browser sends it in Origin (no default port)."""
    parts = urlsplit(url.strip().lower())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{parts.scheme}://{host}{port}"


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


REFUSED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lead MS: busy</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Lead MS cannot open another tab</h1><p>{reason}</p></body></html>
"""


def _server_class() -> type:
    """textual-serve's server, quiet at startup (our line says where it serves) and quick to
    stop: on Ctrl+C or SIGTERM it closes the browsers' websockets, so each tab's TUI is told
    to quit, instead of aiohttp waiting up to a minute for every open tab."""
    from aiohttp import WSCloseCode, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    from leadms_tui.domain.team.access import SOURCE_ENV

    class Tab(AppService):
        """One tab's TUI process, told its browser's address (sign-in throttling)."""

        def __init__(self, *args, source: str, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.source = source

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            return {**super()._build_environment(width, height), SOURCE_ENV: self.source}

    class LeadMSServer(Server):
        def __init__(self, *args, limits: SessionLimits, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.limits = limits

        @staticmethod
        def _address(request: web.Request) -> str:
            return client_address(request.remote, request.headers.get("X-Forwarded-For"))

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            """The page, or a page saying why no tab can open now."""
            reason = self.limits.refusal(self._address(request))
            if reason is not None:
                page = REFUSED_PAGE.format(reason=html.escape(reason))
                return web.Response(status=503, text=page, content_type="text/html")
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            """textual-serve's, behind the checks: a foreign page (403) or one tab too many
            (503) is refused before any TUI process starts."""
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, request.host, self.public_url):
                return web.Response(
                    status=403, text="Lead MS: only its own page may open a session\n"
                )
            address = self._address(request)
            reason = self.limits.refusal(address)
            if reason is not None:
                return web.Response(status=503, text=f"Lead MS: {reason}\n")
            self.limits.live[address] += 1
            try:
                return await self._run_tab(request, address)
            finally:
                self.limits.live[address] -= 1
                if self.limits.live[address] <= 0:
                    del self.limits.live[address]

        async def _run_tab(self, request: web.Request, address: str) -> web.WebSocketResponse:
            """As textual-serve's handle_websocket, with a Tab that knows its address."""
            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            tab: Tab | None = None
            try:
                await websocket.prepare(request)
                tab = Tab(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                    source=f"web:{address}",
                )
                await tab.start(width, height)
                await self._process_messages(websocket, tab)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:
                log.exception(error)
            finally:
                if tab is not None:
                    await tab.stop()
            return websocket

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            sockets: WeakSet[web.WebSocketResponse] = WeakSet()  # the open tabs

            async def track(_request: web.Request, response: web.StreamResponse) -> None:
                if isinstance(response, web.WebSocketResponse):
                    sockets.add(response)

            async def close_all(_app: web.Application) -> None:
                for socket_ in list(sockets):
                    await socket_.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")

            app.on_response_prepare.append(track)
            app.on_shutdown.append(close_all)
            return app

        async def on_startup(self, app: web.Application) -> None:
            """No banner: `web` printed where it serves."""

    return LeadMSServer
