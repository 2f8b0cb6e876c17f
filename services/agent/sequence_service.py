"""The agent's habit sequences: drafts, activation, and advancing phase by phase.

**Sequences** are made as drafts (by the tool or ``rpc.agent.create_sequence.v1``); activation
creates the first phase's habits through the gateway's ``rpc.habits.create.v1``; each
``metrics.habit.updated.v1`` of a sequence habit stores its 7-day rate, and the phase advances
when :func:`services.agent.phases.should_advance` says so, creating the next phase's habits.
A habit the user already has under the same title is reused, so a retried activation or
advance never makes a habit twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime

from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agent import phases, repository
from services.agent.backend import BackendError, Habit
from services.agent.bus_backend import BusBackend
from services.agent.goals import GoalAnalysis, analyze_goal
from services.agent.sequences import HabitSequencePlan, generate_sequence
from services.agent.understanding import understand
from shared.contracts.agent import (
    ActivateSequence,
    CreateSequence,
    Query,
    SequenceHabitOut,
    SequenceOut,
    SequenceQuery,
    SequencesOut,
)
from shared.db.agent import HabitSequence, SequenceHabit
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.metrics import HabitMetricsUpdatedV1
from shared.events.sequences import SequencePhaseAdvancedV1
from shared.messaging import publish_event

log = logging.getLogger(__name__)


def _sequence_out(s: HabitSequence, rows: Sequence[SequenceHabit]) -> SequenceOut:
    return SequenceOut(
        id=s.id,
        status=s.status,
        goal=s.goal,
        current_phase=s.current_phase,
        phase_started_on=s.phase_started_on,
        plan=s.plan,
        analysis=s.analysis,
        habits=[
            SequenceHabitOut(
                phase=r.phase,
                name=r.name,
                habit_id=r.habit_id,
                completion_rate_week=r.completion_rate_week,
            )
            for r in rows
        ],
        created_at=s.created_at,
        activated_at=s.activated_at,
    )


class SequenceService:
    """Habit sequences from draft to completion (the ``rpc.agent.*sequence*`` use cases)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: NatsBroker,
        now: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.now = now

    def drafts(self) -> _Drafts:
        """Where the chat tools keep the sequences they plan."""
        return _Drafts(self)

    async def save_draft(
        self, user_id: uuid.UUID, goal: str, plan: HabitSequencePlan, analysis: GoalAnalysis
    ) -> HabitSequence:
        async with self.sessions.begin() as session:
            row = repository.add_sequence(
                session,
                id=uuid.uuid4(),
                user_id=user_id,
                goal=goal,
                status="draft",
                plan=plan.model_dump(mode="json"),
                analysis=analysis.model_dump(mode="json"),
            )
            await session.flush()
        return row

    async def create_sequence(self, command: CreateSequence) -> SequenceOut:
        """Plan a sequence for a goal and keep it as a draft."""
        backend = BusBackend(self.broker, command.user_id)
        titles = [h.title for h in await self._habits_or_none(backend, command.user_id)]
        u = understand(command.goal, command.today, titles)
        if u.refuse or u.intent == "out_of_scope":
            raise ValidationFailed(
                "goal: this does not read as a goal habits can work towards; describe what you "
                "want to achieve, e.g. 'run a 5K in 8 weeks'.",
                details=[{"loc": ["goal"], "msg": "not a habit goal", "type": "value_error"}],
            )
        prefs = command.preferences
        async with self.sessions() as session:
            facts = await repository.facts_of(session, command.user_id)
        if prefs.timeframe_days is not None:
            u = u.model_copy(update={"timeframe_days": prefs.timeframe_days})
        if prefs.minutes_available is not None:
            u = u.model_copy(update={"minutes_available": prefs.minutes_available})
        goal = analyze_goal(u, command.today)
        chronotype = prefs.chronotype or u.chronotype or facts.get("chronotype")
        minutes = u.minutes_available or facts.get("minutes_available")
        plan = generate_sequence(goal, chronotype, minutes, titles, command.today)
        row = await self.save_draft(command.user_id, command.goal, plan, goal)
        return _sequence_out(row, [])

    async def _habits_or_none(self, backend: BusBackend, user_id: uuid.UUID) -> list[Habit]:
        try:
            return await backend.list_habits(str(user_id))
        except BackendError as exc:
            log.warning("habit list unavailable, planning without it: %s", exc.message)
            return []

    async def get_sequence(self, query: SequenceQuery) -> SequenceOut:
        async with self.sessions() as session:
            row = await repository.sequence(session, query.user_id, query.sequence_id)
            if row is None:
                raise NotFound("No such sequence.", {"sequence_id": str(query.sequence_id)})
            rows = await repository.sequence_habits(session, row.id)
        return _sequence_out(row, rows)

    async def active_sequences(self, query: Query) -> SequencesOut:
        async with self.sessions() as session:
            found = await repository.active_sequences(session, query.user_id)
            out = [_sequence_out(s, await repository.sequence_habits(session, s.id)) for s in found]
        return SequencesOut(sequences=out)

    async def activate(self, command: ActivateSequence) -> SequenceOut:
        """Create phase 1's habits and make the sequence active; a second activation is a no-op."""
        async with self.sessions.begin() as session:
            row = await repository.sequence(
                session, command.user_id, command.sequence_id, lock=True
            )
            if row is None:
                raise NotFound("No such sequence.", {"sequence_id": str(command.sequence_id)})
            if row.status == "draft":
                plan = HabitSequencePlan.model_validate(row.plan)
                await self._enter_phase(session, row, plan, 1, command.today)
                row.status = "active"
                row.activated_at = self.now()
            rows = await repository.sequence_habits(session, row.id)
        return _sequence_out(row, rows)

    async def _enter_phase(
        self,
        session: AsyncSession,
        row: HabitSequence,
        plan: HabitSequencePlan,
        number: int,
        today: date,
    ) -> None:
        """Create the phase's new habits (reusing same-titled ones) and track all it names."""
        backend = BusBackend(self.broker, row.user_id)
        earlier = await repository.sequence_habits(session, row.id)
        by_name = {r.name.casefold(): r.habit_id for r in earlier if r.habit_id is not None}
        live = {h.title.casefold(): h.id for h in await backend.list_habits(str(row.user_id))}
        phase = phases.phase_of(plan, number)
        for habit in phases.habits_to_create(plan, number, by_name):
            existing = live.get(habit.name[:120].casefold())
            if existing is not None:
                by_name[habit.name.casefold()] = uuid.UUID(existing)
                continue
            try:
                created = await backend.create_habit(
                    str(row.user_id),
                    phases.new_habit(habit),
                    today,
                    description=phases.describe(habit, phase),
                )
            except BackendError as exc:
                # The account refused the habit (the habit limit, a rule of the API): a 409 the
                # user can act on, not a server error (found by the schema fuzzing).
                raise Conflict(f"Could not create {habit.name!r}: {exc.message}") from exc
            by_name[habit.name.casefold()] = uuid.UUID(created.id)
        for name in phases.phase_names(plan, number):
            habit_id = by_name.get(name.casefold())
            if habit_id is not None:
                await repository.add_sequence_habit(
                    session,
                    sequence_id=row.id,
                    user_id=row.user_id,
                    phase=number,
                    name=name,
                    habit_id=habit_id,
                )
        row.current_phase = number
        row.phase_started_on = today

    async def on_metrics_updated(self, event: HabitMetricsUpdatedV1) -> None:
        """Store a sequence habit's 7-day rate and advance its sequence when the phase is done."""
        rate = event.metrics.get("completion_rate_week")
        advanced: list[SequencePhaseAdvancedV1] = []
        async with self.sessions.begin() as session:
            touched = await repository.record_habit_rate(session, event.habit_id, rate, event.as_of)
            for sequence_id in touched:
                row = await repository.sequence(session, event.user_id, sequence_id, lock=True)
                if row is None or row.status != "active" or row.current_phase is None:
                    continue
                if (done := await self._maybe_advance(session, row, event.as_of)) is not None:
                    advanced.append(done)
        # After the commit: an advance that rolled back is never announced.
        for announcement in advanced:
            await publish_event(self.broker, announcement)

    async def _maybe_advance(
        self, session: AsyncSession, row: HabitSequence, today: date
    ) -> SequencePhaseAdvancedV1 | None:
        plan = HabitSequencePlan.model_validate(row.plan)
        current = row.current_phase
        assert current is not None and row.phase_started_on is not None
        rows = [r for r in await repository.sequence_habits(session, row.id) if r.phase == current]
        tracked = [phases.TrackedHabit(r.name, r.completion_rate_week) for r in rows]
        if not phases.should_advance(plan, current, row.phase_started_on, today, tracked):
            return None
        completed = current >= len(plan.phases)
        if completed:
            row.status = "completed"
            log.info("sequence %s completed", row.id)
        else:
            await self._enter_phase(session, row, plan, current + 1, today)
            log.info("sequence %s advanced to phase %d", row.id, current + 1)
        entered = current if completed else current + 1
        return SequencePhaseAdvancedV1(
            # One id per sequence and phase change, so a redelivered advance is deduped.
            event_id=uuid.uuid5(row.id, f"phase:{entered}:{completed}"),
            user_id=row.user_id,
            sequence_id=row.id,
            phase=entered,
            phase_count=len(plan.phases),
            completed=completed,
            as_of=today,
        )


class _Drafts:
    """The tools' :class:`~services.agent.tools.SequenceDrafts`, stored by the service."""

    def __init__(self, service: SequenceService) -> None:
        self._service = service

    async def save_draft(
        self, user_id: str, goal: str, plan: HabitSequencePlan, analysis: GoalAnalysis
    ) -> str:
        row = await self._service.save_draft(uuid.UUID(user_id), goal, plan, analysis)
        return str(row.id)
