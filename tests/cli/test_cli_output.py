"""What the CLI writes to a terminal: data never drives it, and a closed pipe is no traceback."""

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from leadms_tui.domain import clock
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FollowUp, Role
from leadms_tui.domain.team.users import add_user

LEADMS = [sys.executable, "-m", "leadms_tui"]
ROOT = Path(__file__).resolve().parents[2]
TERMINAL_CONTROL = [b"\x1b", b"\x07", b"\x9b", "\u009b".encode(), b"\x00"]


def _on_a_pty(args: list[str]) -> bytes:
    """Run the command with its stdout on a pseudo-terminal, as a person's shell does."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, stdout=terminal, stderr=terminal, cwd=ROOT)
    os.close(terminal)
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=30)
    os.close(controller)
    assert process.returncode == 0, output
    return output


def test_lists_on_a_terminal_carry_no_control_sequence(db_url, db):
    hostile = "[/] Eve \x1b]0;pwned\x07 \x1b[2J \x1b]52;c;ZXZpbA==\x07 [bold]x"

    def seed(session):
        return add_user(session, "ana", role=Role.REP, actor=SYSTEM, display_name=hostile)

    ana = db.write(seed)
    lead = create_lead(
        db,
        LeadCreate(name=hostile, phone="+447700900123", channel="website", owner_id=ana.id),
        actor=ana.actor,
    )

    def raw(session):  # stored before names were cleaned: the output must still be safe
        session.execute(text("UPDATE users SET display_name = :n"), {"n": hostile})
        session.execute(text("UPDATE leads SET name = :n"), {"n": hostile})
        session.add(FollowUp(lead_id=lead.lead_id, owner_id=ana.id, due_at=clock.now()))
        session.flush()
        session.execute(text("UPDATE follow_ups SET reason = :n"), {"n": hostile})

    db.write(raw)
    for command in (["leads", "list"], ["followups", "list"], ["users", "list"]):
        output = _on_a_pty([*LEADMS, "--database-url", db_url, *command])
        assert b"Eve" in output, command
        for code in TERMINAL_CONTROL:
            assert code not in output, (command, code, output)
        assert b"[/] Eve" in output  # markup-looking text printed as it is


def test_a_closed_pipe_ends_quietly(db_url, db):
    for index in range(3):
        create_lead(
            db,
            LeadCreate(name=f"Lead {index}", email=f"l{index}@example.com", channel="website"),
            actor=SYSTEM,
        )
    listing = subprocess.Popen(
        [*LEADMS, "--database-url", db_url, "leads", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert listing.stdout is not None
    listing.stdout.close()  # the reader is gone before the first line (`| head -0`)
    _, errors = listing.communicate(timeout=60)
    assert errors == b""
    assert listing.returncode == 141  # 128 + SIGPIPE, as the shell reports for Unix tools
