"""The one loading helper (screens/loading.py): newest result only, refusals said in the
screen, failures as toasts, nothing shown on a closed screen."""

import threading

from leadms_tui.domain.errors import ValidationError
from tests.tui.conftest import settle


def _errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_a_newer_load_of_the_same_group_drops_the_older_result(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        started, release, returned = (threading.Event() for _ in range(3))
        shown: list[str] = []

        def slow(session) -> str:
            started.set()
            release.wait(10)
            returned.set()
            return "older"

        screen.load(slow, shown.append, group="probe", description="Probing")
        while not started.is_set():  # the older read is under way in its thread
            await pilot.pause(0.01)
        screen.load(lambda session: "newer", shown.append, group="probe", description="Probing")
        await settle(pilot)
        assert shown == ["newer"]
        release.set()
        assert returned.wait(10)
        await settle(pilot)
        assert shown == ["newer"]  # the older read came back last, and was dropped
        other: list[str] = []
        screen.load(lambda session: "own", other.append, group="other", description="Probing")
        await settle(pilot)
        assert other == ["own"]  # another group is not cancelled by these


async def test_a_refusal_is_said_in_the_screen_and_a_failure_in_a_toast(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen, said, failed, done = app.screen, [], [], []

        def refuse(session) -> None:
            raise ValidationError("no such thing")

        def crash(session) -> None:
            raise RuntimeError("disk on fire")

        screen.commit(refuse, done.append, group="probe", description="Probing",
                      refused=lambda exc: said.append(str(exc)), failed=failed.append)  # fmt: skip
        await settle(pilot)
        assert said == ["no such thing"] and not failed and not done
        assert not _errors(app)  # said in the screen: no toast
        screen.commit(crash, done.append, group="probe", description="Probing",
                      refused=lambda exc: said.append(str(exc)), failed=failed.append)  # fmt: skip
        await settle(pilot)
        assert [type(exc) for exc in failed] == [RuntimeError] and not done
        assert _errors(app) == ["Probing failed: RuntimeError disk on fire"]
        screen.commit(lambda session: 42, done.append, group="probe", description="Probing")
        await settle(pilot)
        assert done == [42]


async def test_nothing_is_shown_on_a_screen_closed_meanwhile(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")  # the inbox, over the day view
        await settle(pilot)
        inbox, shown = app.screen, []
        started, release, returned = (threading.Event() for _ in range(3))

        def slow(session) -> str:
            started.set()
            release.wait(10)
            returned.set()
            return "late"

        inbox.load(slow, shown.append, group="probe", description="Probing")
        while not started.is_set():
            await pilot.pause(0.01)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not inbox
        release.set()
        assert returned.wait(10)
        await settle(pilot)
        assert shown == [] and not _errors(app)
