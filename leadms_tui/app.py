"""The Textual application: sign-in, then the rep's screens on top of the domain services.

The one place that opens screens and modals: screens ask with a message of
`leadms_tui.screens.goto` and the handlers at the end of `LeadMSApp` open them, so only this
module imports the screen classes and no import cycle runs through the screens."""

import asyncio
import gc
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlmodel import Session
from textual import events, on, work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea

from leadms_tui import collector, formatting
from leadms_tui.domain import audit, clock, live, recent
from leadms_tui.domain.db import Database
from leadms_tui.domain.errors import LeadMSError
from leadms_tui.domain.fields.definitions import has_image_fields
from leadms_tui.domain.models import Role
from leadms_tui.domain.phone.bridge import recent_calls_of
from leadms_tui.domain.team.access import has_users
from leadms_tui.domain.team.settings import DEFAULTS, TeamSettings, load_settings
from leadms_tui.domain.team.users import UserInfo
from leadms_tui.domain.text import visible
from leadms_tui.domain.work.calls import undo_call
from leadms_tui.domain.work.notifications import NotificationItem, unread_notifications
from leadms_tui.domain.work.rules import sweep
from leadms_tui.phone_pops import PhonePops, Pop
from leadms_tui.screens import goto
from leadms_tui.screens.client_detail import ClientDetailScreen
from leadms_tui.screens.clients import ClientListScreen
from leadms_tui.screens.commissions import CommissionsScreen
from leadms_tui.screens.day_view import DayViewScreen
from leadms_tui.screens.duplicates import DuplicatesScreen
from leadms_tui.screens.first_run import FirstRunScreen
from leadms_tui.screens.lead_detail import LeadDetailScreen
from leadms_tui.screens.lead_list import LeadListScreen
from leadms_tui.screens.loading import Loads
from leadms_tui.screens.login import LoginScreen
from leadms_tui.screens.merge import MergeScreen
from leadms_tui.screens.modals.assign_modal import AssignModal
from leadms_tui.screens.modals.call_modal import CallModal
from leadms_tui.screens.modals.client_status_modal import ClientStatusModal
from leadms_tui.screens.modals.compose_modal import ComposeModal
from leadms_tui.screens.modals.convert_modal import ConvertModal
from leadms_tui.screens.modals.date_modal import DateModal
from leadms_tui.screens.modals.edit_fields_modal import EditFieldsModal
from leadms_tui.screens.modals.edit_lead_modal import EditLeadModal
from leadms_tui.screens.modals.field_columns_modal import FieldColumnsModal
from leadms_tui.screens.modals.followup_modal import FollowUpModal
from leadms_tui.screens.modals.help_modal import HelpModal, usable_by
from leadms_tui.screens.modals.inbox_modal import InboxModal
from leadms_tui.screens.modals.meeting_modal import MeetingModal, MeetingOutcomeModal
from leadms_tui.screens.modals.new_lead_modal import NewLeadModal
from leadms_tui.screens.modals.path_modal import PathModal
from leadms_tui.screens.modals.range_modal import RangeModal
from leadms_tui.screens.modals.rule_modal import RuleModal
from leadms_tui.screens.modals.save_filter_modal import SaveFilterModal
from leadms_tui.screens.modals.saved_filters_modal import SavedFiltersModal
from leadms_tui.screens.modals.step_modal import StepModal
from leadms_tui.screens.modals.template_name_modal import TemplateNameModal
from leadms_tui.screens.modals.what_next_modal import WhatNextModal
from leadms_tui.screens.reports import ReportsScreen
from leadms_tui.screens.settings import SettingsScreen
from leadms_tui.screens.settings.onboarding_templates import OnboardingTemplatesScreen
from leadms_tui.screens.settings.rules import RulesScreen
from leadms_tui.screens.with_app import WithApp
from leadms_tui.signed_in import NotSignedInError, SignedIn
from leadms_tui.widgets.field_view import prepare_image_previews

SWEEP_SECONDS = 60  # time rules and missed commitments, also when no cron runs them
NOTIFICATION_SECONDS = 30
UNDO_SECONDS = 60  # as domain.calls.UNDO_WINDOW: how long ctrl+z takes back a saved call
TYPE_AHEAD_PATIENCE = 10.0  # seconds typed-ahead keys wait for a screen to get ready
LIVE_WAIT_SECONDS = 0.5  # how long the listener blocks: also how long quitting may wait for it
# At most one reload of the screen shown per window, however many writes arrive in it: 100
# writes a second cost an idle TUI at most 1/window reloads.
LIVE_BATCH_SECONDS = 0.5
GC_THRESHOLDS = collector.THRESHOLDS  # see LeadMSApp._tune_collector
LONGEST_TOAST_SECONDS = (
    8.0  # a toast covers the lists' right side: it goes soon (the inbox keeps it)
)
# Hints, notes and status lines take the width they have and wrap there: as `width: auto`
# labels they ran past a modal's edge and ended mid-word.
WRAPPED_LINES = """
.hint, .form-note, .when-hint, .field-error, .field-help, #assign-about, #assign-status,
#call-status, #convert-status, #date-error, #edit-status, #followup-status, #form-error,
#meeting-status, #new-status, #outcome-status, #login-error, #first-run-error, #rule-error,
#rule-effects, #range-error, #step-error, #onboarding-error, #path-error, #template-name-error,
#fields-status, #plan-hint, #split-hint, #dial-hint, #field-filter-error { width: 1fr; }
"""


class LeadMSApp(Loads, App[None]):
    TITLE = "Lead MS"
    CSS = WRAPPED_LINES
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        # f1 too: `?` typed into a field is a character, f1 never is
        Binding("f1", "help", "Keys", show=False, priority=True, id="app.help-f1"),
        Binding("slash", "search", "Search", id="app.search"),
        Binding("i", "inbox", "Inbox", id="app.inbox"),
        Binding("C", "clients", "Clients", show=False, id="app.clients"),  # shift+c
        # managers' payroll view: out of the footer, in the help screen and the palette
        Binding(
            "dollar_sign",
            "commissions",
            "Commissions",
            key_display="$",
            show=False,
            id="app.commissions",
        ),
        Binding("D", "duplicates", "Duplicates", show=False, id="app.duplicates"),  # managers
        Binding(  # shift+o, admins
            "O",
            "onboarding_templates",
            "Onboarding templates",
            show=False,
            id="app.onboarding-templates",
        ),
        Binding("S", "settings", "Settings", show=False, id="app.settings"),  # shift+s, admins
        Binding("ctrl+z", "undo_call", "Undo call", id="app.undo-call"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        database: Database,
        *,
        signed_in: UserInfo | None = None,
        username: str | None = None,
        welcome: str | None = None,
    ) -> None:
        super().__init__()
        self._welcome = welcome
        self.database = database
        self._signed_in: SignedIn | None = None  # from sign-in on
        self._phone_pops: PhonePops | None = None  # a rep with an extension: calls pop up
        self._known_user = signed_in  # signed in already (`leadms tui` after `leadms login`)
        self._username = username
        self._typed_ahead: deque[events.Key] = deque()
        self._delivering = False
        self._opening = False  # the first screen is being chosen: typed keys wait for it
        self._last_toasted = 0  # notifications up to this id were shown as toasts
        # (call id, its lead's id, when saved: monotonic)
        self._last_call: tuple[int, int, float] | None = None
        self.lead_list_fields: list[str] = []  # lead fields the lead list shows (ctrl+o)
        self._changes: set[str] = set()  # tables others wrote, not yet shown
        self._changes_timer: Timer | None = None
        self._changes_shown_at = 0.0  # monotonic
        self._stop_listening = threading.Event()
        self._collector_thresholds: tuple[int, int, int] | None = None  # before the app's
        self._typed_in: weakref.WeakSet[Screen] = weakref.WeakSet()  # modals typed into
        self._quit_asked_at: float | None = None  # monotonic

    @property
    def signed_in(self) -> SignedIn:
        """The database, user and settings of the person signed in; screens shown after
        sign-in read it (as `self.signed_in`) without checking."""
        if self._signed_in is None:
            raise NotSignedInError("read who is signed in before sign-in")
        return self._signed_in

    @property
    def user(self) -> UserInfo | None:
        """The user signed in, None before sign-in (the app's own keys check it)."""
        return self._signed_in.user if self._signed_in is not None else None

    @property
    def settings(self) -> TeamSettings:
        """The team settings; the defaults before sign-in."""
        return self._signed_in.settings if self._signed_in is not None else DEFAULTS

    @property
    def viewer(self) -> audit.Actor:
        """Who reads: the signed-in user (every lead read checks what they may open)."""
        if self._signed_in is None:
            raise LeadMSError("sign in first")
        return self._signed_in.actor

    def on_mount(self) -> None:
        self._tune_collector()
        self.sub_title = self.database.short_label
        if self._known_user is not None:
            user = self._known_user
            self.load(
                load_settings, lambda settings: self.sign_in(user, settings),
                group="sign-in", description="Opening the database",
            )  # fmt: skip
        else:
            self._opening = True
            self._open_first_screen()

    def _open_first_screen(self) -> None:
        """Sign-in, or the first-run setup while the database has no users (issue 16)."""
        self.load(
            lambda session: not has_users(session), self._show_first_screen,
            group="first-screen", description="Opening the database",
            failed=lambda _error: self._show_first_screen(False),  # signing in will say why
        )  # fmt: skip

    def _show_first_screen(self, first_run: bool) -> None:
        self._opening = False
        self.push_screen(FirstRunScreen() if first_run else LoginScreen(username=self._username))

    def sign_in(self, user: UserInfo, settings: TeamSettings) -> None:
        """Called with the authenticated user and the team settings: open the day view."""
        self._signed_in = SignedIn(self.database, user, settings)
        self.sub_title = visible(
            f"{user.display_name} ({user.role.value}) · {self.database.short_label}"
        )
        if len(self.screen_stack) > 1:
            self.switch_screen(DayViewScreen())
        else:
            self.push_screen(DayViewScreen())
        if self._welcome:
            self.notify(self._welcome, title="Welcome", timeout=LONGEST_TOAST_SECONDS)
        self.call_after_refresh(gc.freeze)
        self._check_notifications()
        self._phone_pops = PhonePops(since=clock.now()) if user.extension else None
        self._listen()  # live updates; the intervals stay as a safety net
        self.set_interval(NOTIFICATION_SECONDS, self._check_notifications)
        self.set_interval(SWEEP_SECONDS, self._sweep)

    # --- live updates ------------------------------------------------------------

    def _listen(self) -> None:
        """Follow every write committed to the database, by anyone, as the tables it touched.

        A plain thread rather than a worker: it runs as long as the app, and waiting for
        the workers to finish (as tests do) must not wait for it."""
        stop = self._stop_listening

        def follow() -> None:
            listener = live.Listener(self.database.url)
            try:
                while not stop.is_set():
                    changes = listener.wait(LIVE_WAIT_SECONDS)
                    if changes and not stop.is_set():
                        self.call_from_thread(self._data_changed, changes)
            except RuntimeError:  # the app stopped between the check and the call
                pass
            finally:
                listener.close()

        threading.Thread(target=follow, name="leadms-live", daemon=True).start()

    def _tune_collector(self) -> None:
        """Keep the garbage collector's pauses out of key presses (BENCHMARKS: GC pauses).

        Start-up objects (modules, CSS, screens) live as long as the app: frozen once the
        day view shows (`sign_in`), the collector's passes skip them. Rendering makes and
        drops objects by the hundred thousand (each line a `Strip` with seven caches); at
        Python's default thresholds they outlived the youngest generation and a full pass
        of ~100-200 ms ran every few seconds of use, the p95 of opening a lead or searching.
        With a roomier youngest generation they die there, and the older ones are collected
        far less often.
        """
        if self._collector_thresholds is None:
            self._collector_thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)

    def on_unmount(self) -> None:
        self._stop_listening.set()
        if self._collector_thresholds is not None:
            gc.set_threshold(*self._collector_thresholds)  # the process may go on (tests)

    def _data_changed(self, changes: frozenset[str]) -> None:
        """Shown at once, unless changes were shown less than a batch ago: then together
        at the end of that batch (a busy floor costs a bounded number of reloads)."""
        if live.touches(changes, {"phone_calls"}):
            self._check_phone()  # a ringing phone never waits for the batch
        self._changes |= changes
        if self._changes_timer is not None:
            return  # already due: these go with it
        wait = self._changes_shown_at + LIVE_BATCH_SECONDS - time.monotonic()
        if wait > 0:
            self._changes_timer = self.set_timer(wait, self._show_changes)
        else:
            self._show_changes()

    def _show_changes(self) -> None:
        changes, self._changes, self._changes_timer = frozenset(self._changes), set(), None
        self._changes_shown_at = time.monotonic()
        if live.touches(changes, {"notifications"}):
            self._check_notifications()
        if live.touches(changes, {"settings"}):
            self._reload_settings()
        if not self.screen_stack:  # shutting down
            return
        screen = self.screen  # a modal on top: the screen under it reloads when it returns
        if screen.is_mounted and hasattr(screen, "data_changed"):
            screen.data_changed(changes)

    # --- the phone bridge: screen pop ------------------------------------------------

    def _check_phone(self) -> None:
        pops, user = self._phone_pops, self.user
        if pops is None or user is None:
            return
        self.load(
            lambda session: recent_calls_of(session, user.id, since=pops.since),
            lambda calls: self._pop(pops.decide(calls)),
            group="phone-pop", description="Reading the phone system's calls",
        )  # fmt: skip

    def _pop(self, pops: list[Pop]) -> None:
        """A call starting opens the person's lead (or the new-lead modal for an unknown
        number); a call ending unlogged opens the call modal, prefilled. Over a modal the
        rep is working in, a toast says it instead."""
        for pop in pops:
            call = pop.call
            who = visible(call.lead_label or formatting.phone(call.remote_e164 or "") or "")
            busy = isinstance(self.screen, ModalScreen)
            if pop.action == "log_call" and call.lead_id is not None:
                if busy:
                    self.notify(f"Call with {who} ended: c on the lead logs it", markup=False)
                else:
                    self.push_screen(CallModal(call.lead_id, call.lead_label or who, call))
            elif pop.action == "open_lead" and call.lead_id is not None:
                self.notify(f"Call: {who}", title="Phone", markup=False)
                showing = isinstance(self.screen, LeadDetailScreen) and (
                    self.screen.lead_id == call.lead_id
                )
                if not busy and not showing:
                    self.push_screen(LeadDetailScreen(call.lead_id))
            elif pop.action == "new_lead":
                number = visible(call.remote_number or "")
                self.notify(f"Call from {number}: not a lead yet", title="Phone", markup=False)
                if not busy:
                    self.push_screen(NewLeadModal(number))

    def _reload_settings(self) -> None:
        """An admin changed a team setting (timezone, currency, ...) somewhere: use it here."""

        def read(session: Session) -> TeamSettings:
            recent.forget(session)
            return load_settings(session)

        self.load(read, self.use_settings, group="settings", description="Loading the settings")

    def user_changed(self, user: UserInfo) -> None:
        """The signed-in user's own role or name changed (in the settings' Users tab)."""
        self._signed_in = replace(self.signed_in, user=user)

    def use_settings(self, settings: TeamSettings) -> None:
        """New team settings reach every open screen at once, modals and the screens under
        them too: each redraws its times (a timezone change) and amounts."""
        signed_in = self.signed_in
        if settings == signed_in.settings:
            return
        self._signed_in = replace(signed_in, settings=settings)
        for screen in self.screen_stack:
            if isinstance(screen, WithApp) and screen.is_mounted:
                screen.settings_changed()

    def _sweep(self) -> None:
        database = self.database
        self.in_thread(
            lambda: sweep(database), group="sweep", description="Running the time rules",
            exclusive=True,
        )  # fmt: skip

    def _check_notifications(self) -> None:
        if self._signed_in is None:
            return
        user_id, after_id = self._signed_in.user.id, self._last_toasted

        def toast(items: list[NotificationItem]) -> None:
            # a toast vanishes: they stay unread in the inbox (`i`) until read there
            if items:
                self._last_toasted = max(self._last_toasted, items[-1].id)
            for item in items:
                self.notify(item.message, title="Lead MS", severity="warning", timeout=12)

        self.load(
            lambda session: unread_notifications(
                session=session, user_id=user_id, after_id=after_id
            ),
            toast, group="notifications", description="Checking notifications",
        )  # fmt: skip

    async def on_event(self, event: events.Event) -> None:
        """Keys go one at a time: the next waits until the last one's work (an action, a screen
        it opened) is done and the screen takes keys, so `c n enter` typed as one burst (or by
        a macro) reaches the call modal in order: never dropped, never early."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._typed_ahead.append(event)
            if not self._delivering:
                self._delivering = True
                self._deliver_keys()
            return
        await super().on_event(event)

    def _screen_takes_keys(self) -> bool:
        if self._opening:
            return False
        if not self.screen_stack:
            return True
        screen = self.screen
        return screen.is_mounted and getattr(screen, "takes_keys", True)

    @work(group="keys", description="Delivering keys in order")
    async def _deliver_keys(self) -> None:
        try:
            while self._typed_ahead:
                waited = 0.0
                while not self._screen_takes_keys() and waited < TYPE_AHEAD_PATIENCE:
                    await asyncio.sleep(0.01)
                    waited += 0.01
                key = self._typed_ahead.popleft()
                typing = key.is_printable and isinstance(self.focused, Input)
                self._note_typing(key)
                await super().on_event(key)
                # Characters typed into a field go straight on, queued in order behind each
                # other: waiting for each to settle let the field's typing pause run a search
                # per character. Any other key waits, so it acts on what they did.
                if self._typed_ahead and not (typing and self._typed_ahead[0].is_printable):
                    await _settled()
        finally:
            self._delivering = False

    def _note_typing(self, key: events.Key) -> None:
        """Remember a modal a person typed into: quitting over it asks first."""
        editing = key.is_printable or key.key in ("backspace", "delete", "ctrl+v")
        in_form = isinstance(self.focused, Input | TextArea)
        if editing and in_form and isinstance(self.screen, ModalScreen):
            self._typed_in.add(self.screen)

    async def run_action(
        self,
        action: "str | ActionParseResult",
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """A key whose action is off here (`c` on an empty table, `d` on a meeting) says why,
        when its screen knows (`why_not`), instead of doing nothing."""
        done = await super().run_action(action, default_namespace, namespaces)
        why_not = getattr(default_namespace, "why_not", None)
        if not done and why_not is not None:
            name = (action if isinstance(action, str) else action[1]).split("(")[0]
            reason = why_not(name.rsplit(".", 1)[-1])
            if reason:
                self.notify(reason, title="Nothing to do", timeout=4)
        return done

    async def action_quit(self) -> None:
        """ctrl+q over a form with typed, unsaved input asks once; a second ctrl+q quits."""
        unsaved = self.screen in self._typed_in
        asked = self._quit_asked_at is not None and time.monotonic() - self._quit_asked_at < 10
        if unsaved and not asked:
            self._quit_asked_at = time.monotonic()
            self.notify(
                "This form has unsaved input: ctrl+q again quits without saving it, "
                "escape goes back to it",
                title="Quit?",
                severity="warning",
                timeout=10,
            )
            return
        self.exit()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of the app: its text is data (a lead's name, an error about it), never
        markup, and no control character reaches the terminal. At most a few seconds long:
        the toast covers the lists (notifications stay in the inbox, `i`)."""
        wanted = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        super().notify(
            visible(message, lines=True),
            title=visible(title),
            severity=severity,
            timeout=min(wanted, LONGEST_TOAST_SECONDS),
            markup=False,
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        """ "Lead MS  ·  Ana (rep) · leadms.db": the parts set well apart."""
        if not sub_title:
            return Content(title)
        return Content.assemble(Content(title).stylize("bold"), ("  ·  ", "dim"), sub_title)

    def call_saved(self, call_id: int, lead_id: int) -> None:
        """The call modal saved a call: ctrl+z may take it back for a minute."""
        self._last_call = (call_id, lead_id, time.monotonic())
        self.refresh_bindings()
        self.set_timer(UNDO_SECONDS + 0.5, self.refresh_bindings)

    def _undoable_call(self) -> int | None:
        if self._last_call is None or time.monotonic() - self._last_call[2] > UNDO_SECONDS:
            return None
        return self._last_call[0]

    def action_undo_call(self) -> None:
        call_id = self._undoable_call()
        if call_id is not None and self._last_call is not None and self.user is not None:
            lead_id = self._last_call[1]
            self._last_call = None
            self._undo_call(call_id, lead_id)

    def _undo_call(self, call_id: int, lead_id: int) -> None:
        def undone(number: str) -> None:
            self.notify(f"Call on {number} undone", title="Undone")
            # "ctrl+z, then c again": the day view puts the cursor back on the lead
            follow = getattr(self.screen, "follow_lead", None)
            if follow is not None:
                follow(lead_id)
            elif (reload := getattr(self.screen, "reload", None)) is not None:
                reload()

        actor = self.signed_in.actor
        self.commit(
            lambda s: undo_call(s, call_id, actor=actor), undone,
            group="undo-call", description="Undoing the call",
        )  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (
            action in ("search", "commissions", "clients", "settings", "reports", "duplicates")
            and self.user is None
        ):
            return False  # nothing to search before signing in
        if action == "command_palette" and self.user is None:
            return False  # its system commands (Screenshot, Theme, ...) are for signed-in users
        if action == "undo_call":
            return self._undoable_call() is not None or None
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every key of the current screen that the signed-in role can use
        (as the help screen does) as a command, and the usual ones."""
        seen = set()
        role = self.user.role if self.user is not None else None
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or not active.enabled or binding.action in seen:
                continue
            if binding.id is not None and not usable_by(binding.id, role):
                continue  # a rep's palette has no Duplicates, Commissions, Settings
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"key {shown or key}",
                lambda action=binding.action, node=active.node: self.call_later(
                    node.run_action, action
                ),
            )
        yield from super().get_system_commands(screen)

    def action_command_palette(self) -> None:
        """Also reached by clicking the header's icon: none before sign-in, whatever opens it."""
        if self.user is not None:
            super().action_command_palette()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpModal):
            self.push_screen(HelpModal(self.screen))

    def action_inbox(self) -> None:
        if self.user is not None and not isinstance(self.screen, InboxModal):
            self.push_screen(InboxModal())

    def action_commissions(self) -> None:
        if self.user is None or isinstance(self.screen, CommissionsScreen):
            return
        if self.user.role == Role.REP:
            self.notify("only managers and admins see commissions", severity="warning")
        else:
            self.push_screen(CommissionsScreen())

    def action_duplicates(self) -> None:
        if self.user is None or isinstance(self.screen, DuplicatesScreen | MergeScreen):
            return
        if self.user.role == Role.REP:
            self.notify("only managers and admins find and merge duplicates", severity="warning")
        else:
            self.push_screen(DuplicatesScreen())

    def action_onboarding_templates(self) -> None:
        if self.user is None or isinstance(self.screen, OnboardingTemplatesScreen):
            return
        if self.user.role != Role.ADMIN:
            self.notify("only admins edit onboarding templates", severity="warning")
        else:
            self.push_screen(OnboardingTemplatesScreen())

    def action_reports(self) -> None:
        if self.user is not None and not isinstance(self.screen, ReportsScreen):
            self.push_screen(ReportsScreen())  # a rep's report is their own

    def action_settings(self) -> None:
        if self.user is None or isinstance(self.screen, SettingsScreen):
            return
        if self.user.role != Role.ADMIN:
            self.notify("only admins open settings", severity="warning")
        else:
            self.push_screen(SettingsScreen())

    def action_search(self) -> None:
        if isinstance(self.screen, LeadListScreen):
            self.screen.action_focus_search()
        else:
            self.push_screen(LeadListScreen())

    def action_clients(self) -> None:
        if isinstance(self.screen, ClientListScreen):
            self.screen.action_focus_search()
        elif self.user is not None:
            self.push_screen(ClientListScreen())

    # --- navigation: the screens ask (a message of `goto`), the app opens -------------

    @on(goto.OpenLead)
    def _open_lead(self, ask: goto.OpenLead) -> None:
        self.push_screen(LeadDetailScreen(ask.lead_id))

    @on(goto.OpenClient)
    def _open_client(self, ask: goto.OpenClient) -> None:
        self.push_screen(ClientDetailScreen(ask.client_id))

    @on(goto.OpenLeads)
    def _open_leads(self, ask: goto.OpenLeads) -> None:
        self.push_screen(LeadListScreen(ask.where))

    @on(goto.OpenRules)
    def _open_rules(self) -> None:
        self.push_screen(RulesScreen())

    @on(goto.OpenDuplicates)
    def _open_duplicates(self) -> None:
        self.action_duplicates()

    @on(goto.OpenMerge)
    def _open_merge(self, ask: goto.OpenMerge) -> None:
        self.push_screen(MergeScreen(ask.first_number, ask.second_number), ask.then)

    @on(goto.SignInAgain)
    def _sign_in_again(self) -> None:
        self.switch_screen(LoginScreen())

    @on(goto.WhatNext)
    def _what_next(self, ask: goto.WhatNext) -> None:
        self.push_screen(WhatNextModal(ask.admin))

    @on(goto.LogCall)
    def _log_call(self, ask: goto.LogCall) -> None:
        self.push_screen(CallModal(ask.lead_id, ask.label, ask.phone_call), ask.then)

    @on(goto.NewLead)
    def _new_lead(self, ask: goto.NewLead) -> None:
        self.push_screen(NewLeadModal(ask.phone), ask.then)

    @on(goto.FollowUp)
    def _follow_up(self, ask: goto.FollowUp) -> None:
        self.push_screen(FollowUpModal(ask.lead_id, ask.label, ask.existing), ask.then)

    @on(goto.BookMeeting)
    def _book_meeting(self, ask: goto.BookMeeting) -> None:
        self.push_screen(MeetingModal(ask.lead_id, ask.label), ask.then)

    @on(goto.MeetingOutcome)
    def _meeting_outcome(self, ask: goto.MeetingOutcome) -> None:
        self.push_screen(MeetingOutcomeModal(ask.meeting_id, ask.label), ask.then)

    @on(goto.Convert)
    def _convert(self, ask: goto.Convert) -> None:
        self.push_screen(ConvertModal(ask.lead_id, ask.label), ask.then)

    @on(goto.Assign)
    def _assign(self, ask: goto.Assign) -> None:
        self.push_screen(AssignModal(ask.lead_id, ask.label), ask.then)

    @on(goto.EditLead)
    def _edit_lead(self, ask: goto.EditLead) -> None:
        self.push_screen(EditLeadModal(ask.lead, ask.fields), ask.then)

    @on(goto.EditFields)
    def _edit_fields(self, ask: goto.EditFields) -> None:
        modal = EditFieldsModal(ask.entity, ask.entity_id, ask.title, ask.fields, ask.version)
        self.push_screen(modal)

    @on(goto.PickClientStatus)
    def _pick_client_status(self, ask: goto.PickClientStatus) -> None:
        self.push_screen(ClientStatusModal(ask.number, ask.current), ask.then)

    @on(goto.PickColumns)
    def _pick_columns(self, ask: goto.PickColumns) -> None:
        self.push_screen(FieldColumnsModal(ask.fields, ask.chosen), ask.then)

    @on(goto.PickDate)
    def _pick_date(self, ask: goto.PickDate) -> None:
        self.push_screen(DateModal(ask.current, ask.today), ask.then)

    @on(goto.PickRange)
    def _pick_range(self, ask: goto.PickRange) -> None:
        self.push_screen(RangeModal(ask.current, ask.today), ask.then)

    @on(goto.PickPath)
    def _pick_path(self, ask: goto.PickPath) -> None:
        self.push_screen(PathModal(ask.name), ask.then)

    @on(goto.EditRule)
    def _edit_rule(self, ask: goto.EditRule) -> None:
        self.push_screen(RuleModal(ask.rule), ask.then)

    @on(goto.EditStep)
    def _edit_step(self, ask: goto.EditStep) -> None:
        self.push_screen(StepModal(ask.step, ask.users), ask.then)

    @on(goto.NameTemplate)
    def _name_template(self, ask: goto.NameTemplate) -> None:
        self.push_screen(TemplateNameModal(), ask.then)

    @on(goto.Compose)
    def _compose(self, ask: goto.Compose) -> None:
        self.push_screen(ComposeModal(ask.lead_id, ask.label), ask.then)

    @on(goto.SaveFilter)
    def _save_filter(self, ask: goto.SaveFilter) -> None:
        self.push_screen(SaveFilterModal(ask.criteria, ask.summary), ask.then)

    @on(goto.PickSavedFilter)
    def _pick_saved_filter(self, ask: goto.PickSavedFilter) -> None:
        self.push_screen(SavedFiltersModal(), ask.then)


async def _settled(most: float = 1.0) -> None:
    """Wait until the app has done the work a key started: the process stops using the CPU
    for a moment (as Textual's own test pilot decides), or `most` seconds have passed."""
    started = time.monotonic()
    while time.monotonic() - started < most:
        cpu = time.process_time()
        await asyncio.sleep(0.02)
        if time.process_time() - cpu < 0.001:
            return


def run_tui(
    database: Database,
    *,
    signed_in: UserInfo | None = None,
    username: str | None = None,
    welcome: str | None = None,
) -> int:
    """Run the TUI; returns its exit code (non-zero after a crash, so scripts can tell)."""
    try:
        with database.reading() as session:
            images = has_image_fields(session)
    except Exception:  # unreachable or not set up yet: the app opens and says why
        images = False
    if images:
        prepare_image_previews()  # asks the terminal: only possible before Textual runs
    app = LeadMSApp(database, signed_in=signed_in, username=username, welcome=welcome)
    app.run()
    return app.return_code or 0
