"""The learning service's use cases: learn from events, sweep for churn, answer rpc reads.

Everything a user's answers depend on is recomputed from stored state: the habits and logs the
gateway wrote (read-only), the model rows and the nudge history in the ``learning`` schema. So a
redelivered or out-of-order event is harmless, and any replica can answer any request.

- **Learning.** Each closed scheduled day of a habit is learned from once, ``learn_lag_days``
  after it closed; ``learning.habit_progress`` remembers how far each habit was learned. The
  success model's population layer is one row locked for the update (``SELECT … FOR UPDATE``),
  so replicas never lose each other's updates; each user's layer is a row of its own.
- **Churn sweep.** A user is swept on every ``metrics.habit.updated.v1`` about their habits, by
  the background loop at least every ``sweep_every_hours`` (so a user who stopped logging, and
  so sends no events, is still noticed), and on ``rpc.learning.sweep.v1``. A sweep learns the
  newly closed days, runs the detector on every habit not yet done today, applies the send
  policy (one nudge per user per local day, never in their night, not the same habit within
  three days; the database enforces the first rule too) and stores the nudge. Stored nudges are
  the outbox: they are published when due and marked, so a crash only delays them; one whose
  publication comes late, in the user's night, waits for the morning, and then counts as that
  day's nudge. A habit that the current phase of an active sequence (the agent's) tracks is
  checked for a stalled phase too.
- **Experiments.** A sent nudge exposes the user to ``nudge_tone`` and ``nudge_timing``; the
  user converts when they do the nudged habit within two days of the nudge going out.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.learning import repository
from services.learning.churn import (
    DayOutcome,
    DetectionConfig,
    HabitActivity,
    NudgeContext,
    NudgeDecision,
    NudgeProposal,
    PhaseProgress,
    decide_nudge,
    propose_nudge,
    quiet_hours,
    release_time,
)
from services.learning.experiments import (
    Experiment as ExperimentDef,
)
from services.learning.experiments import (
    Variant,
    VariantCounts,
    assign,
    report,
)
from services.learning.features import HabitProfile
from services.learning.insights import HabitInsightInput, build_insights
from services.learning.nudges import (
    BUILT_IN_EXPERIMENTS,
    CONVERSION_WINDOW,
    NUDGE_TIMING,
    NUDGE_TONE,
    OPEN_DAYS,
    delivery_time,
    phrase,
)
from services.learning.outcomes import (
    Calendar,
    HabitFacts,
    LogFact,
    UserFacts,
    category_of,
    chronotype_of,
    clamp_start,
    closed_outcomes,
    done_on,
    draft_profile,
    duration_of,
    habit_profile,
    history_as_of,
    next_scheduled_day,
    timed_outcomes,
)
from services.learning.prediction import Example, Prediction, SuccessPredictor
from services.learning.preferences import (
    WINDOW_DAYS,
    ExplicitPreferences,
    FeedbackEvent,
    ResolvedPreferences,
    combine,
    infer_preferences,
)
from services.learning.timing import find_optimal_windows, habit_kind
from shared.contracts.learning import (
    AssignmentOut,
    AssignQuery,
    ConversionIn,
    ConversionOut,
    ExperimentIn,
    ExperimentOut,
    ExperimentReportOut,
    FactorOut,
    InsightOut,
    InsightsOut,
    NotificationsOut,
    NudgeOut,
    OptimalTimeOut,
    OptimalTimeQuery,
    PredictionItemOut,
    PredictionOut,
    PredictQuery,
    PreferencesOut,
    RecommendationOut,
    ReportQuery,
    SuggestionOut,
    SweepOut,
    TimeWindowOut,
    UserQuery,
    VariantIn,
    VariantResultOut,
    live_notifications,
)
from shared.db.base import utcnow
from shared.db.erasure import erase_user
from shared.db.learning import Nudge
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.habits import HabitLogDeletedV1, HabitLogRecordedV1
from shared.events.learning import FeedbackRecordedV1, NudgeProposedV1
from shared.events.metrics import HabitMetricsUpdatedV1
from shared.localtime import local_today
from shared.messaging import publish_event

log = logging.getLogger(__name__)

MODEL_NAME = "success_v1"
HISTORY_DAYS = 120
"""Days of logs a sweep reads: up to 60 days learned at once, each with 60 days of history."""
PREDICT_HISTORY_DAYS = 60
MAX_LEARN_DAYS = 60
ACTIVITY_DAYS = 60
MAX_PREDICT_AHEAD_DAYS = 60
NUDGE_HISTORY_DAYS = 14
PREFERENCES_REFRESH = timedelta(days=1)
SWEEP_LEASE = timedelta(minutes=10)
PUBLISH_BATCH = 200


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One user's state as of one instant: the input of learning, sweeps and insights."""

    user: UserFacts
    explicit: Mapping[str, Any]
    today: date
    habits: tuple[HabitFacts, ...]
    logs: Mapping[str, list[LogFact]]
    outcomes: Mapping[str, list[DayOutcome]]
    categories: Mapping[str, str]
    profiles: Mapping[str, HabitProfile]
    # Loaded for sweeps and insights only: the hot rpc reads never look at phases.
    phases: Mapping[str, PhaseProgress] = field(default_factory=dict)

    @property
    def zone(self) -> str:
        return self.user.calendar.zone

    def profile(self, habit: HabitFacts) -> HabitProfile:
        return self.profiles[habit.habit_id]

    def activity(self, habit: HabitFacts, profile: HabitProfile) -> HabitActivity:
        since = self.today - timedelta(days=ACTIVITY_DAYS)
        return HabitActivity(
            habit_id=habit.habit_id,
            title=habit.title,
            outcomes=[o for o in self.outcomes[habit.habit_id] if o.on >= since],
            duration_minutes=profile.duration_minutes,
            scheduled_time=profile.scheduled_time,
            has_stack_trigger=profile.has_stack_trigger,
            phase=self.phases.get(habit.habit_id),
        )


def explicit_of(stored: Mapping[str, Any]) -> ExplicitPreferences:
    """The valid explicit preferences among what ``PATCH /v1/me`` stored (others are ignored)."""
    valid: dict[str, Any] = {}
    for key, value in stored.items():
        try:
            ExplicitPreferences.from_mapping({key: value})
        except ValueError:
            continue
        valid[key] = value
    return ExplicitPreferences.from_mapping(valid)


def feedback_event(payload: Mapping[str, Any]) -> FeedbackEvent:
    """A stored ``learning.feedback.recorded.v1`` payload as the preference inference reads it."""
    return FeedbackEvent(
        kind=payload["kind"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        rating=payload.get("rating"),
        message_chars=payload.get("message_chars"),
        message_had_emoji=payload.get("message_had_emoji"),
        text=payload.get("text"),
    )


def nudge_out(row: Nudge) -> NudgeOut:
    return NudgeOut(
        id=row.id,
        habit_id=row.habit_id,
        reason=row.reason,
        message=row.message,
        modification=row.modification,
        signals=list(row.signals),
        local_date=row.local_date,
        tone=row.tone,
        timing=row.timing,
        created_at=row.created_at,
    )


def prediction_out(habit_id: uuid.UUID | None, on: date, p: Prediction) -> PredictionOut:
    return PredictionOut(
        habit_id=habit_id,
        on=on,
        probability=round(p.probability, 4),
        confidence=round(p.confidence, 4),
        top_success_factors=[
            FactorOut(name=f.name, label=f.label, contribution=round(f.contribution, 4))
            for f in p.top_success_factors
        ],
        top_risk_factors=[
            FactorOut(name=f.name, label=f.label, contribution=round(f.contribution, 4))
            for f in p.top_risk_factors
        ],
        recommendations=[
            RecommendationOut(code=r.code, factor=r.factor, message=r.message)
            for r in p.recommendations
        ],
    )


def experiment_def(
    key: str, variants: Sequence[Mapping[str, Any]], metric: str, control: str | None
) -> ExperimentDef:
    return ExperimentDef(
        key=key,
        variants=tuple(Variant(str(v["key"]), float(v.get("weight", 1.0))) for v in variants),
        metric=metric,
        control=control,
    )


class LearningService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: NatsBroker,
        *,
        learn_lag_days: int = 1,
        sweep_every: timedelta = timedelta(hours=3),
        sweep_batch: int = 200,
        clock: Callable[[], datetime] = utcnow,
        model_name: str = MODEL_NAME,
    ) -> None:
        self.sessions = sessions
        self.model_name = model_name
        self.broker = broker
        self.learn_lag_days = learn_lag_days
        self.sweep_every = sweep_every
        self.sweep_batch = sweep_batch
        self.clock = clock
        # A read cache of the population model; learning always starts from the stored state.
        self._model = SuccessPredictor()
        self._revision: int | None = None

    # --- set-up -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the model row and the built-in experiments unless they exist."""
        async with self.sessions.begin() as session:
            await repository.ensure_model(
                session, self.model_name, SuccessPredictor().to_state(include_users=False)
            )
            for exp in BUILT_IN_EXPERIMENTS:
                await repository.insert_experiment(session, _experiment_row(exp))

    async def erase_user(self, user_id: uuid.UUID) -> None:
        """Delete every learning row of a deleted account (idempotent).

        The population model keeps no user's layer (``include_users=False``); the in-memory copy
        may, so it is dropped and re-read from the stored state.
        """
        async with self._writing() as session:
            await repository.lock_user(session, user_id)
            await erase_user(session, "learning", user_id)
        self._revision = None

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; if it fails, the model cache is no longer trusted."""
        try:
            async with self.sessions.begin() as session:
                yield session
        except BaseException:
            self._revision = None
            raise

    # --- intake -----------------------------------------------------------------------------

    async def record_feedback(self, event: FeedbackRecordedV1) -> None:
        """Store feedback once; answer the nudge it responds to; refresh inferred preferences."""
        now = self.clock()
        async with self.sessions.begin() as session:
            # One user's feedback is handled one event at a time: otherwise a handler that read
            # the feedback before a concurrent one committed could store an older inference last.
            await repository.lock_user(session, event.user_id)
            if await repository.user_record(session, event.user_id) is None:
                return  # the account was deleted after this event was sent: keep nothing
            fresh = await repository.record_event(
                session, _event_row(event, event.kind, event.habit_id)
            )
            if not fresh:
                return
            if event.habit_id is not None and event.kind in (
                "suggestion_accepted",
                "suggestion_dismissed",
            ):
                await repository.answer_latest_nudge(
                    session,
                    event.user_id,
                    event.habit_id,
                    event.kind.removeprefix("suggestion_"),
                    now,
                )
            await self._refresh_preferences(session, event.user_id, now)
            await repository.schedule_sweep(session, event.user_id, now + self.sweep_every)

    async def record_log_event(self, event: HabitLogRecordedV1 | HabitLogDeletedV1) -> None:
        """Store a log event once (learning itself follows the metrics event it causes)."""
        kind = "log_recorded" if isinstance(event, HabitLogRecordedV1) else "log_deleted"
        async with self.sessions.begin() as session:
            # Under the user's lock, as erase_user takes it: a deletion is never overtaken.
            await repository.lock_user(session, event.user_id)
            if await repository.user_record(session, event.user_id) is None:
                return  # a deleted account's late event
            await repository.record_event(session, _event_row(event, kind, event.habit_id))

    async def on_metrics_updated(self, event: HabitMetricsUpdatedV1) -> SweepOut:
        """Store the outcome event once, then sweep its user (idempotent, so on every delivery)."""
        async with self.sessions.begin() as session:
            await repository.lock_user(session, event.user_id)
            if await repository.user_record(session, event.user_id) is None:
                return SweepOut(
                    user_id=event.user_id, learned=0, verdict="no_user", nudge=None, retry_at=None
                )
            await repository.record_event(
                session, _event_row(event, "metrics_updated", event.habit_id)
            )
        return await self.sweep_user(event.user_id)

    async def _refresh_preferences(
        self, session: AsyncSession, user_id: uuid.UUID, now: datetime
    ) -> None:
        rows = await repository.feedback_since(session, user_id, now - timedelta(days=WINDOW_DAYS))
        values, reasons = infer_preferences([feedback_event(r) for r in rows], now)
        await repository.save_inferred_preferences(session, user_id, values, reasons)

    # --- reading a user ---------------------------------------------------------------------

    async def _snapshot(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        now: datetime,
        days: int = HISTORY_DAYS,
        record: repository.UserRecord | None = None,
        phases: bool = False,
    ) -> Snapshot | None:
        record = record or await repository.user_record(session, user_id)
        if record is None:
            return None
        calendar = Calendar(record.timezone, record.day_start, record.week_start)
        today = local_today(now, record.timezone, record.day_start)
        earliest = today - timedelta(days=days)
        habits = tuple(
            clamp_start(h, earliest, record.week_start)
            for h in await repository.active_habits(session, user_id)
        )
        logs = await repository.logs_since(session, [h.habit_id for h in habits], earliest)
        yesterday = today - timedelta(days=1)
        outcomes = {
            h.habit_id: closed_outcomes(h, logs[h.habit_id], yesterday, calendar) for h in habits
        }
        return Snapshot(
            user=UserFacts(
                user_id=str(user_id),
                calendar=calendar,
                chronotype=chronotype_of(record.chronotype),
            ),
            explicit=record.preferences,
            today=today,
            habits=habits,
            logs=logs,
            outcomes=outcomes,
            categories={h.habit_id: category_of(h) for h in habits},
            phases=(
                await repository.sequence_phases(session, user_id, [h.habit_id for h in habits])
                if phases
                else {}
            ),
            # The usual time comes from the last four weeks' completions.
            profiles={
                h.habit_id: habit_profile(
                    h,
                    [o.completed_at for o in outcomes[h.habit_id] if o.completed_at][-28:],
                    record.timezone,
                )
                for h in habits
            },
        )

    # --- learning ---------------------------------------------------------------------------

    def _new_examples(
        self, snap: Snapshot, progress: Mapping[str, date]
    ) -> tuple[list[tuple[Example, bool]], list[dict[str, Any]]]:
        through = snap.today - timedelta(days=1 + self.learn_lag_days)
        examples: list[tuple[Example, bool]] = []
        marks: list[dict[str, Any]] = []
        for habit in snap.habits:
            if habit.kind == "negative":
                continue
            last = progress.get(habit.habit_id)
            first = (
                max(habit.start_date, through - timedelta(days=MAX_LEARN_DAYS - 1))
                if last is None
                else last + timedelta(days=1)
            )
            if first > through:
                continue
            days = [
                o
                for o in snap.outcomes[habit.habit_id]
                if first <= o.on <= through and o.status != "skipped"
            ]
            profile = snap.profile(habit)
            for o in days:
                history = history_as_of(
                    snap.user, habit.habit_id, o.on, snap.outcomes, snap.categories
                )
                examples.append((Example(profile, history, o.on), o.status == "done"))
            marks.append(
                {
                    "habit_id": uuid.UUID(habit.habit_id),
                    "user_id": uuid.UUID(snap.user.user_id),
                    "learned_through": through,
                    "examples": len(days),
                }
            )
        return examples, marks

    async def _learn(self, session: AsyncSession, examples: Sequence[tuple[Example, bool]]) -> int:
        """Apply outcomes to the stored model under its row lock; the caller commits."""
        if not examples:
            return 0
        revision, state = await repository.lock_model(session, self.model_name)
        model = SuccessPredictor.from_state(state)
        users = sorted({ex.history.user_id for ex, _ in examples})
        layers = await repository.user_models(
            session, self.model_name, [uuid.UUID(u) for u in users]
        )
        for user_id in users:
            layer = layers.get(uuid.UUID(user_id))
            if layer is not None:
                model.load_user(user_id, layer)
        for example, done in examples:
            model.update(example, done)
        new_state = model.to_state(include_users=False)
        user_rows = [
            {
                "user_id": uuid.UUID(u),
                "examples": model.user_examples(u),
                "state": model.user_state(u),
            }
            for u in users
        ]
        for user_id in users:
            model.drop_user(user_id)
        self._model, self._revision = model, revision + 1
        await repository.save_model(
            session, self.model_name, revision + 1, model.examples_seen, new_state
        )
        await repository.save_user_models(session, self.model_name, user_rows)
        return len(examples)

    async def learn_batch(self, examples: Sequence[tuple[Example, bool]]) -> int:
        """Learn from outcomes given directly (replays, simulations), in one transaction."""
        async with self._writing() as session:
            return await self._learn(session, examples)

    async def stored_model(self, user_ids: Sequence[str] = ()) -> SuccessPredictor:
        """The model as stored, with the layers of ``user_ids`` (for evaluation and replays)."""
        async with self.sessions() as session:
            _, state = await repository.model_state(session, self.model_name)
            model = SuccessPredictor.from_state(state)
            layers = await repository.user_models(
                session, self.model_name, [uuid.UUID(u) for u in user_ids]
            )
        for user_id, layer in layers.items():
            model.load_user(str(user_id), layer)
        return model

    async def _snapshot_and_model(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        now: datetime,
        days: int,
        phases: bool = False,
    ) -> tuple[Snapshot, dict[str, Any] | None]:
        """A read snapshot and the user's model layer; the cached population layer refreshed.

        Raises:
            NotFound: When there is no such user.
        """
        record, revision, layer = await repository.user_record_and_model(
            session, user_id, self.model_name
        )
        snap = await self._snapshot(session, user_id, now, days, record, phases) if record else None
        if snap is None:
            raise NotFound("No such user.")
        if self._revision is None or revision > self._revision:
            revision, state = await repository.model_state(session, self.model_name)
            if self._revision is None or revision > self._revision:
                self._model, self._revision = SuccessPredictor.from_state(state), revision
        return snap, layer

    @contextmanager
    def _with_user(
        self, user_id: uuid.UUID, layer: Mapping[str, Any] | None
    ) -> Iterator[SuccessPredictor]:
        """The cached model with one user's stored layer installed, for synchronous use only."""
        model, key = self._model, str(user_id)
        model.drop_user(key)
        if layer is not None:
            model.load_user(key, layer)
        try:
            yield model
        finally:
            model.drop_user(key)

    # --- churn sweeps -----------------------------------------------------------------------

    async def sweep_user(self, user_id: uuid.UUID) -> SweepOut:
        """Learn a user's newly closed days, check their habits for churn, maybe nudge."""
        now = self.clock()
        async with self._writing() as session:
            await repository.lock_user(session, user_id)
            snap = await self._snapshot(session, user_id, now, phases=True)
            if snap is None:
                await repository.unschedule(session, user_id)
                return SweepOut(
                    user_id=user_id, learned=0, verdict="no_user", nudge=None, retry_at=None
                )
            recent = await repository.nudges_since(
                session, user_id, now - timedelta(days=NUDGE_HISTORY_DAYS)
            )
            await self._record_conversions(session, snap, recent)
            decision, nudge = await self._decide(session, snap, now, recent)
            next_at = now + self.sweep_every
            if decision.retry_at is not None:
                next_at = max(now + timedelta(minutes=5), min(next_at, decision.retry_at))
            await repository.set_next_sweep(session, user_id, next_at, now)
            # Learning comes last, so the model's row lock is held only until the commit.
            progress = await repository.habit_progress(session, [h.habit_id for h in snap.habits])
            examples, marks = self._new_examples(snap, progress)
            learned = await self._learn(session, examples)
            await repository.save_progress(session, marks)
        if nudge is not None:
            await self.publish_due(user_id=user_id)
        return SweepOut(
            user_id=user_id,
            learned=learned,
            verdict=decision.verdict,
            nudge=nudge,
            retry_at=decision.retry_at,
        )

    async def _decide(
        self, session: AsyncSession, snap: Snapshot, now: datetime, recent: Sequence[Nudge]
    ) -> tuple[NudgeDecision, NudgeOut | None]:
        """Apply the detector and the send policy; store the nudge when one is due.

        Args:
            session: The sweep's transaction.
            snap: The user's state.
            now: The sweep's instant.
            recent: The user's nudges of the last two weeks, newest first.
        """
        user_id = uuid.UUID(snap.user.user_id)
        resolved = await self._resolved(session, user_id, snap.explicit, now, refresh=True)
        if not resolved.preferences.proactive_suggestions:
            return NudgeDecision("no_proposal"), None
        config = DetectionConfig(zone=snap.zone)
        proposals: list[NudgeProposal] = []
        profiles: dict[str, HabitProfile] = {}
        for habit in snap.habits:
            if habit.kind == "negative" or done_on(snap.logs[habit.habit_id], snap.today, now):
                continue
            profiles[habit.habit_id] = profile = snap.profile(habit)
            proposal = propose_nudge(snap.activity(habit, profile), snap.today, config)
            if proposal is not None:
                proposals.append(proposal)
        # The user's last nudge is the one that last reached them, or will: a nudge held through
        # the night goes out the next morning and is that day's nudge, not the day before's.
        last_at = max((n.published_at or n.deliver_at for n in recent), default=None)
        by_habit: dict[str, datetime] = {}
        for n in recent:  # newest first
            by_habit.setdefault(str(n.habit_id), n.created_at)
        calendar = snap.user.calendar
        ctx = NudgeContext(
            zone=calendar.zone,
            day_start=calendar.day_start,
            chronotype=snap.user.chronotype,
            last_nudge_at=last_at,
            last_nudge_by_habit=by_habit,
        )
        decision = decide_nudge(proposals, now, ctx)
        if decision.verdict != "send" or decision.proposal is None:
            return decision, None
        proposal = decision.proposal
        tone = assign(NUDGE_TONE, snap.user.user_id)
        timing = assign(NUDGE_TIMING, snap.user.user_id)
        habit = next(h for h in snap.habits if h.habit_id == proposal.habit_id)
        row = {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "habit_id": uuid.UUID(proposal.habit_id),
            "reason": proposal.reason,
            "message": phrase(proposal, habit.title, tone),
            "modification": {
                "kind": proposal.modification.kind,
                "details": dict(proposal.modification.details),
            },
            "signals": list(proposal.signals),
            "tone": tone,
            "timing": timing,
            "local_date": local_today(now, calendar.zone, calendar.day_start),
            "created_at": now,
            "deliver_at": delivery_time(
                timing,
                now,
                calendar.zone,
                calendar.day_start,
                profiles[proposal.habit_id].scheduled_time,
                quiet_hours(ctx),
            ),
        }
        if not await repository.insert_nudge(session, row):
            return NudgeDecision("already_nudged_today"), None
        await repository.record_exposure(session, NUDGE_TONE.key, user_id, tone)
        await repository.record_exposure(session, NUDGE_TIMING.key, user_id, timing)
        return decision, nudge_out(Nudge(**row, published_at=None))

    async def _record_conversions(
        self, session: AsyncSession, snap: Snapshot, recent: Sequence[Nudge]
    ) -> None:
        """Convert the user in the nudge experiments if they did a nudged habit in time."""
        for nudge in recent:
            if nudge.published_at is None:
                continue
            ends = nudge.published_at + CONVERSION_WINDOW
            if any(
                log.status == "done"
                and log.logged_at is not None
                and nudge.published_at <= log.logged_at <= ends
                and log.on >= nudge.local_date
                for log in snap.logs.get(str(nudge.habit_id), [])
            ):
                await repository.record_conversions(
                    session, [e.key for e in BUILT_IN_EXPERIMENTS], nudge.user_id
                )
                return

    async def sweep_due(self) -> int:
        """Sweep the users whose time has come (a batch), then publish nudges that are due."""
        now = self.clock()
        async with self.sessions.begin() as session:
            users = await repository.claim_due_users(
                session, now, self.sweep_batch, now + SWEEP_LEASE
            )
        for user_id in users:
            try:
                await self.sweep_user(user_id)
            except Exception:
                log.exception(
                    "churn sweep of user %s failed; it is retried after its lease", user_id
                )
        await self.publish_due()
        return len(users)

    async def publish_due(self, user_id: uuid.UUID | None = None) -> int:
        """Publish stored nudges whose delivery time has come, and mark them published.

        Each goes out as ``learning.nudge.proposed.v1`` (deduplicated by the nudge id) and live
        on ``live.notifications.<user_id>`` for the user's open notification streams. A nudge
        due at a moment that is now the user's night (the publisher ran late) is held until
        their quiet hours end.
        """
        now = self.clock()
        async with self.sessions.begin() as session:
            claimed = await repository.claim_due_nudges(session, now, PUBLISH_BATCH, user_id)
            users = await repository.user_records(session, list({n.user_id for n in claimed}))
            due = []
            for nudge in claimed:
                record = users.get(nudge.user_id)
                if record is not None:
                    ctx = NudgeContext(
                        zone=record.timezone,
                        day_start=record.day_start,
                        chronotype=chronotype_of(record.chronotype),
                    )
                    if (morning := release_time(now, ctx)) > now:
                        await repository.postpone_nudge(session, nudge.id, morning)
                        continue
                due.append(nudge)
            for nudge in due:
                out = nudge_out(nudge)
                await publish_event(
                    self.broker,
                    NudgeProposedV1(
                        event_id=nudge.id,
                        occurred_at=nudge.created_at,
                        user_id=nudge.user_id,
                        nudge_id=nudge.id,
                        habit_id=nudge.habit_id,
                        reason=nudge.reason,
                        message=nudge.message,
                        modification=nudge.modification,
                        signals=list(nudge.signals),
                        local_date=nudge.local_date,
                        tone=nudge.tone,
                        timing=nudge.timing,
                    ),
                )
                await self.broker.publish(
                    out.model_dump_json().encode(),
                    subject=live_notifications(nudge.user_id),
                    headers={"content-type": "application/json"},
                )
            await repository.mark_nudges_published(session, [n.id for n in due], now)
        return len(due)

    # --- rpc reads --------------------------------------------------------------------------

    async def predict(self, query: PredictQuery) -> PredictionOut:
        """The success prediction for an existing or a proposed habit."""
        now = self.clock()
        async with self.sessions() as session:
            snap, layer = await self._snapshot_and_model(
                session, query.user_id, now, PREDICT_HISTORY_DAYS
            )
            habit = None
            if query.habit_id is not None:
                habit = next((h for h in snap.habits if h.habit_id == str(query.habit_id)), None)
                if habit is None:
                    raise NotFound("No such habit.")
                if habit.kind == "negative":
                    raise ValidationFailed(
                        "Predictions cover habits you do; a negative habit counts slips.",
                        details=[{"loc": ["habit_id"], "kind": "negative"}],
                    )
        draft = query.habit.model_dump(exclude_none=True) if query.habit is not None else {}
        if habit is not None:
            profile = habit_profile(
                habit,
                [o.completed_at for o in snap.outcomes[habit.habit_id] if o.completed_at][-28:],
                snap.zone,
                draft,
            )
            on = query.on or next_scheduled_day(habit, snap.today)
            key = habit.habit_id
        else:
            profile = draft_profile(draft)
            on = query.on or snap.today
            key = ""
        if not snap.today <= on <= snap.today + timedelta(days=MAX_PREDICT_AHEAD_DAYS):
            raise ValidationFailed(
                f"on must lie between your today ({snap.today}) and {MAX_PREDICT_AHEAD_DAYS} days "
                "ahead.",
                details=[{"loc": ["on"], "today": snap.today.isoformat()}],
            )
        categories = {**snap.categories, key: profile.category}
        history = history_as_of(snap.user, key, on, snap.outcomes, categories)
        with self._with_user(query.user_id, layer) as model:
            prediction = model.predict(profile, history, on)
        return prediction_out(query.habit_id, on, prediction)

    async def optimal_time(self, query: OptimalTimeQuery) -> OptimalTimeOut:
        """Ranked windows from the user's own completion times, else chronotype and type."""
        now = self.clock()
        async with self.sessions() as session:
            snap = await self._snapshot(session, query.user_id, now, ACTIVITY_DAYS)
        if snap is None:
            raise NotFound("No such user.")
        calendar = snap.user.calendar
        if query.habit_id is not None:
            habit = next((h for h in snap.habits if h.habit_id == str(query.habit_id)), None)
            if habit is None:
                raise NotFound("No such habit.")
            kind = (
                habit_kind(query.habit_type)
                if query.habit_type
                else snap.categories[habit.habit_id]
            )
            history = timed_outcomes(snap.logs[habit.habit_id], calendar)
            duration = query.duration_minutes or duration_of(habit) or 10.0
        else:
            kind = habit_kind(query.habit_type or "")
            # Without a habit, the user's record on habits of the same kind is the evidence.
            history = [
                t
                for h in snap.habits
                if kind != "general" and snap.categories[h.habit_id] == kind
                for t in timed_outcomes(snap.logs[h.habit_id], calendar)
            ]
            duration = query.duration_minutes or 10.0
        advice = find_optimal_windows(
            kind if kind != "general" else (query.habit_type or "general"),
            duration,
            query.flexibility,
            snap.user.chronotype,
            history,
            calendar.zone,
            query.limit,
        )
        return OptimalTimeOut(
            habit_type=kind,
            zone=calendar.zone,
            windows=[
                TimeWindowOut(start=w.start, end=w.end, score=w.score, reason=w.reason)
                for w in advice.windows
            ],
            explanation=advice.explanation,
            source=advice.source,
            completions_used=len(history),
        )

    async def _resolved(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        explicit: Mapping[str, Any],
        now: datetime,
        refresh: bool = False,
    ) -> ResolvedPreferences:
        """Explicit preferences merged with the stored inferred ones.

        With ``refresh``, an inference older than a day is recomputed first, so one drawn from
        feedback that has since left the 90-day window does not linger.
        """
        inferred, reasons, updated_at = await repository.inferred_preferences(session, user_id)
        if refresh and updated_at is not None and now - updated_at > PREFERENCES_REFRESH:
            await self._refresh_preferences(session, user_id, now)
            inferred, reasons, _ = await repository.inferred_preferences(session, user_id)
        return combine(explicit_of(explicit), inferred, reasons)

    async def preferences(self, query: UserQuery) -> PreferencesOut:
        """The preferences in effect: explicit, else inferred from feedback, else defaults."""
        async with self.sessions() as session:
            record = await repository.user_record(session, query.user_id)
            if record is None:
                raise NotFound("No such user.")
            resolved = await self._resolved(
                session, query.user_id, record.preferences, self.clock()
            )
        p = resolved.preferences
        return PreferencesOut(
            communication_style=p.communication_style,
            detail_level=p.detail_level,
            emoji_preference=p.emoji_preference,
            notification_frequency=p.notification_frequency,
            proactive_suggestions=p.proactive_suggestions,
            sources=dict(resolved.sources),
            reasons=dict(resolved.reasons),
        )

    async def notifications(self, query: UserQuery) -> NotificationsOut:
        """Delivered, unanswered nudges of the last week, newest first, and the suggestion dot."""
        since = self.clock() - timedelta(days=OPEN_DAYS)
        async with self.sessions() as session:
            rows = await repository.open_nudges(session, query.user_id, since)
        nudges = [nudge_out(r) for r in rows]
        return NotificationsOut(nudges=nudges, has_new_suggestion=bool(nudges))

    async def insights(self, query: UserQuery) -> InsightsOut:
        """Insights, suggestions and predictions for the user's active habits."""
        now = self.clock()
        async with self.sessions() as session:
            snap, layer = await self._snapshot_and_model(
                session, query.user_id, now, ACTIVITY_DAYS, phases=True
            )
            metrics = await repository.habit_metrics(session, [h.habit_id for h in snap.habits])
        config = DetectionConfig(zone=snap.zone)
        inputs: list[HabitInsightInput] = []
        with self._with_user(query.user_id, layer) as model:
            for habit in snap.habits:
                m = metrics.get(habit.habit_id)
                base = HabitInsightInput(
                    habit_id=habit.habit_id,
                    title=habit.title,
                    current_streak=m.current_streak if m is not None else 0,
                    completion_rate_week=m.completion_rate_week if m is not None else None,
                    completion_rate_month=m.completion_rate_month if m is not None else None,
                )
                if habit.kind == "negative":
                    inputs.append(base)
                    continue
                profile = snap.profile(habit)
                on = next_scheduled_day(habit, snap.today)
                history = history_as_of(
                    snap.user, habit.habit_id, on, snap.outcomes, snap.categories
                )
                nudge = None
                if not done_on(snap.logs[habit.habit_id], snap.today, now):
                    nudge = propose_nudge(snap.activity(habit, profile), snap.today, config)
                timing = find_optimal_windows(
                    profile.category,
                    profile.duration_minutes,
                    "medium",
                    snap.user.chronotype,
                    timed_outcomes(snap.logs[habit.habit_id], snap.user.calendar),
                    snap.zone,
                )
                inputs.append(
                    HabitInsightInput(
                        habit_id=base.habit_id,
                        title=base.title,
                        scheduled_time=profile.scheduled_time,
                        current_streak=base.current_streak,
                        completion_rate_week=base.completion_rate_week,
                        completion_rate_month=base.completion_rate_month,
                        prediction=model.predict(profile, history, on),
                        nudge=nudge,
                        timing=timing,
                    )
                )
        built = build_insights(inputs)
        return InsightsOut(
            insights=[
                InsightOut(
                    kind=i.kind,
                    habit_id=uuid.UUID(i.habit_id) if i.habit_id else None,
                    message=i.message,
                    priority=i.priority,
                )
                for i in built.insights
            ],
            suggestions=[
                SuggestionOut(
                    kind=s.kind,
                    habit_id=uuid.UUID(s.habit_id),
                    message=s.message,
                    details=json.loads(json.dumps(dict(s.details), default=str)),
                    priority=s.priority,
                )
                for s in built.suggestions
            ],
            predictions=[
                PredictionItemOut(
                    habit_id=uuid.UUID(p.habit_id),
                    title=p.title,
                    probability=p.probability,
                    confidence=p.confidence,
                    success_factors=list(p.success_factors),
                    risk_factors=list(p.risk_factors),
                )
                for p in built.predictions
            ],
        )

    # --- experiments ------------------------------------------------------------------------

    async def define_experiment(self, data: ExperimentIn) -> ExperimentOut:
        """Store an experiment; the same definition again is fine, a different one conflicts."""
        try:
            exp = experiment_def(
                data.key, [v.model_dump() for v in data.variants], data.metric, data.control
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), details=[{"loc": ["variants"]}]) from None
        row = _experiment_row(exp)
        async with self.sessions.begin() as session:
            if not await repository.insert_experiment(session, row):
                stored = await repository.experiment(session, exp.key)
                assert stored is not None
                same = (stored.variants, stored.metric, stored.control) == (
                    row["variants"],
                    row["metric"],
                    row["control"],
                )
                if not same:
                    raise Conflict(
                        f"Experiment {exp.key!r} exists with another definition; use a new key."
                    )
        return ExperimentOut(
            key=exp.key,
            variants=[VariantIn(key=v.key, weight=v.weight) for v in exp.variants],
            metric=exp.metric,
            control=exp.control_key,
        )

    async def _experiment(self, session: AsyncSession, key: str) -> ExperimentDef:
        stored = await repository.experiment(session, key)
        if stored is None:
            raise NotFound(f"No experiment {key!r}.")
        return experiment_def(stored.key, stored.variants, stored.metric, stored.control)

    async def assign(self, query: AssignQuery) -> AssignmentOut:
        """The user's variant (deterministic by user and experiment); records the exposure."""
        async with self.sessions.begin() as session:
            exp = await self._experiment(session, query.experiment)
            variant = assign(exp, str(query.user_id))
            await repository.record_exposure(session, exp.key, query.user_id, variant)
        return AssignmentOut(experiment=exp.key, variant=variant, metric=exp.metric)

    async def convert(self, query: ConversionIn) -> ConversionOut:
        """Record a conversion of an exposed user (the first one counts)."""
        async with self.sessions.begin() as session:
            exp = await self._experiment(session, query.experiment)
            variant = await repository.exposure_variant(session, exp.key, query.user_id)
            recorded = variant is not None and await repository.record_conversion(
                session, exp.key, query.user_id
            )
        return ConversionOut(experiment=exp.key, variant=variant, recorded=recorded)

    async def experiment_report(self, query: ReportQuery) -> ExperimentReportOut:
        """Per-variant rates, differences from the control and their 95 % intervals."""
        async with self.sessions() as session:
            exp = await self._experiment(session, query.experiment)
            counts = await repository.experiment_counts(session, exp.key)
        result = report(exp, {v: VariantCounts(n, k) for v, (n, k) in counts.items()})
        return ExperimentReportOut(
            experiment=result.experiment,
            metric=result.metric,
            control=result.control,
            method=result.method,
            variants=[
                VariantResultOut(
                    variant=v.variant,
                    exposures=v.exposures,
                    conversions=v.conversions,
                    rate=v.rate,
                    difference=v.difference,
                    ci_low=v.ci_low,
                    ci_high=v.ci_high,
                    significant=v.significant,
                )
                for v in result.variants
            ],
        )


def _experiment_row(exp: ExperimentDef) -> dict[str, Any]:
    return {
        "key": exp.key,
        "variants": [{"key": v.key, "weight": v.weight} for v in exp.variants],
        "metric": exp.metric,
        "control": exp.control_key,
    }


def _event_row(
    event: FeedbackRecordedV1 | HabitLogRecordedV1 | HabitLogDeletedV1 | HabitMetricsUpdatedV1,
    kind: str,
    habit_id: uuid.UUID | None,
) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "subject": event.subject,
        "user_id": event.user_id,
        "habit_id": habit_id,
        "kind": kind,
        "occurred_at": event.occurred_at,
        "payload": event.model_dump(mode="json"),
    }
