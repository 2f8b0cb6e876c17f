"""Every SQL statement of the learning service. Functions take a session and never commit.

Writes go to the ``learning`` schema only. Read-only queries of other schemas are deliberate,
where an rpc would only add a hop: ``core.users``, ``core.habits``, ``core.tags`` and
``core.habit_logs`` (the gateway's) give the facts outcomes are derived from, so learning is a
recompute from stored state and every handler is idempotent; ``metrics.habit_metrics`` (the
metrics service's) gives the streaks and rates the insights quote; ``agent.sequences`` and
``agent.sequence_habits`` (the agent's) tell which sequence phase a habit is in, so the churn
detector sees a phase that stalls.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVarTuple, overload

from sqlalchemy import (
    Executable,
    Integer,
    Result,
    Text,
    bindparam,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny

from services.learning.churn import PhaseProgress
from services.learning.outcomes import HabitFacts, LogFact
from shared.db.agent import HabitSequence, SequenceHabit
from shared.db.core import Habit, HabitLog, HabitTag, Tag, User
from shared.db.learning import (
    Experiment,
    ExperimentConversion,
    ExperimentExposure,
    HabitProgress,
    LearningEvent,
    ModelState,
    Nudge,
    SweepSchedule,
    UserAIPreferences,
    UserModel,
)
from shared.db.metrics import HabitMetricsRow

_Ts = TypeVarTuple("_Ts")


@overload
async def _run(
    session: AsyncSession, statement: TypedReturnsRows[*_Ts], params: dict[str, Any] | None = None
) -> Result[*_Ts]: ...


@overload
async def _run(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> Result[*TupleAny]: ...


async def _run(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> Result[*TupleAny]:
    """Execute a Core statement on the session's connection, in its transaction.

    Going around the ORM layer saves about half a millisecond per statement, which is most of
    the cost of the rpc reads; statements that load ORM objects go through the session. The
    statements of the hot reads are built once, with bound parameters, for the same reason.
    """
    return await (await session.connection()).execute(statement, params)


# --- read-only: core ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user's calendar, chronotype and explicit preferences (read from ``core.users``)."""

    user_id: uuid.UUID
    timezone: str
    day_start: time
    week_start: int
    chronotype: str | None
    preferences: dict[str, Any]


_USER = select(
    User.id, User.timezone, User.day_start, User.week_start, User.chronotype, User.preferences
)


def _user_record(row: Any) -> UserRecord:
    return UserRecord(
        user_id=row.id,
        timezone=row.timezone,
        day_start=row.day_start,
        week_start=row.week_start,
        chronotype=row.chronotype,
        preferences=row.preferences or {},
    )


async def user_record(session: AsyncSession, user_id: uuid.UUID) -> UserRecord | None:
    """Read-only query of ``core.users``."""
    row = (await _run(session, _USER.where(User.id == user_id))).one_or_none()
    return None if row is None else _user_record(row)


_TAGS = (
    select(func.array_agg(Tag.name))
    .select_from(HabitTag)
    .join(Tag, Tag.id == HabitTag.tag_id)
    .where(HabitTag.habit_id == Habit.id)
    .scalar_subquery()
)
_ACTIVE_HABITS = (
    select(
        Habit.id,
        Habit.title,
        Habit.description,
        Habit.kind,
        Habit.schedule,
        Habit.target,
        Habit.start_date,
        _TAGS.label("tags"),
    )
    .where(Habit.user_id == bindparam("user_id"), Habit.archived_at.is_(None))
    .order_by(Habit.created_at)
)


async def active_habits(session: AsyncSession, user_id: uuid.UUID) -> list[HabitFacts]:
    """Read-only query of the user's live ``core.habits`` with their tags, oldest first."""
    result = await _run(session, _ACTIVE_HABITS, {"user_id": user_id})
    return [
        HabitFacts(
            habit_id=str(row.id),
            title=row.title,
            description=row.description,
            kind=row.kind,
            schedule=row.schedule,
            target=row.target,
            start_date=row.start_date,
            tags=tuple(sorted(row.tags or ())),
        )
        for row in result.all()
    ]


_LOGS_SINCE = (
    select(HabitLog.habit_id, HabitLog.date, HabitLog.status, HabitLog.value, HabitLog.created_at)
    .where(
        HabitLog.habit_id.in_(bindparam("habit_ids", expanding=True)),
        HabitLog.date >= bindparam("since"),
    )
    .order_by(HabitLog.date, HabitLog.created_at)
)


async def logs_since(
    session: AsyncSession, habit_ids: Sequence[str], since: date
) -> dict[str, list[LogFact]]:
    """Read-only query of ``core.habit_logs``: each habit's logs dated on or after ``since``."""
    grouped: dict[str, list[LogFact]] = {h: [] for h in habit_ids}
    if not habit_ids:
        return grouped
    result = await _run(
        session, _LOGS_SINCE, {"habit_ids": [uuid.UUID(h) for h in habit_ids], "since": since}
    )
    for habit_id, on, status, value, created_at in result.all():
        grouped[str(habit_id)].append(LogFact(on, status, value, created_at))
    return grouped


async def user_records(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, UserRecord]:
    """Read-only query of ``core.users``: the records of these users that exist."""
    if not user_ids:
        return {}
    result = await _run(session, _USER.where(User.id.in_(list(user_ids))))
    return {row.id: _user_record(row) for row in result.all()}


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise sweeps of one user until the transaction ends (two events, two replicas)."""
    await _run(
        session, select(func.pg_advisory_xact_lock(func.hashtextextended(f"learning:{user_id}", 0)))
    )


# --- read-only: metrics ---------------------------------------------------------------------


async def habit_metrics(
    session: AsyncSession, habit_ids: Sequence[str]
) -> dict[str, HabitMetricsRow]:
    """Read-only query of ``metrics.habit_metrics``: the latest metrics of each habit."""
    if not habit_ids:
        return {}
    result = await session.execute(
        select(HabitMetricsRow).where(
            HabitMetricsRow.habit_id.in_([uuid.UUID(h) for h in habit_ids])
        )
    )
    return {str(row.habit_id): row for row in result.scalars()}


# --- read-only: agent -----------------------------------------------------------------------

# The current phase's planned length, from the plan the agent stored (phases are 1-based).
_PHASE_DAYS = cast(
    func.jsonb_extract_path_text(
        HabitSequence.plan, "phases", cast(HabitSequence.current_phase - 1, Text), "duration_days"
    ),
    Integer,
)


async def sequence_phases(
    session: AsyncSession, user_id: uuid.UUID, habit_ids: Sequence[str]
) -> dict[str, PhaseProgress]:
    """Read-only query of ``agent.sequences`` and ``agent.sequence_habits``: habits' phases.

    Returns, for each habit the current phase of one of the user's active sequences tracks,
    that phase. A habit carried into a later phase has a row for each phase; only the current
    one counts. Should two active sequences track a habit, the phase that started last wins.
    """
    if not habit_ids:
        return {}
    result = await _run(
        session,
        select(
            SequenceHabit.habit_id,
            HabitSequence.current_phase,
            HabitSequence.phase_started_on,
            _PHASE_DAYS.label("duration_days"),
        )
        .join(HabitSequence, HabitSequence.id == SequenceHabit.sequence_id)
        .where(
            HabitSequence.user_id == user_id,
            HabitSequence.status == "active",
            HabitSequence.phase_started_on.is_not(None),
            SequenceHabit.phase == HabitSequence.current_phase,
            SequenceHabit.habit_id.in_([uuid.UUID(h) for h in habit_ids]),
        )
        .order_by(HabitSequence.phase_started_on),
    )
    return {
        str(row.habit_id): PhaseProgress(
            phase=row.current_phase,
            started_on=row.phase_started_on,
            duration_days=row.duration_days,
        )
        for row in result.all()
        if row.duration_days is not None
    }


# --- events ---------------------------------------------------------------------------------


async def record_event(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store an event once; False when its ``event_id`` was stored before (a redelivery)."""
    stmt = (
        insert(LearningEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[LearningEvent.event_id])
        .returning(LearningEvent.event_id)
    )
    return (await _run(session, stmt)).scalar_one_or_none() is not None


async def feedback_since(
    session: AsyncSession, user_id: uuid.UUID, since: datetime
) -> list[dict[str, Any]]:
    """The user's feedback events (payloads) that occurred at or after ``since``."""
    result = await _run(
        session,
        select(LearningEvent.payload)
        .where(
            LearningEvent.user_id == user_id,
            LearningEvent.subject == "learning.feedback.recorded.v1",
            LearningEvent.occurred_at >= since,
        )
        .order_by(LearningEvent.occurred_at),
    )
    return list(result.scalars())


# --- the success model ----------------------------------------------------------------------


async def ensure_model(session: AsyncSession, name: str, state: dict[str, Any]) -> None:
    """Create the model's row from its initial state unless it exists."""
    await _run(
        session,
        insert(ModelState)
        .values(name=name, revision=0, examples=0, state=state)
        .on_conflict_do_nothing(index_elements=[ModelState.name]),
    )


async def lock_model(session: AsyncSession, name: str) -> tuple[int, dict[str, Any]]:
    """Lock the model's row until the transaction ends; return its revision and state."""
    row = (
        await _run(
            session,
            select(ModelState.revision, ModelState.state)
            .where(ModelState.name == name)
            .with_for_update(),
        )
    ).one()
    return int(row.revision), row.state


async def model_state(session: AsyncSession, name: str) -> tuple[int, dict[str, Any]]:
    """The model's revision and state."""
    row = (
        await _run(
            session, select(ModelState.revision, ModelState.state).where(ModelState.name == name)
        )
    ).one()
    return int(row.revision), row.state


_USER_AND_MODEL = (
    select(
        User.id,
        User.timezone,
        User.day_start,
        User.week_start,
        User.chronotype,
        User.preferences,
        ModelState.revision,
        UserModel.state,
    )
    .select_from(ModelState)
    .outerjoin(User, User.id == bindparam("user_id"))
    .outerjoin(
        UserModel,
        (UserModel.model == ModelState.name) & (UserModel.user_id == bindparam("user_id")),
    )
    .where(ModelState.name == bindparam("name"))
)


async def user_record_and_model(
    session: AsyncSession, user_id: uuid.UUID, name: str
) -> tuple[UserRecord | None, int, dict[str, Any] | None]:
    """The user (read-only, ``core.users``), the model's revision and the user's layer, at once."""
    row = (await _run(session, _USER_AND_MODEL, {"user_id": user_id, "name": name})).one()
    record = None
    if row.id is not None:
        record = UserRecord(
            user_id=row.id,
            timezone=row.timezone,
            day_start=row.day_start,
            week_start=row.week_start,
            chronotype=row.chronotype,
            preferences=row.preferences or {},
        )
    return record, int(row.revision), row.state


async def save_model(
    session: AsyncSession, name: str, revision: int, examples: int, state: dict[str, Any]
) -> None:
    await _run(
        session,
        update(ModelState)
        .where(ModelState.name == name)
        .values(revision=revision, examples=examples, state=state),
    )


async def user_models(
    session: AsyncSession, name: str, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    if not user_ids:
        return {}
    result = await _run(
        session,
        select(UserModel.user_id, UserModel.state).where(
            UserModel.model == name, UserModel.user_id.in_(list(user_ids))
        ),
    )
    return {user_id: state for user_id, state in result.all()}


async def save_user_models(
    session: AsyncSession, name: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Upsert user layers of a model: ``[{user_id, examples, state}]``."""
    if not rows:
        return
    stmt = insert(UserModel).values([{**row, "model": name} for row in rows])
    await _run(
        session,
        stmt.on_conflict_do_update(
            index_elements=[UserModel.model, UserModel.user_id],
            set_={
                "examples": stmt.excluded.examples,
                "state": stmt.excluded.state,
                "updated_at": func.now(),
            },
        ),
    )


async def habit_progress(session: AsyncSession, habit_ids: Sequence[str]) -> dict[str, date]:
    """The last learned date of each habit that has been learned from."""
    if not habit_ids:
        return {}
    result = await _run(
        session,
        select(HabitProgress.habit_id, HabitProgress.learned_through).where(
            HabitProgress.habit_id.in_([uuid.UUID(h) for h in habit_ids])
        ),
    )
    return {str(habit_id): through for habit_id, through in result.all()}


async def save_progress(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert ``[{habit_id, user_id, learned_through, examples}]``; examples accumulate."""
    if not rows:
        return
    stmt = insert(HabitProgress).values(list(rows))
    await _run(
        session,
        stmt.on_conflict_do_update(
            index_elements=[HabitProgress.habit_id],
            set_={
                "learned_through": stmt.excluded.learned_through,
                "examples": HabitProgress.examples + stmt.excluded.examples,
                "updated_at": func.now(),
            },
        ),
    )


# --- preferences ----------------------------------------------------------------------------


async def inferred_preferences(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[dict[str, Any], dict[str, str], datetime | None]:
    """The stored inferred values (fields without evidence left out), reasons and their age."""
    row = (
        await session.execute(select(UserAIPreferences).where(UserAIPreferences.user_id == user_id))
    ).scalar_one_or_none()
    if row is None:
        return {}, {}, None
    values = {
        name: getattr(row, name)
        for name in (
            "communication_style",
            "detail_level",
            "emoji_preference",
            "notification_frequency",
            "proactive_suggestions",
        )
        if getattr(row, name) is not None
    }
    return values, dict(row.reasons or {}), row.updated_at


async def save_inferred_preferences(
    session: AsyncSession, user_id: uuid.UUID, values: dict[str, Any], reasons: dict[str, str]
) -> None:
    row = {
        "communication_style": values.get("communication_style"),
        "detail_level": values.get("detail_level"),
        "emoji_preference": values.get("emoji_preference"),
        "notification_frequency": values.get("notification_frequency"),
        "proactive_suggestions": values.get("proactive_suggestions"),
        "reasons": reasons,
    }
    stmt = insert(UserAIPreferences).values(user_id=user_id, **row)
    await _run(
        session,
        stmt.on_conflict_do_update(
            index_elements=[UserAIPreferences.user_id], set_={**row, "updated_at": func.now()}
        ),
    )


# --- nudges ---------------------------------------------------------------------------------


async def insert_nudge(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a nudge; False when the user already has one for that local day."""
    stmt = (
        insert(Nudge)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Nudge.user_id, Nudge.local_date])
        .returning(Nudge.id)
    )
    return (await _run(session, stmt)).scalar_one_or_none() is not None


async def nudges_since(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> list[Nudge]:
    """The user's nudges created at or after ``since``, newest first."""
    result = await session.execute(
        select(Nudge)
        .where(Nudge.user_id == user_id, Nudge.created_at >= since)
        .order_by(Nudge.created_at.desc())
    )
    return list(result.scalars())


async def open_nudges(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> list[Nudge]:
    """Delivered, unanswered nudges published at or after ``since``, newest first."""
    result = await session.execute(
        select(Nudge)
        .where(
            Nudge.user_id == user_id,
            Nudge.published_at.is_not(None),
            Nudge.published_at >= since,
            Nudge.answered_at.is_(None),
        )
        .order_by(Nudge.published_at.desc())
    )
    return list(result.scalars())


async def claim_due_nudges(
    session: AsyncSession, now: datetime, limit: int, user_id: uuid.UUID | None = None
) -> list[Nudge]:
    """Lock unpublished nudges whose time has come; other instances skip them."""
    stmt = select(Nudge).where(Nudge.published_at.is_(None), Nudge.deliver_at <= now)
    if user_id is not None:
        stmt = stmt.where(Nudge.user_id == user_id)
    result = await session.execute(
        stmt.order_by(Nudge.deliver_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def postpone_nudge(session: AsyncSession, nudge_id: uuid.UUID, until: datetime) -> None:
    """Move an unpublished nudge's delivery to ``until``."""
    await _run(session, update(Nudge).where(Nudge.id == nudge_id).values(deliver_at=until))


async def mark_nudges_published(
    session: AsyncSession, ids: Sequence[uuid.UUID], now: datetime
) -> None:
    if ids:
        await _run(session, update(Nudge).where(Nudge.id.in_(list(ids))).values(published_at=now))


async def answer_latest_nudge(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID, answer: str, now: datetime
) -> bool:
    """Mark the latest delivered, unanswered nudge about a habit answered."""
    latest = (
        select(Nudge.id)
        .where(
            Nudge.user_id == user_id,
            Nudge.habit_id == habit_id,
            Nudge.published_at.is_not(None),
            Nudge.answered_at.is_(None),
        )
        .order_by(Nudge.published_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    result = await _run(
        session,
        update(Nudge)
        .where(Nudge.id == latest)
        .values(answered_at=now, answer=answer)
        .returning(Nudge.id),
    )
    return result.scalar_one_or_none() is not None


# --- sweep schedule -------------------------------------------------------------------------


async def schedule_sweep(session: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    """Make sure the user is swept by ``at`` (an earlier planned sweep stays)."""
    stmt = insert(SweepSchedule).values(user_id=user_id, next_at=at)
    await _run(
        session,
        stmt.on_conflict_do_update(
            index_elements=[SweepSchedule.user_id],
            set_={"next_at": func.least(SweepSchedule.next_at, stmt.excluded.next_at)},
        ),
    )


async def unschedule(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Stop sweeping a user (their account is gone)."""
    await _run(session, delete(SweepSchedule).where(SweepSchedule.user_id == user_id))


async def set_next_sweep(
    session: AsyncSession, user_id: uuid.UUID, next_at: datetime, swept_at: datetime
) -> None:
    stmt = insert(SweepSchedule).values(user_id=user_id, next_at=next_at, last_swept_at=swept_at)
    await _run(
        session,
        stmt.on_conflict_do_update(
            index_elements=[SweepSchedule.user_id],
            set_={"next_at": stmt.excluded.next_at, "last_swept_at": stmt.excluded.last_swept_at},
        ),
    )


async def claim_due_users(
    session: AsyncSession, now: datetime, limit: int, lease_until: datetime
) -> list[uuid.UUID]:
    """Take users due a sweep, pushing their next sweep to ``lease_until`` (a crash retries)."""
    due = (
        select(SweepSchedule.user_id)
        .where(SweepSchedule.next_at <= now)
        .order_by(SweepSchedule.next_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await _run(
        session,
        update(SweepSchedule)
        .where(SweepSchedule.user_id.in_(due))
        .values(next_at=lease_until)
        .returning(SweepSchedule.user_id),
    )
    return list(result.scalars())


# --- experiments ----------------------------------------------------------------------------


async def experiment(session: AsyncSession, key: str) -> Experiment | None:
    return await session.get(Experiment, key)


async def insert_experiment(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a definition; False when the key exists (its definition is left as it was)."""
    stmt = (
        insert(Experiment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Experiment.key])
        .returning(Experiment.key)
    )
    return (await _run(session, stmt)).scalar_one_or_none() is not None


async def record_exposure(
    session: AsyncSession, experiment_key: str, user_id: uuid.UUID, variant: str
) -> None:
    await _run(
        session,
        insert(ExperimentExposure)
        .values(experiment=experiment_key, user_id=user_id, variant=variant)
        .on_conflict_do_nothing(),
    )


async def exposure_variant(
    session: AsyncSession, experiment_key: str, user_id: uuid.UUID
) -> str | None:
    result = await _run(
        session,
        select(ExperimentExposure.variant).where(
            ExperimentExposure.experiment == experiment_key, ExperimentExposure.user_id == user_id
        ),
    )
    return result.scalar_one_or_none()


async def record_conversions(
    session: AsyncSession, experiment_keys: Sequence[str], user_id: uuid.UUID
) -> None:
    """Convert the user in each of these experiments they were exposed to (once each)."""
    exposed = select(ExperimentExposure.experiment, ExperimentExposure.user_id).where(
        ExperimentExposure.user_id == user_id,
        ExperimentExposure.experiment.in_(list(experiment_keys)),
    )
    await _run(
        session,
        insert(ExperimentConversion)
        .from_select(["experiment", "user_id"], exposed)
        .on_conflict_do_nothing(),
    )


async def record_conversion(session: AsyncSession, experiment_key: str, user_id: uuid.UUID) -> bool:
    """Count an exposed user's conversion once; False when it was counted before."""
    stmt = (
        insert(ExperimentConversion)
        .values(experiment=experiment_key, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(ExperimentConversion.user_id)
    )
    return (await _run(session, stmt)).scalar_one_or_none() is not None


async def experiment_counts(session: AsyncSession, experiment_key: str) -> dict[str, list[int]]:
    """Per variant: [exposed users, converted exposed users]."""
    result = await _run(
        session,
        select(
            ExperimentExposure.variant,
            func.count(),
            func.count(ExperimentConversion.user_id),
        )
        .select_from(ExperimentExposure)
        .outerjoin(
            ExperimentConversion,
            (ExperimentConversion.experiment == ExperimentExposure.experiment)
            & (ExperimentConversion.user_id == ExperimentExposure.user_id),
        )
        .where(ExperimentExposure.experiment == experiment_key)
        .group_by(ExperimentExposure.variant),
    )
    return {variant: [int(n), int(k)] for variant, n, k in result.all()}
