"""Dynamic fields in the TUI, driven by key presses against real databases: forms, details,
files, the lead list's field filter and columns, conversion and meetings."""

import contextlib
import fcntl
import io
import os
import pty
import stat
import struct
import subprocess
import sys
import termios
import threading
import time

from PIL import Image as PILImage
from sqlalchemy import select
from textual_image.widget import Image

from leadms_tui.domain.audit import SYSTEM
from leadms_tui.domain.fields import files
from leadms_tui.domain.fields.definitions import add_field
from leadms_tui.domain.fields.kinds import Upload
from leadms_tui.domain.fields.values import context, set_fields, values_for
from leadms_tui.domain.models import FieldEntity, FieldKind, Lead, Meeting, Sale
from leadms_tui.domain.queries.sales import client_id_by_number
from leadms_tui.screens.client_detail import ClientDetailScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.modals.convert_modal import ConvertModal
from leadms_tui.screens.modals.edit_fields_modal import EditFieldsModal
from leadms_tui.screens.modals.edit_lead_modal import EditLeadModal
from leadms_tui.screens.modals.path_modal import PathModal
from leadms_tui.widgets.field_view import FieldsPanel, prepare_image_previews
from tests.tui.conftest import settle

LEAD_FIELDS = [  # (key, kind, label, options, required)
    ("goal", FieldKind.CHOICE, "Goal", ["Weight loss", "Strength", "Rehab"], False),
    ("budget", FieldKind.MONEY, "Monthly budget", [], False),
    ("photo", FieldKind.IMAGE, "Photo", [], False),
]


def define(db, entity: FieldEntity, fields) -> None:
    def work(session):
        ctx = context(session)
        for key, kind, label, options, required in fields:
            add_field(
                session, entity, key, kind, label=label, options=options, required=required,
                section="Needs", actor=SYSTEM, ctx=ctx,
            )  # fmt: skip

    db.write(work)


def png(color: str = "red") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), color).save(out, "PNG")
    return out.getvalue()


def set_values(db, entity: FieldEntity, entity_id: int, raw: dict) -> None:
    db.write(lambda s: set_fields(s, entity, entity_id, raw, actor=SYSTEM))


def attach(db, entity: FieldEntity, entity_id: int, key: str, data: bytes, name: str) -> None:
    def work(session):
        stored = files.store_file(session, data, "image/png")
        set_fields(session, entity, entity_id, {key: Upload(stored.id, name)}, actor=SYSTEM)

    db.write(work)


def shown(db, entity: FieldEntity, entity_id: int) -> dict[str, str]:
    with db.reading() as session:
        return {f.key: f.canonical for f in values_for(session, entity, [entity_id])[entity_id]}


def panel_lines(app) -> list[str]:
    return [str(widget.render()) for widget in app.screen.query_one(FieldsPanel).query("Static")]


def render(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def open_detail(pilot, lead_id: int) -> None:
    pilot.app.push_screen(LeadDetailScreen(lead_id))
    await settle(pilot)


async def type_into(pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.press(*text)


async def test_edit_a_lead_with_its_fields_in_one_save(db, make_app, seeded):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["fresh"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EditLeadModal)
        await pilot.press(*" Smith")
        await type_into(pilot, "#field-budget", "1250.50")
        app.screen.query_one("#field-goal").value = "Strength"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert "Goal: Strength" in panel_lines(app)
    assert shown(db, FieldEntity.LEAD, lead_id) == {
        "goal": "Strength",
        "budget": "1250.50",
        "photo": "",
    }
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.name, lead.version) == ("Nina New Smith", 3)  # the edit, then the fields


async def test_a_bad_value_is_shown_at_its_field_and_nothing_is_written(db, make_app, seeded):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["fresh"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press(*" Smith")
        await type_into(pilot, "#field-budget", "lots")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditLeadModal)
        assert "'lots' is not a number" in render(app, "#error-budget")
        assert str(app.screen.query_one("#error-goal").render()) == ""
        assert "see the fields" in render(app, "#edit-status")
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert (lead.name, lead.version) == ("Nina New", 1)
    assert shown(db, FieldEntity.LEAD, lead_id)["budget"] == ""


async def test_a_file_attached_by_path_is_checked_then_stored(db, make_app, seeded, tmp_path):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["fresh"].lead_id
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "face.png").write_bytes(png())
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        await pilot.press("e")
        await settle(pilot)
        await type_into(pilot, "#field-photo", str(tmp_path / "notes.txt"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "notes.txt is not an image" in render(app, "#error-photo")
        app.screen.query_one("#field-photo").value = str(tmp_path / "face.png")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
        assert app.screen.query(Image)  # previewed
    with db.reading() as session:
        (photo,) = [f for f in values_for(session, FieldEntity.LEAD, [lead_id])[lead_id]
                    if f.key == "photo"]  # fmt: skip
        assert photo.text == "face.png"
        assert files.read_file(session, photo.file_id, SYSTEM)[1] == png()


def _feed_later(fifo, data: bytes, after: float) -> threading.Thread:
    """Unblock a reader stuck on `fifo` after `after` seconds (the old code waited there for
    ever), so a test of the refusal fails instead of hanging."""

    def feed():
        time.sleep(after)
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # nobody is reading: refused already
        with contextlib.suppress(OSError), os.fdopen(descriptor, "wb") as out:
            out.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


async def test_a_fifo_or_folder_given_as_a_file_is_refused_at_once(db, make_app, seeded, tmp_path):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["fresh"].lead_id
    fifo = tmp_path / "face.png"
    os.mkfifo(fifo)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        await pilot.press("e")
        await settle(pilot)
        for path, reason in [(fifo, "it is a pipe"), (tmp_path, "it is a folder")]:
            app.screen.query_one("#field-photo").value = str(path)
            feeder = _feed_later(fifo, png(), after=3)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert reason in render(app, "#error-photo")
            feeder.join()
    assert shown(db, FieldEntity.LEAD, lead_id)["photo"] == ""


async def test_field_filter_and_field_columns_on_the_lead_list(db, make_app, seeded):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    set_values(db, FieldEntity.LEAD, seeded["due"].lead_id, {"budget": "50", "goal": "Rehab"})
    set_values(db, FieldEntity.LEAD, seeded["fresh"].lead_id, {"budget": "150"})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, LeadListScreen)
        await pilot.press("ctrl+t", *"budget>=100")
        await pilot.pause(0.3)
        await settle(pilot)
        results = app.screen.query_one("#results")
        assert [str(results.get_row_at(i)[1]) for i in range(results.row_count)] == ["Nina New"]
        box = app.screen.query_one("#field-filter")
        box.value = "budget>=lots"  # as pasted
        await pilot.pause(0.3)
        await settle(pilot)
        assert "'lots' is not a number" in render(app, "#field-filter-error")
        assert results.row_count == 1  # the last good results stay
        box.value = "goal=Rehab,Strength"
        await pilot.pause(0.3)
        await settle(pilot)
        assert render(app, "#field-filter-error") == ""
        assert [str(results.get_row_at(i)[1]) for i in range(results.row_count)] == ["Dora Due"]
        await pilot.press("ctrl+o")
        await settle(pilot)
        await pilot.press("down", "space", "enter")  # the second field: the budget
        await settle(pilot)
        row = [str(cell) for cell in results.get_row_at(0)]
        assert row[3] == "50.00 USD"  # right after the phone: on screen, not after Created
        columns = results.ordered_columns
        assert columns[3].label.plain == "Monthly budget"
        left = sum(column.get_render_width(results) for column in columns[:4])
        assert left <= results.scrollable_content_region.width
    assert app.lead_list_fields == ["budget"]  # remembered for the session


async def test_convert_needs_the_required_client_fields(db, make_app, seeded):
    define(
        db,
        FieldEntity.CLIENT,
        [("membership", FieldKind.CHOICE, "Membership", ["Standard", "Premium"], True)],
    )
    lead_id = seeded["due"].lead_id
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        await pilot.press(*"1250", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        assert "required" in render(app, "#error-membership")
        with db.reading() as session:
            assert session.execute(select(Sale)).first() is None
            assert session.get(Lead, lead_id).status == "new"
        app.screen.query_one("#field-membership").value = "Premium"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
    with db.reading() as session:
        client_id = client_id_by_number(session=session, number="CL-000001")
    assert shown(db, FieldEntity.CLIENT, client_id) == {"membership": "Premium"}


async def test_client_detail_shows_and_edits_its_fields(db, make_app, seeded):
    from leadms_tui.domain.sales.conversion import ConversionRequest, convert_lead

    define(db, FieldEntity.CLIENT, [("renewal", FieldKind.DATE, "Renewal date", [], False)])
    ana = seeded["users"]["ana"].actor
    db.write(lambda s: convert_lead(s, seeded["due"].lead_id, ConversionRequest("100"), actor=ana))
    with db.reading() as session:
        client_id = client_id_by_number(session=session, number="CL-000001")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientDetailScreen(client_id))
        await settle(pilot)
        assert "Renewal date: —" in panel_lines(app)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EditFieldsModal)
        await pilot.press(*"2027-01-31", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert "Renewal date: Sun 31 Jan 2027" in panel_lines(app)
    assert shown(db, FieldEntity.CLIENT, client_id) == {"renewal": "2027-01-31"}


async def test_a_meeting_is_booked_with_its_fields(db, make_app, seeded):
    room = ("room", FieldKind.CHOICE, "Room", ["Studio A", "Online"], True)
    define(db, FieldEntity.MEETING, [room])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, seeded["fresh"].lead_id)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "required" in render(app, "#error-room")
        with db.reading() as session:
            assert session.execute(select(Meeting)).first() is None
        app.screen.query_one("#field-room").value = "Online"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, LeadDetailScreen)
    with db.reading() as session:
        meeting_id = session.execute(select(Meeting.id)).scalar_one()
    assert shown(db, FieldEntity.MEETING, meeting_id) == {"room": "Online"}


async def test_detail_previews_images_and_o_opens_the_file(
    db, make_app, seeded, tmp_path, monkeypatch
):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["due"].lead_id
    set_values(db, FieldEntity.LEAD, lead_id, {"budget": "1250", "goal": "Strength"})
    attach(db, FieldEntity.LEAD, lead_id, "photo", png("blue"), "front.desktop")
    script = tmp_path / "viewer.sh"
    script.write_text(
        f'#!/bin/sh\ncp "$1" "{tmp_path}/opened"\nbasename "$1" > "{tmp_path}/opened-as"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("LEADMS_OPEN_COMMAND", str(script))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        lines = panel_lines(app)
        assert "Monthly budget: 1,250.00 USD" in lines and "Goal: Strength" in lines
        assert app.screen.query_one(FieldsPanel).query_one(Image)
        await pilot.press("o")
        await settle(pilot)
        assert (tmp_path / "opened").read_bytes() == png("blue")
        # named by its bytes' type, never by its stored name
        assert (tmp_path / "opened-as").read_text().strip() == "file.png"
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, PathModal)
        app.screen.query_one("#save-path").value = str(tmp_path)
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "front.desktop").read_bytes() == png("blue")


async def test_an_image_that_does_not_decode_shows_its_name(db, make_app, seeded):
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["due"].lead_id
    broken = png()[:16] + b"\x00" * 64  # a PNG signature, then nothing an image is made of
    attach(db, FieldEntity.LEAD, lead_id, "photo", broken, "broken.png")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        assert not app.screen.query_one(FieldsPanel).query(Image)
        assert "no preview: broken.png" in panel_lines(app)


async def test_an_image_field_added_after_start_up_shows_its_name(
    db, make_app, seeded, monkeypatch
):
    """Previews need a terminal query before Textual starts; without it, the name and why."""
    monkeypatch.delitem(sys.modules, "textual_image.widget")
    define(db, FieldEntity.LEAD, LEAD_FIELDS)
    lead_id = seeded["due"].lead_id
    attach(db, FieldEntity.LEAD, lead_id, "photo", png("blue"), "front.png")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, lead_id)
        assert not app.screen.query_one(FieldsPanel).query(Image)
        assert "preview after a restart: front.png" in panel_lines(app)


def test_a_terminal_probe_that_fails_costs_the_previews_not_the_start(monkeypatch):
    """A pty reporting 0 columns made textual-image divide by zero, and `leadms` exit at start."""
    import textual_image._terminal

    def zero_columns():
        raise ZeroDivisionError("division by zero")

    monkeypatch.delitem(sys.modules, "textual_image.widget")
    monkeypatch.setattr(textual_image._terminal, "get_cell_size", zero_columns)
    prepare_image_previews()
    assert "textual_image.widget" not in sys.modules  # images show as their names


def test_a_terminal_that_never_answers_sees_no_traceback():
    """On a real pseudo-terminal that knows its size in cells but not in pixels and answers
    no query (as under `script` or tmux), textual-image's probe times out: not a word of it
    may reach the user's terminal."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    probe = "from leadms_tui.widgets.field_view import prepare_image_previews as p; p()"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )
    os.close(terminal)
    os.close(controller)
    assert run.returncode == 0
    assert run.stderr == b""


async def test_without_fields_nothing_changes(make_app, seeded):
    """No field defined: no field keys, no fields panel."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_detail(pilot, seeded["due"].lead_id)
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not {"open_file", "save_file"} & keys
        assert not app.screen.query_one(FieldsPanel).display
        await pilot.press("slash")
        await settle(pilot)
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not {"field_filter", "field_columns"} & keys
