"""`leadms phone`: the bridge to an Asterisk/FreePBX manager, and click to call through it."""

import logging
from typing import Annotated

import typer

from leadms_tui.cli.common import CLIError, acting, echo, open_db

app = typer.Typer(help="The phone bridge (Asterisk AMI) and click to call.", no_args_is_help=True)

HostOption = Annotated[
    str, typer.Option("--host", envvar="LEADMS_AMI_HOST", help="The Asterisk manager's address.")
]
PortOption = Annotated[
    int, typer.Option("--port", envvar="LEADMS_AMI_PORT", help="The manager's port (1-65535).")
]
UserOption = Annotated[
    str,
    typer.Option("--username", envvar="LEADMS_AMI_USERNAME", help="The manager.conf user."),
]
TechOption = Annotated[
    str,
    typer.Option(
        "--tech",
        envvar="LEADMS_AMI_TECHS",
        help="Channel technologies of the team's phones, comma-separated.",
    ),
]
PatternOption = Annotated[
    str,
    typer.Option(
        "--extension-pattern",
        envvar="LEADMS_AMI_EXTENSION_PATTERN",
        help="What an extension looks like (a regular expression; trunks have names).",
    ),
]


def _config(host: str, port: int, username: str, techs: str, pattern: str, **more):
    import os
    import re

    from leadms_tui.phone.ami import AmiConfig, Extensions

    if not 1 <= port <= 65535:
        raise CLIError(f"--port {port}: choose 1-65535", 2)
    if not 1 <= more.get("ping_seconds", 20) <= 3600:
        raise CLIError("--ping: between 1 and 3600 seconds", 2)
    secret = os.environ.get("LEADMS_AMI_SECRET", "")
    if not secret:
        raise CLIError("set LEADMS_AMI_SECRET to the manager user's secret", 2)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CLIError(f"--extension-pattern: {exc}", 2) from None
    tech_names = tuple(t.strip() for t in techs.split(",") if t.strip())
    if not tech_names:
        raise CLIError("--tech: name at least one channel technology (PJSIP)", 2)
    return AmiConfig(
        host=host,
        port=port,
        username=username,
        secret=secret,
        extensions=Extensions(tech_names, pattern),
        **more,
    )


@app.command()
def bridge(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 5038,
    username: UserOption = "leadms",
    events: Annotated[
        str,
        typer.Option(
            "--events",
            help="The event mask asked for (call,cdr; add dialplan for MixMonitor file names).",
        ),
    ] = "call,cdr",
    techs: TechOption = "PJSIP,SIP,IAX2,DAHDI",
    pattern: PatternOption = r"\d{2,8}",
    recording_url: Annotated[
        str | None,
        typer.Option(
            "--recording-url",
            envvar="LEADMS_RECORDING_URL",
            help="Where recordings are served: {uniqueid}, {linkedid}, {file} are filled in.",
        ),
    ] = None,
    ping: Annotated[float, typer.Option("--ping", help="Seconds between keep-alive pings.")] = 20,
    context: Annotated[
        str,
        typer.Option(
            "--context",
            envvar="LEADMS_AMI_CONTEXT",
            help="The dialplan context click-to-call dials in.",
        ),
    ] = "from-internal",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every call event.")] = False,
) -> None:
    """Listen to an Asterisk (FreePBX, VICIdial) manager and store its calls; place the
    reps' click-to-call requests (`d` in the call modal) through it.

    The secret comes from LEADMS_AMI_SECRET. Runs until stopped (Ctrl-C or SIGTERM);
    reconnects with backoff after a drop and logs the gap. See the README for manager.conf.
    """
    import asyncio
    import signal

    from leadms_tui.phone.ami import (
        AmiClient,
        AmiLoginError,
        BridgeStats,
        EventWriter,
        database_store,
        dial_loop,
    )

    config = _config(
        host, port, username, techs, pattern,
        events=events, recording_url=recording_url or None, ping_seconds=ping,
    )  # fmt: skip
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    db = open_db(ctx)
    stats = BridgeStats()
    writer = EventWriter(database_store(db), stats)
    client = AmiClient(config, writer)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        dialling = asyncio.create_task(dial_loop(client, db, context=context, stop=stop))
        try:
            await client.run(stop=stop)
        finally:
            stop.set()
            await dialling

    try:
        asyncio.run(run())
    except AmiLoginError as refused:
        raise CLIError(str(refused)) from None
    finally:
        writer.close()
        echo(
            f"phone bridge stopped: {stats.events} events, {stats.stored} stored, "
            f"{stats.skipped} skipped, {stats.dropped} dropped, {len(stats.gaps)} gaps",
            err=True,
        )


@app.command()
def originate(
    ctx: typer.Context,
    lead_number: Annotated[str, typer.Argument(help="The lead to call, e.g. LEAD-20261125-007.")],
    as_user: Annotated[str | None, typer.Option("--as", help="The rep whose phone rings.")] = None,
    context: Annotated[
        str,
        typer.Option("--context", envvar="LEADMS_AMI_CONTEXT", help="The dialplan context."),
    ] = "from-internal",
    host: HostOption = "127.0.0.1",
    port: PortOption = 5038,
    username: UserOption = "leadms",
    techs: TechOption = "PJSIP",
) -> None:
    """Click to call: ring the rep's extension, then dial the lead (AMI Originate)."""
    import asyncio

    from leadms_tui.domain.leads.checks import check_may_read
    from leadms_tui.domain.models import Lead, User
    from leadms_tui.domain.queries.leads import lead_id_by_number
    from leadms_tui.phone.ami import AmiLoginError
    from leadms_tui.phone.ami import originate as send

    config = _config(host, port, username, techs, r".+")
    db = open_db(ctx)

    def look_up(session):
        actor = acting(ctx, session, as_user)
        rep = session.get(User, actor.user_id) if actor.user_id else None
        if rep is None or not rep.extension:
            who = rep.username if rep else actor.name
            raise CLIError(f"{who} has no extension: leadms users set {who} --extension 201")
        lead_id = lead_id_by_number(session=session, number=lead_number)
        check_may_read(session, actor, lead_id)
        lead = session.get(Lead, lead_id)
        if not lead.phone_e164:
            raise CLIError(f"{lead_number} has no phone number to call")
        return rep.extension, lead.phone_e164

    with db.reading() as session:
        extension, number = look_up(session)
    try:
        answer = asyncio.run(send(config, extension, number, context=context))
    except AmiLoginError as refused:
        raise CLIError(str(refused)) from None
    except (OSError, TimeoutError) as exc:
        raise CLIError(f"cannot reach the AMI at {host}:{port}: {exc}") from None
    if answer.get("Response").lower() != "success":
        raise CLIError(f"the PBX refused: {answer.get('Message') or 'no reason given'}")
    echo(f"calling {number} from extension {extension}")
