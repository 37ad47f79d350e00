"""`leadms intake serve`: the live webhook and form intake service."""

import dataclasses
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, bind_listener, open_db

app = typer.Typer(
    help="The live intake service (webhooks and website forms).", no_args_is_help=True
)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (1-65535).")] = 8080,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies trusted for X-Forwarded-For (the client address used for rate limits).",
        ),
    ] = "127.0.0.1",
    max_connections: Annotated[
        int,
        typer.Option(
            "--max-connections",
            help="Open connections at most: a request beyond gets 503, a socket beyond is closed.",
        ),
    ] = 200,
    head_timeout: Annotated[
        float,
        typer.Option(
            "--head-timeout",
            help="Seconds a client has to send a request's headers (idle sockets are closed).",
        ),
    ] = 10,
    body_timeout: Annotated[
        float,
        typer.Option("--body-timeout", help="Seconds a client has to send a body (then 408)."),
    ] = 30,
    keep_alive_timeout: Annotated[
        int,
        typer.Option(
            "--keep-alive-timeout", help="Seconds an idle connection is kept between requests."
        ),
    ] = 5,
    max_header_bytes: Annotated[
        int, typer.Option("--max-header-bytes", help="Request line and headers together, at most.")
    ] = 16_384,
    backlog: Annotated[
        int, typer.Option("--backlog", help="Connections waiting to be accepted, at most.")
    ] = 128,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            "--graceful-timeout",
            help="Seconds to finish the requests under way when asked to stop.",
        ),
    ] = 10,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", help="Log a line per request (off: quieter)."),
    ] = False,
) -> None:
    """Serve /webhooks/whatsapp, /webhooks/messenger, /forms/{slug} and /healthz.

    Configured by LEADMS_WA_VERIFY_TOKEN, LEADMS_META_APP_SECRET, LEADMS_FORM_ORIGINS
    (comma-separated), LEADMS_FORM_RATE_LIMIT (posts per minute per client, default 10)
    and LEADMS_FORM_HONEYPOT (default _gotcha).

    With LEADMS_WHATSAPP_TOKEN and LEADMS_WHATSAPP_PHONE_NUMBER_ID (and/or
    LEADMS_MESSENGER_PAGE_TOKEN and LEADMS_MESSENGER_PAGE_ID) it also sends the reps' chat
    replies, at most LEADMS_CHAT_RATE a second (default 20), to LEADMS_META_GRAPH_URL
    (default https://graph.facebook.com/v21.0).

    Bodies over 1 MB are refused (413) before they are parsed. The options below bound
    connections and slow clients, so a flood of them cannot exhaust the process;
    repeated warnings are rate-limited in the log. Messages that cannot be taken in
    are kept in the intake_rejects table.
    """
    # Checked here, not by Typer's min/max, for a one-line error (exit 2) like every command.
    if not 1 <= port <= 65535:
        raise CLIError(f"--port must be between 1 and 65535, not {port}", 2)
    for name, value in (
        ("--max-connections", max_connections),
        ("--head-timeout", head_timeout),
        ("--body-timeout", body_timeout),
        ("--keep-alive-timeout", keep_alive_timeout),
        ("--max-header-bytes", max_header_bytes),
        ("--backlog", backlog),
    ):
        if value <= 0:
            raise CLIError(f"{name} must be more than 0, not {value}", 2)
    if graceful_timeout < 0:
        raise CLIError(f"--graceful-timeout must be 0 or more, not {graceful_timeout}", 2)

    import uvicorn

    from leadms_tui.intake.server import (
        ServerLimits,
        limit_malloc_arenas,
        release_free_memory_every,
        server_config,
    )
    from leadms_tui.intake.service import IntakeConfig, create_app

    # Bound before anything starts, so a port in use is one line, not uvicorn's log and exit.
    listener = bind_listener(host, port)
    config = dataclasses.replace(IntakeConfig.from_env(), body_seconds=body_timeout)
    if not config.app_secret:
        typer.echo("warning: LEADMS_META_APP_SECRET is not set: webhook posts get 403", err=True)
    if not config.verify_token:
        typer.echo("warning: LEADMS_WA_VERIFY_TOKEN is not set: verification gets 403", err=True)
    if not config.meta.configured:
        typer.echo("note: no Meta credentials: chat replies stay queued (see README)", err=True)
    limits = ServerLimits(
        max_connections=max_connections,
        head_seconds=head_timeout,
        keep_alive_seconds=keep_alive_timeout,
        max_header_bytes=max_header_bytes,
        backlog=backlog,
        graceful_shutdown_seconds=graceful_timeout,
    )
    limit_malloc_arenas()  # before the request threads start
    release_free_memory_every(60)
    service = create_app(open_db(ctx), config)
    typer.echo(f"listening on http://{host}:{port}", err=True)  # uvicorn is silent: own socket
    uvicorn.Server(
        server_config(
            service,
            host=host,
            port=port,
            limits=limits,
            forwarded_allow_ips=forwarded_allow_ips,
            access_log=access_log,
        )
    ).run(sockets=[listener])
