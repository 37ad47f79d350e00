"""`leadms fields`, `leads set/show` and `files get`: define, fill, read back typed, on both
engines; a bad value is one line and writes nothing."""

import base64
import json
import os
import resource
import subprocess
import sys
import time

from sqlalchemy import func, select
from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.leads.intake import LeadCreate, create_lead
from leadms_tui.domain.models import FieldValue, Role
from leadms_tui.domain.team.users import add_user
from tests.conftest import cli_token

runner = CliRunner()
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGM44WDAgASYkDkM+OQA9ucB"
    "TW4ALxEAAAAASUVORK5CYII="
)


def leadms(url, *args, token=None):
    return runner.invoke(app, ["--database-url", url, *args], env={"LEADMS_TOKEN": token})


def _setup(db):
    db.write(lambda s: add_user(s, "root", role=Role.ADMIN, actor=SYSTEM, password="secret"))
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret"))
    lead = create_lead(
        db, LeadCreate(name="Dora", phone="+12025550100", channel="website"), actor=SYSTEM
    )
    return lead.number, cli_token(db, "root"), cli_token(db, "ana")


def test_define_fill_and_read_back_typed(db_url, db, tmp_path):
    number, root, ana = _setup(db)
    for args in (
        ["budget", "--type", "money", "--label", "Budget"],
        ["plan", "--type", "choice", "--options", "Gold,Silver"],
        ["photo", "--type", "image", "--section", "Site"],
        ["visit", "--type", "date"],
    ):
        result = leadms(db_url, "fields", "add", "lead", *args, token=root)
        assert result.exit_code == 0, result.output
    refused = leadms(db_url, "fields", "add", "lead", "x", "--type", "text", token=ana)
    assert refused.exit_code == 1 and "only an admin" in refused.output
    listed = json.loads(leadms(db_url, "fields", "list", "--json", token=ana).output)
    assert [f["key"] for f in listed] == ["budget", "plan", "photo", "visit"]

    picture = tmp_path / "front.png"
    picture.write_bytes(PNG)
    result = leadms(
        db_url,
        "leads",
        "set",
        number,
        "budget=1500",
        "plan=gold",
        f"photo=@{picture}",
        "visit=2026-12-24",
        token=ana,
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(leadms(db_url, "leads", "show", number, "--json", token=ana).output)
    photo = shown["fields"]["photo"]
    assert shown["fields"]["budget"] == "1500" and shown["fields"]["plan"] == "Gold"
    assert shown["fields"]["visit"] == "2026-12-24"
    assert (photo["name"], photo["type"], photo["size"]) == ("front.png", "image/png", len(PNG))
    saved = tmp_path / "copy.png"
    got = leadms(db_url, "files", "get", str(photo["id"]), "-o", str(saved), token=ana)
    assert got.exit_code == 0 and saved.read_bytes() == PNG


def test_bad_values_are_one_line_and_write_nothing(db_url, db, tmp_path):
    number, root, ana = _setup(db)
    leadms(db_url, "fields", "add", "lead", "budget", "--type", "money", token=root)
    leadms(db_url, "fields", "add", "lead", "photo", "--type", "image", token=root)
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"%PDF-1.4 not a picture")
    for args, message in [
        (["budget=ten"], "Budget: 'ten' is not a number"),
        (["nope=1"], "unknown lead field 'nope'"),
        (["budget=5", f"photo=@{fake}"], "fake.png is not an image"),
        (["budget"], "use KEY=VALUE"),
    ]:
        result = leadms(db_url, "leads", "set", number, *args, token=ana)
        assert result.exit_code != 0 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FieldValue)) == 0


def test_retire_hides_and_restore_brings_back(db_url, db):
    _, root, _ = _setup(db)
    leadms(db_url, "fields", "add", "client", "tier", "--type", "text", token=root)
    assert leadms(db_url, "fields", "retire", "client", "tier", token=root).exit_code == 0
    assert "tier" not in leadms(db_url, "fields", "list", token=root).output
    assert "retired" in leadms(db_url, "fields", "list", "--retired", token=root).output
    leadms(db_url, "fields", "retire", "client", "tier", "--restore", token=root)
    assert "tier" in leadms(db_url, "fields", "list", token=root).output


def _leadms_process(url, *args, token):
    """The real command in its own process (stdout as bytes, not a terminal), held to a time
    and memory budget: the old reader grew without end on /dev/zero and waited on a FIFO."""

    def budget():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    result = subprocess.run(
        [sys.executable, "-m", "leadms_tui", "--database-url", url, *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, "LEADMS_TOKEN": token},
        preexec_fn=budget,
    )
    return result.returncode, result.stdout, result.stderr.decode()


def test_only_regular_files_are_read_and_never_past_the_limit(db_url, db, tmp_path):
    number, root, ana = _setup(db)
    leadms(db_url, "fields", "add", "lead", "photo", "--type", "image", token=root)
    leadms(db_url, "settings", "set", "file_max_mb", "1", token=root)
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * 2**20)
    for path, reason in [
        ("/dev/zero", "it is a device"),
        (fifo, "it is a pipe"),
        (tmp_path, "it is a folder"),
        (big, "larger than the limit of 1 MB"),
    ]:
        started = time.monotonic()
        code, _, err = _leadms_process(db_url, "leads", "set", number, f"photo=@{path}", token=ana)
        assert code == 1 and reason in err and err.count("\n") == 1, err
        assert time.monotonic() - started < 30
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FieldValue)) == 0


def test_files_get_writes_only_new_paths_or_stdout(db_url, db, tmp_path):
    number, root, ana = _setup(db)
    leadms(db_url, "fields", "add", "lead", "photo", "--type", "image", token=root)
    picture = tmp_path / "front.png"
    picture.write_bytes(PNG)
    assert leadms(db_url, "leads", "set", number, f"photo=@{picture}", token=ana).exit_code == 0
    shown = json.loads(leadms(db_url, "leads", "show", number, "--json", token=ana).output)
    file_id = str(shown["fields"]["photo"]["id"])

    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(victim)
    for target in (existing, link):
        refused = leadms(db_url, "files", "get", file_id, "-o", str(target), token=ana)
        assert refused.exit_code == 1 and "exists" in refused.output, refused.output
        assert "--force replaces it" in refused.output and refused.output.count("\n") == 1
    assert existing.read_bytes() == b"old" and victim.read_bytes() == b"keep me"

    for target in (existing, link):
        forced = leadms(db_url, "files", "get", file_id, "-o", str(target), "--force", token=ana)
        assert forced.exit_code == 0 and target.read_bytes() == PNG
    assert not link.is_symlink() and victim.read_bytes() == b"keep me"

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, out, err = _leadms_process(db_url, "files", "get", file_id, "-o", "-", token=ana)
    finally:
        os.chdir(cwd)
    assert code == 0 and out == PNG, err
    assert not (tmp_path / "-").exists()


def test_reps_see_own_closes_other_reps_leads_and_files(db_url, db, tmp_path):
    number, root, ana = _setup(db)
    bruno_user = db.write(
        lambda s: add_user(s, "bruno", role=Role.REP, actor=SYSTEM, password="secret")
    )
    bruno = cli_token(db, "bruno")
    theirs = create_lead(
        db,
        LeadCreate(name="Ivo", phone="+12025550111", channel="website", owner_id=bruno_user.id),
        actor=SYSTEM,
    ).number
    leadms(db_url, "fields", "add", "lead", "photo", "--type", "image", token=root)
    picture = tmp_path / "front.png"
    picture.write_bytes(PNG)
    assert leadms(db_url, "leads", "set", theirs, f"photo=@{picture}", token=bruno).exit_code == 0
    shown = json.loads(leadms(db_url, "leads", "show", theirs, "--json", token=bruno).output)
    file_id = str(shown["fields"]["photo"]["id"])

    def ana_sees():
        listed = leadms(db_url, "leads", "list", "--json", token=ana).output.splitlines()
        opened = leadms(db_url, "leads", "show", theirs, token=ana)
        got = leadms(db_url, "files", "get", file_id, "-o", str(tmp_path / "x.png"), token=ana)
        (tmp_path / "x.png").unlink(missing_ok=True)
        numbers = {json.loads(line)["number"] for line in listed}
        return numbers, opened, got

    numbers, opened, got = ana_sees()  # team, the default: as before
    assert numbers == {number, theirs} and opened.exit_code == 0 and got.exit_code == 0

    refused = leadms(db_url, "settings", "set", "reps_see", "own", token=ana)
    assert refused.exit_code == 1
    assert leadms(db_url, "settings", "set", "reps_see", "own", token=root).exit_code == 0
    numbers, opened, got = ana_sees()
    assert numbers == {number}  # her own lead is unassigned: still hers to open
    for result in (opened, got):
        assert result.exit_code == 1 and "belongs to another rep" in result.output, result.output
        assert result.output.count("\n") == 1
    assert leadms(db_url, "leads", "show", number, token=ana).exit_code == 0
    assert leadms(db_url, "leads", "show", theirs, token=root).exit_code == 0
    unsigned = leadms(db_url, "leads", "show", theirs)
    assert unsigned.exit_code == 1 and "sign in first" in unsigned.output
