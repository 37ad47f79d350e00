"""Onboarding: admin-defined templates of steps that a sale turns into dated tasks for the
people who do them, counted as missed commitments when their day passes undone."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from leadms_tui.domain import audit, clock
from leadms_tui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from leadms_tui.domain.events import Effects, LeadConverted
from leadms_tui.domain.models import (
    Client,
    OnboardingStep,
    OnboardingTask,
    OnboardingTemplate,
    Role,
    Sale,
    StepOwner,
    TaskState,
    User,
    saved_id,
)
from leadms_tui.domain.sales.commission import require_manager
from leadms_tui.domain.team.settings import load_settings

OPEN_TASK_STATES = (TaskState.OPEN, TaskState.MISSED)


@dataclass(frozen=True)
class StepSpec:
    title: str
    offset_days: int
    owner: StepOwner = StepOwner.CLOSING_REP
    owner_role: str | None = None
    owner_user_id: int | None = None


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    name: str
    is_default: bool
    steps: list[StepSpec]


def list_templates(session: Session) -> list[TemplateInfo]:
    templates = session.execute(
        select(OnboardingTemplate)
        .where(OnboardingTemplate.active)
        .order_by(OnboardingTemplate.is_default.desc(), OnboardingTemplate.name)
    ).scalars()
    return [_template_info(session, template) for template in templates]


def _template_info(session: Session, template: OnboardingTemplate) -> TemplateInfo:
    steps = session.execute(
        select(OnboardingStep)
        .where(OnboardingStep.template_id == template.id)
        .order_by(OnboardingStep.position, OnboardingStep.id)
    ).scalars()
    specs = [
        StepSpec(s.title, s.offset_days, StepOwner(s.owner), s.owner_role, s.owner_user_id)
        for s in steps
    ]
    return TemplateInfo(saved_id(template), template.name, template.is_default, specs)


def choose_template(session: Session, name: str | None) -> OnboardingTemplate | None:
    """The named template, or the default one; None when the team has none ("none": skip)."""
    active = select(OnboardingTemplate).where(OnboardingTemplate.active)
    if name is not None and name.strip().lower() == "none":
        return None
    if name:
        template = session.execute(active.where(OnboardingTemplate.name == name.strip())).scalar()
        if template is None:
            known = ", ".join(t.name for t in list_templates(session)) or "none yet"
            raise ValidationError(f"unknown onboarding template {name!r} (templates: {known})")
        return template
    return session.execute(active.where(OnboardingTemplate.is_default)).scalar()


def save_template(
    session: Session,
    name: str,
    steps: list[StepSpec],
    *,
    actor: audit.Actor,
    make_default: bool = False,
    now: datetime | None = None,
) -> TemplateInfo:
    """Create or replace a template's steps (admins). Tasks already made keep their dates."""
    if actor.role not in (None, Role.ADMIN):
        raise PermissionDeniedError("only an admin can edit onboarding templates")
    name = name.strip()
    if not name:
        raise ValidationError("an onboarding template needs a name")
    if not steps:
        raise ValidationError("an onboarding template needs at least one step")
    for step in steps:
        _check_step(session, step)
    at = clock.as_utc(now or clock.now())
    template = session.execute(
        select(OnboardingTemplate).where(OnboardingTemplate.name == name).with_for_update()
    ).scalar()
    before = None
    if template is None:
        template = OnboardingTemplate(name=name, created_at=at)
        session.add(template)
        session.flush()
    else:
        before = {"steps": [s.__dict__ for s in _template_info(session, template).steps]}
        for old in session.execute(
            select(OnboardingStep).where(OnboardingStep.template_id == template.id)
        ).scalars():
            session.delete(old)
        template.version += 1
    if make_default:
        for other in session.execute(
            select(OnboardingTemplate).where(OnboardingTemplate.is_default)
        ).scalars():
            other.is_default = False
        template.is_default = True
    for position, step in enumerate(steps):
        session.add(OnboardingStep(template_id=template.id, position=position, **step.__dict__))  # type: ignore[arg-type]
    session.flush()
    info = _template_info(session, template)
    audit.record(
        session,
        actor,
        "onboarding_template.save",
        "onboarding_template",
        template.id,
        before=before,
        after={"name": name, "steps": [s.__dict__ for s in info.steps]},
        at=at,
    )
    return info


def _check_step(session: Session, step: StepSpec) -> None:
    if not step.title.strip():
        raise ValidationError("every onboarding step needs a title")
    if not 0 <= step.offset_days <= 365:
        raise ValidationError(f"step {step.title!r}: the day must be between 0 and 365")
    if step.owner == StepOwner.ROLE and step.owner_role not in {r.value for r in Role}:
        raise ValidationError(f"step {step.title!r}: unknown role {step.owner_role!r}")
    if step.owner == StepOwner.USER and session.get(User, step.owner_user_id or 0) is None:
        raise ValidationError(f"step {step.title!r}: unknown user")


# --- tasks ---------------------------------------------------------------------------


def on_lead_converted(
    session: Session, event: LeadConverted, at: datetime, effects: Effects
) -> None:
    """Subscriber: a sale turns its template's steps into dated tasks."""
    if event.template_id is None:
        return
    template = session.get(OnboardingTemplate, event.template_id)
    sale = session.get(Sale, event.sale_id)
    client = session.get(Client, event.client_id)
    if template is None or sale is None or client is None:
        return
    calendar = load_settings(session).calendar()
    for position, step in enumerate(_template_info(session, template).steps):
        task = OnboardingTask(
            client_id=saved_id(client),
            sale_id=saved_id(sale),
            position=position,
            title=step.title,
            owner_id=_step_owner(session, step, sale, client),
            due_on=calendar.business_day_from(sale.sold_on, step.offset_days),
            created_at=at,
        )
        session.add(task)
        session.flush()
        audit.record_row(session, event.actor, "onboarding_task.create", task, at=at)
        effects.descriptions.append(f"task {step.title} due {task.due_on:%a %d %b}")


def _step_owner(session: Session, step: StepSpec, sale: Sale, client: Client) -> int | None:
    if step.owner == StepOwner.CLOSING_REP:
        return sale.closed_by_id or client.owner_id
    if step.owner == StepOwner.USER:
        user = session.get(User, step.owner_user_id or 0)
        return user.id if user is not None and user.active else client.owner_id
    if step.owner == StepOwner.ROLE:
        open_tasks = (
            select(func.count())
            .where(OnboardingTask.owner_id == User.id, OnboardingTask.state.in_(OPEN_TASK_STATES))
            .scalar_subquery()
        )
        least_busy = session.execute(
            select(User.id)
            .where(User.active, User.role == step.owner_role)
            .order_by(open_tasks, User.id)
            .limit(1)
        ).scalar()
        return least_busy or client.owner_id
    return client.owner_id


def finish_task(
    session: Session,
    task_id: int,
    state: TaskState,
    *,
    actor: audit.Actor,
    now: datetime | None = None,
) -> OnboardingTask:
    """Mark an open (or missed) task done or skipped: its owner, or a manager."""
    if state not in (TaskState.DONE, TaskState.SKIPPED):
        raise ValidationError("a task is finished as done or skipped")
    at = clock.as_utc(now or clock.now())
    task = session.get(OnboardingTask, task_id, with_for_update=True)
    if task is None:
        raise NotFoundError(f"no onboarding task #{task_id}")
    if task.state not in OPEN_TASK_STATES:
        raise ConflictError(f"task {task.title!r} is already {task.state}")
    if task.owner_id != actor.user_id:
        require_manager(actor, "finish another person's onboarding task")
    before = audit.snapshot(task)
    task.state = state
    task.done_at = at
    task.done_by_id = actor.user_id
    task.version += 1
    audit.record_row(session, actor, f"onboarding_task.{state.value}", task, before=before, at=at)
    return task


def cancel_sale_tasks(session: Session, sale_id: int, actor: audit.Actor, at: datetime) -> int:
    """A reversed sale's unfinished tasks are cancelled (kept, with the trail)."""
    tasks = session.execute(
        select(OnboardingTask).where(
            OnboardingTask.sale_id == sale_id, OnboardingTask.state.in_(OPEN_TASK_STATES)
        )
    ).scalars()
    count = 0
    for task in tasks:
        before = audit.snapshot(task)
        task.state = TaskState.CANCELLED
        task.version += 1
        audit.record_row(session, actor, "onboarding_task.cancel", task, before=before, at=at)
        count += 1
    return count


def mark_missed_tasks(session: Session, today: date, at: datetime) -> int:
    """Open tasks whose day ended undone become missed (the sweep; safe to run anywhere)."""
    return audit.update_each(
        session,
        audit.Actor(None, "sweep"),
        "onboarding_task.missed",
        OnboardingTask,
        [OnboardingTask.state == TaskState.OPEN, OnboardingTask.due_on < today],
        {"state": TaskState.MISSED, "missed_at": at, "version": OnboardingTask.version + 1},
        before={"state": TaskState.OPEN, "missed_at": None},
        at=at,
    )
