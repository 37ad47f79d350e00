"""`v`: convert a lead into a sale of a client, previewing the commission as the deal is typed;
the client's fields are filled in the same write (required ones before anything converts)."""

from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select

from leadms_tui import formatting
from leadms_tui.domain.errors import ConflictError, ValidationError
from leadms_tui.domain.fields.definitions import FieldSpec, list_fields
from leadms_tui.domain.fields.values import FieldShown, set_fields, values_for
from leadms_tui.domain.models import FieldEntity, Lead
from leadms_tui.domain.numbers import format_number
from leadms_tui.domain.queries.lead_detail import lead_owner
from leadms_tui.domain.queries.sales import client_id_by_number
from leadms_tui.domain.sales.clients import client_of_person
from leadms_tui.domain.sales.commission import PlanInfo, list_plans
from leadms_tui.domain.sales.conversion import (
    CommissionPreview,
    Conversion,
    ConversionRequest,
    convert_lead,
    preview_commission,
)
from leadms_tui.domain.sales.money import format_money
from leadms_tui.domain.sales.onboarding import TemplateInfo, list_templates
from leadms_tui.screens.modals.edit_fields_modal import checked_fields
from leadms_tui.screens.with_app import WithApp
from leadms_tui.widgets.field_form import FieldForm, FormScroll, Raw
from leadms_tui.widgets.key_footer import KeyFooter

NO_TEMPLATE = "none"  # what the domain reads as "no onboarding tasks"
Asked = tuple[str, str, str | None]  # (value, product, plan name): what a preview answers
Existing = tuple[int, list[FieldShown]] | None  # the client the person already is, its fields


def conversion_summary(conversion: Conversion) -> str:
    """ "LEAD-… converted: client CL-000003, commission 92.59 USD, 3 onboarding tasks"."""
    client = f"client {conversion.client_number}" + ("" if conversion.new_client else " (existing)")
    money = (
        f"commission {format_money(conversion.commission_total, conversion.currency)}"
        if conversion.commission_plan
        else "no commission plan"
    )
    count = len(conversion.tasks)
    tasks = f"{count or 'no'} onboarding task{'' if count == 1 else 's'}"
    return f"{conversion.lead_number} converted: {client}, {money}, {tasks}"


@dataclass(frozen=True)
class Choices:
    """Active plans, onboarding templates, the lead's owner, and the client fields (with the
    values of the client the person already is, if so)."""

    plans: list[PlanInfo]
    templates: list[TemplateInfo]
    owner: tuple[int | None, str | None]
    fields: list[FieldSpec]
    existing: Existing


class ConvertModal(WithApp, ModalScreen[Conversion | None]):
    HELP_NAME = "Convert a lead"
    DEFAULT_CSS = """
    ConvertModal { align: center middle; }
    ConvertModal > FormScroll { width: 72; max-width: 100%;
        height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1; }
    ConvertModal .pair { height: auto; }
    ConvertModal .pair > Vertical { width: 1fr; height: auto; }
    ConvertModal .hint { color: $text-muted; }
    ConvertModal #preview { width: 100%; height: auto; margin-top: 1; }
    ConvertModal #preview.-error { color: $error; }
    ConvertModal #convert-status { width: 100%; height: auto; color: $error; }
    ConvertModal #client-fields { height: auto; display: none; }
    """
    BINDINGS = [
        Binding("ctrl+s", "convert", "Convert", key_display="^s", id="convert.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="convert.cancel"),
    ]

    def __init__(self, lead_id: int, label: str) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.label = label
        self._converting = False
        self._existing_client: int | None = None  # whose fields the form shows

    def compose(self) -> ComposeResult:
        currency = self.signed_in.settings.currency
        with FormScroll():
            yield Label(formatting.titled("Convert to a sale", self.label))
            yield Label("", id="convert-status", markup=False)  # refusals, under the title
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label(f"Deal value ({currency})", classes="hint")
                    example = format_number(Decimal("1234.50"), self.signed_in.settings.numbers)
                    yield Input(placeholder=f"e.g. {example}", id="value")
                with Vertical():
                    yield Label("Plan / product", classes="hint")
                    yield Input(placeholder="optional", id="product")
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("Commission plan", classes="hint", id="plan-hint")
                    yield Select[str]([], prompt="by product, else default", id="plan")
                with Vertical():
                    yield Label("Onboarding template", classes="hint")
                    yield Select[str](
                        [(NO_TEMPLATE, NO_TEMPLATE)], allow_blank=False, id="template"
                    )
            yield Label("Split OWNER/CLOSER", classes="hint", id="split-hint")
            yield Input(placeholder="e.g. 60/40; empty: all to you", id="split", disabled=True)
            yield Label("Type the deal value to see the commission", id="preview", markup=False)
            with Vertical(id="client-fields"):  # shown when clients have fields
                yield Label("Client fields", classes="hint", id="client-fields-title")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#value", Input).focus()
        self._load_choices()

    # --- the choices -------------------------------------------------------------

    def _load_choices(self) -> None:
        def query(session: Session) -> Choices:
            plans = list_plans(session)
            templates = list_templates(session)
            owner = lead_owner(session=session, lead_id=self.lead_id)
            fields = list_fields(session, FieldEntity.CLIENT)
            lead = session.get(Lead, self.lead_id)
            client = client_of_person(session, lead) if fields and lead else None
            existing = (
                (client.id, values_for(session, FieldEntity.CLIENT, [client.id])[client.id])
                if client is not None
                else None
            )
            return Choices(plans, templates, owner, fields, existing)

        self.load(query, self._show_choices, group="convert-load", description="Loading plans")

    def _show_choices(self, message: Choices) -> None:
        currency = self.signed_in.settings.currency
        plan = self.query_one("#plan", Select)
        if message.plans:
            plan.set_options(
                (formatting.shown(f"{p.name}: {p.describe(currency)}"), p.name)
                for p in message.plans
            )
            hint = "Commission plan"
        else:
            plan.disabled = True
            hint = "Commission plan: no commission plans"
        self.query_one("#plan-hint", Label).update(hint)
        template = self.query_one("#template", Select)
        template.set_options(
            [*((formatting.shown(t.name), t.name) for t in message.templates),
             (NO_TEMPLATE, NO_TEMPLATE)]
        )  # fmt: skip
        default = next((t.name for t in message.templates if t.is_default), NO_TEMPLATE)
        template.value = default
        self._show_split(*message.owner)
        self._show_fields(message.fields, message.existing)

    def _show_fields(self, fields: list[FieldSpec], existing: Existing) -> None:
        if not fields:
            return
        settings = self.signed_in.settings
        box = self.query_one("#client-fields")
        if existing is not None:
            self._existing_client = existing[0]
            self.query_one("#client-fields-title", Label).update(
                "Client fields (the person is already a client: their fields)"
            )
        box.mount(
            FieldForm(
                fields,
                existing[1] if existing is not None else None,
                currency=settings.currency,
                timezone=settings.timezone,
                number_format=settings.numbers,
            )
        )
        box.display = True

    def _show_split(self, owner_id: int | None, owner: str | None) -> None:
        me = self.signed_in.user.id
        split = self.query_one("#split", Input)
        hint = self.query_one("#split-hint", Label)
        if owner_id is None:
            hint.update("Split: the lead has no owner to share the commission with")
        elif owner_id == me:
            hint.update("Split: you own this lead, the commission is all yours")
        else:
            hint.update(
                Text.assemble("Split with the owner ", formatting.shown(owner or "?"),
                              " (OWNER/CLOSER %)")
            )  # fmt: skip
            split.disabled = False

    # --- the live preview ----------------------------------------------------------

    def _asked(self) -> Asked:
        plan = self.query_one("#plan", Select).selection
        return (
            self.query_one("#value", Input).value,
            self.query_one("#product", Input).value,
            plan,
        )

    @on(Input.Changed, "#value, #product")
    @on(Select.Changed, "#plan")
    def _changed(self) -> None:
        if not self._converting:
            self.query_one("#convert-status", Label).update("")  # a refusal of what changed
        asked = self._asked()
        if not asked[0].strip():
            self._show_preview(asked, "Type the deal value to see the commission", False)
            return
        self._preview(asked)

    def _preview(self, asked: Asked) -> None:
        value, product, plan = asked

        def previewed(preview: CommissionPreview) -> None:
            text = preview.text
            if preview.plan is not None:  # else the text says there is no commission
                text = f"Commission: {text}"
            self._show_preview(asked, text, False)

        self.load(
            lambda session: preview_commission(session, value, product or None, plan),
            previewed, group="convert-preview", description="Previewing the commission",
            refused=lambda exc: self._show_preview(asked, str(exc), True),
            refuses=ValidationError,
        )  # fmt: skip

    def _show_preview(self, asked: Asked, text: str, error: bool) -> None:
        if asked != self._asked():
            return  # an answer to what was typed before
        preview = self.query_one("#preview", Label)
        preview.update(text)
        preview.set_class(error, "-error")

    # --- converting --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "convert":
            return not self._converting or None
        return True

    def action_convert(self) -> None:
        value, product, plan = self._asked()
        template = self.query_one("#template", Select).selection
        split = self.query_one("#split", Input)
        request = ConversionRequest(
            value=value,
            product=product or None,
            commission_plan=plan,
            template=template,
            split=split.value if not split.disabled else None,
        )
        forms = self.query(FieldForm)
        raw = forms.first().raw_values() if forms else {}
        self._converting = True
        self.refresh_bindings()
        self.query_one("#convert-status", Label).update("Converting…")
        self._convert(request, raw)

    def _convert(self, request: ConversionRequest, raw: Raw) -> None:
        actor = self.signed_in.actor
        expected = self._existing_client

        def convert(session: Session) -> Conversion:
            values = checked_fields(session, FieldEntity.CLIENT, raw)  # refused: nothing sold
            conversion = convert_lead(session, self.lead_id, request, actor=actor)
            if values:
                client_id = client_id_by_number(session=session, number=conversion.client_number)
                if client_id != expected and not conversion.new_client:
                    raise ConflictError(
                        f"{conversion.client_name} became a client meanwhile; "
                        "convert again to see their fields"
                    )
                set_fields(session, FieldEntity.CLIENT, client_id, values, actor=actor)
            return conversion

        self.commit(
            convert, self.dismiss, group="convert", description="Converting the lead",
            refused=lambda exc: self._refused(str(exc)),
            # the app says why in a toast; what was typed stays here
            failed=lambda _error: self._refused("Not converted"),
        )  # fmt: skip

    def _refused(self, reason: str) -> None:
        self._converting = False
        self.refresh_bindings()
        rest = reason
        forms = self.query(FieldForm)
        if forms:
            rest = forms.first().show_errors(rest) or "Not converted: see the client fields"
        self.query_one("#convert-status", Label).update(formatting.shown(rest))

    def action_cancel(self) -> None:
        self.dismiss(None)
