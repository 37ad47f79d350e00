"""`leadms intake serve`: the live webhook and form intake service."""

import typer

from leadms_tui.cli.common import open_db

app = typer.Typer(
    help="The live intake service (webhooks and website forms).", no_args_is_help=True
)


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        "--forwarded-allow-ips",
        help="Proxies trusted for X-Forwarded-For (the client address used for rate limits).",
    ),
) -> None:
    """Serve /webhooks/whatsapp, /webhooks/messenger, /forms/{slug} and /healthz.

    Configured by LEADMS_WA_VERIFY_TOKEN, LEADMS_META_APP_SECRET, LEADMS_FORM_ORIGINS
    (comma-separated), LEADMS_FORM_RATE_LIMIT (posts per minute per client, default 10)
    and LEADMS_FORM_HONEYPOT (default _gotcha).
    """
    import uvicorn

    from leadms_tui.intake.service import IntakeConfig, create_app

    config = IntakeConfig.from_env()
    if not config.app_secret:
        typer.echo("warning: LEADMS_META_APP_SECRET is not set: webhook posts get 403", err=True)
    if not config.verify_token:
        typer.echo("warning: LEADMS_WA_VERIFY_TOKEN is not set: verification gets 403", err=True)
    service = create_app(open_db(ctx), config)
    uvicorn.run(
        service,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info",
    )
