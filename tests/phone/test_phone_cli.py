"""`leadms phone bridge` as a process against the stand-in manager (stored, stopped by SIGTERM),
its one-line refusals, and `leadms phone originate` (click to call) on both engines."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import PhoneCall
from leadms_tui.domain.team.users import update_user
from leadms_tui.standins.ami import AmiStandIn, read_log
from tests.conftest import cli_token
from tests.phone.make_ami_log import make_log

runner = CliRunner()


@contextlib.contextmanager
def manager(log_text: str = "", secret: str = "s3cret") -> Iterator[AmiStandIn]:
    """The stand-in manager on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> AmiStandIn:
        stand_in = AmiStandIn(read_log(log_text) if log_text else [], secret=secret)
        await stand_in.start()
        return stand_in

    stand_in = asyncio.run_coroutine_threadsafe(make(), loop).result(10)
    try:
        yield stand_in
    finally:
        asyncio.run_coroutine_threadsafe(stand_in.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _bridge(db, port: int, secret: str = "s3cret") -> subprocess.Popen:
    env = os.environ | {"LEADMS_AMI_SECRET": secret, "LEADMS_AMI_PORT": str(port)}
    command = [sys.executable, "-m", "leadms_tui", "--database-url", db.url, "phone", "bridge"]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def _count(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(PhoneCall))


def test_the_bridge_process_stores_calls_and_stops_on_sigterm(db, phones):
    log, expected = make_log(20, seed=7)
    stored = sum(e.person is not None for e in expected)
    with manager(log) as stand_in:
        process = _bridge(db, stand_in.port)
        deadline = time.monotonic() + 120
        while _count(db) < stored and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        time.sleep(1)  # the last Cdr events
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert _count(db) == stored
    assert "AMI connected to 127.0.0.1" in errors
    assert "phone bridge stopped:" in errors and "0 dropped, 0 gaps" in errors


def test_the_bridge_refuses_in_one_line(db):
    with manager() as stand_in:
        process = _bridge(db, stand_in.port, secret="wrong")
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "refused user leadms: Authentication failed" in errors
    env = {"LEADMS_AMI_SECRET": ""}
    result = runner.invoke(app, ["--database-url", db.url, "phone", "bridge"], env=env)
    assert result.exit_code == 2 and "set LEADMS_AMI_SECRET" in result.output


def test_click_to_call_rings_the_reps_extension_then_dials_the_lead(db, phones):
    lead = create_lead(
        db, LeadCreate(name="Nora", phone="07700 900123", channel="website"), actor=SYSTEM
    )
    token = cli_token(db, "ana")
    with manager() as stand_in:
        env = {"LEADMS_TOKEN": token, "LEADMS_AMI_SECRET": "s3cret",
               "LEADMS_AMI_PORT": str(stand_in.port)}  # fmt: skip
        result = runner.invoke(
            app, ["--database-url", db.url, "phone", "originate", lead.number], env=env
        )
        assert result.exit_code == 0, result.output
        assert result.output == "calling +447700900123 from extension 201\n"
        [action] = stand_in.originated
    assert (action.get("Channel"), action.get("Exten"), action.get("Context")) == (
        "PJSIP/201", "+447700900123", "from-internal"
    )  # fmt: skip
    assert action.get("Async") == "true"
    bruno = cli_token(db, "bruno")  # no extension is a one-line refusal
    db.write(lambda s: update_user(s, "bruno", actor=SYSTEM, extension=""))
    env = {"LEADMS_TOKEN": bruno, "LEADMS_AMI_SECRET": "s3cret"}
    refused = runner.invoke(
        app, ["--database-url", db.url, "phone", "originate", lead.number], env=env
    )
    assert refused.exit_code == 1 and "bruno has no extension" in refused.output
