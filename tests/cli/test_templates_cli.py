"""`leadms templates sync|list` against the Meta Graph stand-in, both engines (issue 28)."""

import json

from typer.testing import CliRunner

from leadms_tui.cli import app
from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.models import Role
from leadms_tui.domain.team.users import add_user
from leadms_tui.standins.meta_graph import DEMO_TEMPLATES
from tests.conftest import cli_token
from tests.intake.test_chat_sending import _meta_env, standin  # noqa: F401 (a fixture)

runner = CliRunner()


def _run(db, *args, env=None):
    return runner.invoke(app, ["--database-url", db.url, "templates", *args], env=env)


def test_sync_reads_every_page_and_list_shows_them(db, standin):  # noqa: F811
    standin.templates = [*DEMO_TEMPLATES, *[
        {"name": f"extra_{i}", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
         "components": [{"type": "BODY", "text": "Hi {{1}}"}]} for i in range(150)
    ]]  # fmt: skip
    synced = _run(db, "sync", env=_meta_env(standin))
    assert synced.exit_code == 0, synced.output
    assert "153 templates read: 153 added, 0 changed, 0 no longer listed" in synced.output
    listed = json.loads(_run(db, "list", "--json").stdout)
    assert len(listed) == 153
    follow_up = next(t for t in listed if t["name"] == "follow_up")
    assert (follow_up["status"], follow_up["parameters"]) == ("APPROVED", 2)
    standin.templates = list(DEMO_TEMPLATES)
    again = _run(db, "sync", env=_meta_env(standin))
    assert "3 templates read: 0 added, 0 changed, 150 no longer listed" in again.output
    plain = _run(db, "list").stdout
    assert "spring_offer [en_US] PAUSED MARKETING  (cannot be sent)" in plain
    assert all(r.headers["authorization"] == "Bearer wa-test-token" for r in standin.requests)


def test_sync_without_credentials_or_with_a_wrong_token_is_one_line(db, standin):  # noqa: F811
    missing = _run(db, "sync", env={"LEADMS_WHATSAPP_TOKEN": ""})
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1
    assert "LEADMS_WHATSAPP_BUSINESS_ACCOUNT_ID" in missing.stderr
    wrong = _run(db, "sync", env={**_meta_env(standin), "LEADMS_WHATSAPP_TOKEN": "expired"})
    assert wrong.exit_code == 1 and "(190)" in wrong.stderr and "expired" in wrong.stderr
    assert "no templates yet" in _run(db, "list").stdout


def test_only_an_admin_syncs(db, standin):  # noqa: F811
    db.write(lambda s: add_user(s, "ana", role=Role.REP, actor=SYSTEM, password="secret"))
    env = {**_meta_env(standin), "LEADMS_TOKEN": cli_token(db, "ana")}
    refused = _run(db, "sync", env=env)
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    assert standin.requests == []  # Meta was not asked
