"""The agent's tools' backend over the bus: the gateway's habit rpc and the other services' rpc.

One instance serves one chat turn (or one sequence action) of one user: habit writes go through
``rpc.habits.*`` (the gateway validates them as it does the public API), reads of metrics,
predictions, timing and knowledge through their services. The habit list is fetched once per
turn and refreshed after a write, because most tools resolve a habit by name first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, Literal

from faststream.nats import NatsBroker

from services.agent.backend import (
    BackendError,
    Habit,
    HabitLog,
    HabitMetrics,
    KnowledgeHit,
    NewHabit,
    Prediction,
    Proposal,
    Reminder,
    Schedule,
    TimeSuggestion,
)
from shared.charts import ChartPeriod, history_query
from shared.contracts import habits as habit_rpc
from shared.contracts import integrations as integration_rpc
from shared.contracts import knowledge as knowledge_rpc
from shared.contracts import learning as learning_rpc
from shared.contracts import metrics as metrics_rpc
from shared.errors import HabyssError
from shared.rpc import call

# The metrics rpc is asked about at most this many habits in one analysis.
MAX_HABITS_ANALYSED = 20


def _schedule_body(schedule: Schedule) -> dict[str, Any]:
    if schedule.type == "weekdays":
        return {"type": "weekdays", "days": list(schedule.days)}
    return {
        "type": "interval",
        "every": schedule.every,
        "unit": schedule.unit,
        "times": schedule.times,
    }


def habit_body(habit: NewHabit, description: str | None = None) -> dict[str, Any]:
    """A ``POST /v1/habits`` body for a habit the agent proposes.

    The public API knows boolean, quantity and negative habits: a duration habit becomes a
    quantity habit counted in minutes, and a quantity habit without a target gets a target of 1
    of its unit, which the user can change.
    """
    body: dict[str, Any] = {"title": habit.title, "schedule": _schedule_body(habit.schedule)}
    notes = [description] if description else []
    if habit.time_of_day:
        notes.append(f"Planned time: {habit.time_of_day}.")
    if notes:
        body["description"] = " ".join(notes)[:5000]
    if habit.kind in ("quantity", "duration"):
        unit = habit.unit or ("minutes" if habit.kind == "duration" else "times")
        body["kind"] = "quantity"
        body["target"] = {"value": habit.target or 1, "unit": unit[:32], "direction": "at_least"}
    else:
        body["kind"] = habit.kind
    return body


def _habit(data: dict[str, Any]) -> Habit:
    schedule = data.get("schedule") or {}
    target = data.get("target") or {}
    created = data.get("created_at")
    return Habit(
        id=str(data["id"]),
        title=data["title"],
        kind=data.get("kind", "boolean"),
        unit=target.get("unit"),
        target=target.get("value"),
        schedule=Schedule(
            type=schedule.get("type", "interval"),
            every=schedule.get("every") or 1,
            unit=schedule.get("unit") or "day",
            times=schedule.get("times") or 1,
            days=tuple(schedule.get("days") or ()),
        ),
        sub_habits=tuple(s["title"] for s in data.get("sub_habits", ())),
        tags=tuple(data.get("tags", ())),
        created_on=datetime.fromisoformat(created).date() if created else date.today(),
    )


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BackendError("habit_not_found", f"{what} {value!r} is not a habit id") from None


class BusBackend:
    """:class:`~services.agent.backend.HabitBackend` over NATS rpc, for one user's turn."""

    def __init__(
        self, broker: NatsBroker, user_id: uuid.UUID, *, chronotype: str | None = None
    ) -> None:
        self._broker = broker
        self._user_id = user_id
        self._chronotype = chronotype
        self._habits: list[Habit] | None = None

    def _check(self, user_id: str) -> None:
        # The tools pass the context's user id; anything else is a bug, never a model's choice.
        if user_id != str(self._user_id):
            raise BackendError("forbidden", "a turn acts only for its own user")

    async def _call(self, subject: str, payload: Any, timeout: float = 3.0) -> Any:  # noqa: ASYNC109
        try:
            return await call(self._broker, subject, payload, timeout)
        except HabyssError as exc:
            raise BackendError(exc.code, exc.message) from exc

    async def list_habits(self, user_id: str) -> list[Habit]:
        self._check(user_id)
        if self._habits is None:
            data = await self._call(habit_rpc.LIST, habit_rpc.ListHabits(user_id=self._user_id))
            self._habits = [_habit(h) for h in data]
        return list(self._habits)

    async def get_chronotype(self, user_id: str) -> str | None:
        self._check(user_id)
        return self._chronotype

    async def create_habit(
        self, user_id: str, habit: NewHabit, today: date, description: str | None = None
    ) -> Habit:
        self._check(user_id)
        body = habit_body(habit, description)
        data = await self._call(
            habit_rpc.CREATE, habit_rpc.CreateHabit(user_id=self._user_id, habit=body)
        )
        self._habits = None
        return _habit(data)

    async def log_habit(
        self, user_id: str, habit_id: str, day: date, value: float | None
    ) -> HabitLog:
        self._check(user_id)
        body: dict[str, Any] = {"date": day.isoformat()}
        if value is not None:
            body["value"] = value
        data = await self._call(
            habit_rpc.LOG,
            habit_rpc.LogHabit(user_id=self._user_id, habit_id=_uuid(habit_id, "habit"), log=body),
        )
        return HabitLog(
            habit_id=habit_id, day=date.fromisoformat(data["date"]), value=data["value"]
        )

    async def add_sub_habits(self, user_id: str, habit_id: str, titles: Sequence[str]) -> Habit:
        self._check(user_id)
        data = await self._call(
            habit_rpc.ADD_SUB_HABITS,
            habit_rpc.AddSubHabits(
                user_id=self._user_id, habit_id=_uuid(habit_id, "habit"), titles=list(titles)
            ),
        )
        self._habits = None
        return _habit(data)

    async def assign_tags(self, user_id: str, habit_id: str, tags: Sequence[str]) -> Habit:
        self._check(user_id)
        data = await self._call(
            habit_rpc.ASSIGN_TAGS,
            habit_rpc.AssignTags(
                user_id=self._user_id, habit_id=_uuid(habit_id, "habit"), tags=list(tags)
            ),
        )
        self._habits = None
        return _habit(data)

    async def get_metrics(
        self, user_id: str, habit_ids: Sequence[str], period_days: int, today: date
    ) -> list[HabitMetrics]:
        habits = {h.id: h for h in await self.list_habits(user_id)}
        ids = list(habit_ids) or list(habits)
        unknown = [i for i in ids if i not in habits]
        if unknown:
            raise BackendError("habit_not_found", f"no habit with id {unknown[0]!r}")
        ids = ids[:MAX_HABITS_ANALYSED]
        replies = await asyncio.gather(
            *(
                self._call(
                    metrics_rpc.GET,
                    metrics_rpc.MetricsQuery(user_id=self._user_id, habit_id=uuid.UUID(i)),
                )
                for i in ids
            )
        )
        out = []
        for habit_id, data in zip(ids, replies, strict=True):
            m = metrics_rpc.HabitMetricsOut.model_validate(data)
            rate = m.completion_rate_week if period_days <= 7 else m.completion_rate_month
            out.append(
                HabitMetrics(
                    habit_id=habit_id,
                    title=habits[habit_id].title,
                    period_days=period_days,
                    completed_days=None,
                    completion_rate=round(rate or 0.0, 3),
                    current_streak=m.current_streak,
                    best_streak=m.longest_streak,
                    streak_unit=m.streak_unit,
                    strength=m.strength,
                )
            )
        return out

    async def get_history(
        self, user_id: str, habit_id: str, period: ChartPeriod, today: date
    ) -> metrics_rpc.HistoryOut:
        self._check(user_id)
        # The metrics service ends the history on the owner's today, as the metrics do.
        query = history_query(self._user_id, _uuid(habit_id, "habit"), period)
        data = await self._call(metrics_rpc.HISTORY, query)
        return metrics_rpc.HistoryOut.model_validate(data)

    async def get_integration_data(
        self,
        user_id: str,
        data_type: str,
        days: int,
        today: date,
        integration: str | None = None,
        workout_type: str | None = None,
    ) -> integration_rpc.DataOut:
        self._check(user_id)
        # The gateway ends the span on the owner's today, as the API does.
        query = integration_rpc.DataQuery.model_validate(
            {
                "user_id": self._user_id,
                "data_type": data_type,
                "days": days,
                "integration": integration,
                "workout_type": workout_type,
            }
        )
        data = await self._call(integration_rpc.DATA, query)
        return integration_rpc.DataOut.model_validate(data)

    async def predict_success(
        self, user_id: str, title: str, per_week: int, minutes: int, time_of_day: str | None
    ) -> Prediction:
        self._check(user_id)
        scheduled: time | None = None
        if time_of_day:
            try:
                scheduled = time.fromisoformat(time_of_day)
            except ValueError:
                scheduled = None
        draft = learning_rpc.HabitDraft(
            title=title[:200],
            duration_minutes=max(1, min(720, minutes)),
            times_per_week=max(1, min(14, per_week)),
            scheduled_time=scheduled,
        )
        data = await self._call(
            learning_rpc.PREDICT, learning_rpc.PredictQuery(user_id=self._user_id, habit=draft)
        )
        p = learning_rpc.PredictionOut.model_validate(data)
        factors = [
            f"{f.label} ({'+' if f.contribution >= 0 else ''}{f.contribution:.2f})"
            for f in [*p.top_success_factors, *p.top_risk_factors]
        ]
        advice = (
            p.recommendations[0].message
            if p.recommendations
            else "Looks sustainable; anchor it to a routine you already have."
        )
        return Prediction(
            probability=round(p.probability, 2), factors=tuple(factors), recommendation=advice
        )

    async def optimal_time(
        self, user_id: str, habit_type: str, minutes: int, flexibility: str
    ) -> TimeSuggestion:
        self._check(user_id)
        level = flexibility if flexibility in ("low", "medium", "high") else "medium"
        data = await self._call(
            learning_rpc.OPTIMAL_TIME,
            learning_rpc.OptimalTimeQuery(
                user_id=self._user_id,
                habit_type=habit_type[:200],
                duration_minutes=max(1, min(720, minutes)),
                flexibility=level,
            ),
        )
        out = learning_rpc.OptimalTimeOut.model_validate(data)
        if not out.windows:
            raise BackendError("no_window", "no time window could be suggested")
        best, *rest = out.windows
        return TimeSuggestion(
            time_of_day=best.start,
            reason=f"{best.reason}; {out.explanation}".strip("; "),
            alternatives=tuple(w.start for w in rest),
        )

    async def set_reminder(
        self, user_id: str, habit_id: str | None, at: str, message: str | None, replace: bool
    ) -> tuple[Reminder, bool]:
        self._check(user_id)
        command = habit_rpc.SetReminder(
            user_id=self._user_id,
            habit_id=_uuid(habit_id, "habit") if habit_id is not None else None,
            time=at,
            message=message,
            replace=replace,
        )
        out = habit_rpc.SetReminderOut.model_validate(
            await self._call(habit_rpc.SET_REMINDER, command)
        )
        body = out.reminder
        reminder = Reminder(
            id=str(body["id"]),
            habit_id=str(body["habit_id"]) if body.get("habit_id") else None,
            time=body["time"],
            weekdays=tuple(body.get("weekdays") or ()),
            message=body.get("message"),
            enabled=bool(body.get("enabled", True)),
            next_fire_at=body.get("next_fire_at"),
        )
        return reminder, out.created

    async def propose(
        self,
        user_id: str,
        action: Literal["archive_habit", "delete_reminders"],
        habit_id: str | None,
    ) -> Proposal:
        self._check(user_id)
        command = habit_rpc.ProposeAction(
            user_id=self._user_id,
            action=action,
            habit_id=_uuid(habit_id, "habit") if habit_id is not None else None,
        )
        out = habit_rpc.ConfirmationOut.model_validate(await self._call(habit_rpc.PROPOSE, command))
        return Proposal(
            id=str(out.id),
            action=out.action,
            habit_id=str(out.habit_id) if out.habit_id else None,
            summary=out.summary,
            expires_at=out.expires_at.isoformat(),
        )

    async def search_knowledge(self, query: str, limit: int) -> list[KnowledgeHit]:
        data = await self._call(
            knowledge_rpc.SEARCH, knowledge_rpc.SearchRequest(query=query[:2000], k=limit)
        )
        reply = knowledge_rpc.SearchReply.model_validate(data)
        return [
            KnowledgeHit(
                id=f"{p.doc_slug}#{p.section}",
                title=p.title,
                source="; ".join(p.sources[:2]) or p.title,
                snippet=p.text[:600],
                score=round(p.score, 4),
            )
            for p in reply.results
        ]
