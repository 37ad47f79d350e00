"""`leadms web`: the TUI in a browser, served by textual-serve.

Each browser tab gets its own TUI process on the same database, opening on the sign-in
screen: a browser user signs in with a username and password like a terminal user, and
then has the same role and permissions.
"""

import ipaddress
import os
import shlex
import socket
import sys
from weakref import WeakSet

import typer

from leadms_tui.cli.common import CLIError, bind_listener, database_url, echo, open_noting_new

PROXY_WARNING = (
    "warning: {host} is not a loopback address: the TUI, passwords included, is served over "
    "plain HTTP. Put it behind a reverse proxy with TLS (README: In a browser)."
)


def web(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on (1-65535)."),
    public_url: str | None = typer.Option(
        None,
        "--public-url",
        help="The address browsers use, if not http://HOST:PORT "
        "(behind a reverse proxy: https://crm.example.com).",
    ),
) -> None:
    """Serve the TUI in a browser: every tab signs in like a terminal.

    Loopback only by default. On another address, put it behind a reverse proxy with TLS
    (README: In a browser) and give the proxy's address with --public-url.
    """
    if not 1 <= port <= 65535:
        raise CLIError(f"--port must be between 1 and 65535, not {port}", 2)
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
    server = _server_class()(command, host=host, port=port, title="Lead MS", public_url=public_url)
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


def _server_class() -> type:
    """textual-serve's server, quiet at startup (our line says where it serves) and quick to
    stop: on Ctrl+C or SIGTERM it closes the browsers' websockets, so each tab's TUI is told
    to quit, instead of aiohttp waiting up to a minute for every open tab."""
    from aiohttp import WSCloseCode, web
    from textual_serve.server import Server

    class LeadMSServer(Server):
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
