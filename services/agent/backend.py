"""What the agent's tools need from the rest of Habyss, and an in-memory implementation.

:class:`HabitBackend` is the port: habits (list, create, log, sub-habits, tags), metrics and
their day-by-day history (for charts), success prediction, optimal timing and knowledge search,
always for one authenticated user. :class:`services.agent.bus_backend.BusBackend` calls the
gateway's ``rpc.habits.*``, ``rpc.metrics.get.v1``, ``rpc.metrics.history.v1``,
``rpc.learning.*`` and ``rpc.knowledge.search.v1``;
:class:`InMemoryBackend` is deterministic and needs no servers, for the evaluation runner and
tests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from shared.charts import PERIODS, ChartPeriod
from shared.contracts.integrations import DataOut, SummaryOut
from shared.contracts.metrics import HistoryDay, HistoryOut, HistoryPeriod, HistoryStreak

_FROZEN = ConfigDict(frozen=True)
HabitKind = Literal["boolean", "quantity", "duration", "negative"]


class BackendError(Exception):
    """A domain error from the backend, returned to the model as data."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Schedule(BaseModel):
    """A habit schedule in the public API's shape."""

    model_config = _FROZEN
    type: Literal["interval", "weekdays"] = "interval"
    every: int = 1
    unit: Literal["day", "week", "month", "year"] = "day"
    times: int = 1
    days: tuple[str, ...] = ()


class NewHabit(BaseModel):
    model_config = _FROZEN
    title: str
    kind: HabitKind = "boolean"
    unit: str | None = None
    target: float | None = None
    schedule: Schedule = Schedule()
    time_of_day: str | None = None


class Habit(NewHabit):
    id: str
    sub_habits: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    created_on: date


class HabitLog(BaseModel):
    model_config = _FROZEN
    habit_id: str
    day: date
    value: float | None = None


class HabitMetrics(BaseModel):
    model_config = _FROZEN
    habit_id: str
    title: str
    period_days: int
    # None where the source reports rates rather than counts (the metrics service).
    completed_days: int | None
    completion_rate: float
    current_streak: int
    best_streak: int
    streak_unit: str = "day"
    strength: float | None = None


class Prediction(BaseModel):
    model_config = _FROZEN
    probability: float
    factors: tuple[str, ...]
    recommendation: str


class TimeSuggestion(BaseModel):
    model_config = _FROZEN
    time_of_day: str
    reason: str
    alternatives: tuple[str, ...] = ()


class Reminder(BaseModel):
    """A reminder as the gateway shows it (``GET /v1/reminders/{id}``), in the agent's terms."""

    model_config = _FROZEN
    id: str
    habit_id: str | None
    time: str
    weekdays: tuple[str, ...] = ()
    message: str | None = None
    enabled: bool = True
    next_fire_at: str | None = None


class Proposal(BaseModel):
    """A destructive action waiting for the user's yes (``GET /v1/confirmations/{id}``)."""

    model_config = _FROZEN
    id: str
    action: Literal["archive_habit", "delete_reminders"]
    habit_id: str | None
    summary: str
    expires_at: str


class KnowledgeHit(BaseModel):
    model_config = _FROZEN
    id: str
    title: str
    source: str
    snippet: str
    score: float


class HabitBackend(Protocol):
    """The operations the agent's tools use, scoped to ``user_id``."""

    async def list_habits(self, user_id: str) -> list[Habit]: ...

    async def get_chronotype(self, user_id: str) -> str | None: ...

    async def create_habit(
        self, user_id: str, habit: NewHabit, today: date, description: str | None = None
    ) -> Habit: ...

    async def log_habit(
        self, user_id: str, habit_id: str, day: date, value: float | None
    ) -> HabitLog: ...

    async def add_sub_habits(self, user_id: str, habit_id: str, titles: Sequence[str]) -> Habit: ...

    async def assign_tags(self, user_id: str, habit_id: str, tags: Sequence[str]) -> Habit: ...

    async def get_metrics(
        self, user_id: str, habit_ids: Sequence[str], period_days: int, today: date
    ) -> list[HabitMetrics]: ...

    async def get_history(
        self, user_id: str, habit_id: str, period: ChartPeriod, today: date
    ) -> HistoryOut: ...

    async def get_integration_data(
        self,
        user_id: str,
        data_type: str,
        days: int,
        today: date,
        integration: str | None = None,
        workout_type: str | None = None,
    ) -> DataOut: ...

    async def predict_success(
        self, user_id: str, title: str, per_week: int, minutes: int, time_of_day: str | None
    ) -> Prediction: ...

    async def optimal_time(
        self, user_id: str, habit_type: str, minutes: int, flexibility: str
    ) -> TimeSuggestion: ...

    async def search_knowledge(self, query: str, limit: int) -> list[KnowledgeHit]: ...

    async def set_reminder(
        self, user_id: str, habit_id: str | None, at: str, message: str | None, replace: bool
    ) -> tuple[Reminder, bool]: ...

    async def propose(
        self,
        user_id: str,
        action: Literal["archive_habit", "delete_reminders"],
        habit_id: str | None,
    ) -> Proposal:
        """Ask the user to confirm a destructive action; nothing changes until they accept."""
        ...


# A small, fixed habit-science corpus: enough for the offline planner to cite real sources.
_CORPUS: tuple[KnowledgeHit, ...] = (
    KnowledgeHit(
        id="lally-2010",
        title="How are habits formed",
        source="Lally et al., European Journal of Social Psychology (2010)",
        snippet="Automaticity took 18 to 254 days to plateau, 66 days on median; missing a "
        "single day did not derail habit formation.",
        score=0.0,
    ),
    KnowledgeHit(
        id="clear-two-minute",
        title="The two-minute rule",
        source="James Clear, Atomic Habits (2018)",
        snippet="Scale a new habit down until it takes two minutes or less; master showing up "
        "before optimising the habit. Never miss twice.",
        score=0.0,
    ),
    KnowledgeHit(
        id="fogg-tiny",
        title="Tiny habits and anchors",
        source="BJ Fogg, Tiny Habits (2019)",
        snippet="Anchor a tiny behaviour to an existing routine (after I ..., I will ...) and "
        "celebrate right away; motivation is unreliable, so make the habit easy.",
        score=0.0,
    ),
    KnowledgeHit(
        id="gollwitzer-1999",
        title="Implementation intentions",
        source="Gollwitzer, American Psychologist (1999)",
        snippet="If-then plans that name when and where you will act roughly double follow-"
        "through compared with goal intentions alone.",
        score=0.0,
    ),
    KnowledgeHit(
        id="chronotype",
        title="Chronotype and performance timing",
        source="Facer-Childs et al., Sleep Medicine (2018)",
        snippet="Morning and evening types perform best at different times of day; schedule "
        "demanding habits at your personal peak.",
        score=0.0,
    ),
    KnowledgeHit(
        id="self-compassion",
        title="Self-compassion after setbacks",
        source="Breines & Chen, Personality and Social Psychology Bulletin (2012)",
        snippet="Self-compassion after a failure increases motivation to improve, while "
        "self-criticism lowers it; treat a missed day as data, not a verdict.",
        score=0.0,
    ),
    KnowledgeHit(
        id="exercise-consistency",
        title="Exercise timing and consistency",
        source="Schumacher et al., Journal of Health Psychology (2019)",
        snippet="People who exercise at a consistent time of day build the habit faster and "
        "exercise more often.",
        score=0.0,
    ),
)


def _tokens(text: str) -> set[str]:
    return {w[:6] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def _period_streaks(days: set[date], start: date, today: date) -> tuple[int, int]:
    best = run = 0
    day = start
    while day <= today:
        run = run + 1 if day in days else 0
        best = max(best, run)
        day += timedelta(days=1)
    current = 0
    day = today if today in days else today - timedelta(days=1)
    while day in days:
        current += 1
        day -= timedelta(days=1)
    return current, best


def _daily_history(habit: Habit, logged: set[date], period: ChartPeriod, today: date) -> HistoryOut:
    """A daily habit's history from its logged days, shaped as the metrics service shapes it."""
    span, window, granularity = PERIODS[period]
    first = min([habit.created_on, *logged])
    start = max(today - timedelta(days=span - 1), first)
    days: list[HistoryDay] = []
    streaks: list[HistoryStreak] = []
    periods: dict[str, int] = {}
    run_start: date | None = None
    day = start
    while day <= today:
        done = day in logged
        status = "completed" if done else "pending" if day == today else "missed"
        recent = [day - timedelta(days=k) for k in range(window)]
        counted = [d for d in recent if d >= first and (d in logged or d != day)]
        rate = sum(d in logged for d in counted) / len(counted) if counted else None
        days.append(HistoryDay(date=day, status=status, value=None, rate=rate, strength=0.0))
        iso = day.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}" if granularity == "week" else f"{day:%Y-%m}"
        periods[label] = periods.get(label, 0) + done
        if done and run_start is None:
            run_start = day
        if run_start is not None and (status == "missed" or day == today):
            end = day if done else day - timedelta(days=1)
            streaks.append(
                HistoryStreak(start=run_start, end=end, length=(end - run_start).days + 1)
            )
            run_start = None
        day += timedelta(days=1)
    return HistoryOut(
        habit_id=uuid.uuid5(uuid.NAMESPACE_URL, habit.id),
        title=habit.title,
        kind="boolean",
        target=None,
        start=start,
        end=today,
        window=window,
        granularity=granularity,
        streak_unit="day",
        days=days,
        streaks=streaks,
        periods=[HistoryPeriod(period=k, completed=v, total=None) for k, v in periods.items()],
    )


@dataclass
class _UserState:
    habits: dict[str, Habit] = field(default_factory=dict)
    logs: list[HabitLog] = field(default_factory=list)
    chronotype: str | None = None
    # (data_type, key) -> date -> value: imported health data, for tests.
    health: dict[tuple[str, str], dict[date, float]] = field(default_factory=dict)
    reminders: dict[str, Reminder] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)


@dataclass
class InMemoryBackend:
    """A deterministic backend kept in dicts; ids are ``h1``, ``h2``… in creation order."""

    users: dict[str, _UserState] = field(default_factory=dict)
    _next_id: int = 1

    def _user(self, user_id: str) -> _UserState:
        return self.users.setdefault(user_id, _UserState())

    def seed(
        self,
        user_id: str,
        habits: Sequence[NewHabit],
        today: date,
        chronotype: str | None = None,
    ) -> list[Habit]:
        """Give a user habits and a chronotype (the evaluation's ``setup``)."""
        state = self._user(user_id)
        state.chronotype = chronotype
        return [self._create(state, h, today) for h in habits]

    def _create(self, state: _UserState, habit: NewHabit, today: date) -> Habit:
        created = Habit(**habit.model_dump(), id=f"h{self._next_id}", created_on=today)
        self._next_id += 1
        state.habits[created.id] = created
        return created

    def _habit(self, user_id: str, habit_id: str) -> Habit:
        habit = self._user(user_id).habits.get(habit_id)
        if habit is None:
            raise BackendError("habit_not_found", f"no habit {habit_id!r} for this user")
        return habit

    async def list_habits(self, user_id: str) -> list[Habit]:
        return list(self._user(user_id).habits.values())

    async def get_chronotype(self, user_id: str) -> str | None:
        return self._user(user_id).chronotype

    async def create_habit(
        self, user_id: str, habit: NewHabit, today: date, description: str | None = None
    ) -> Habit:
        state = self._user(user_id)
        if any(h.title.lower() == habit.title.lower() for h in state.habits.values()):
            raise BackendError("habit_exists", f"a habit called {habit.title!r} already exists")
        return self._create(state, habit, today)

    async def log_habit(
        self, user_id: str, habit_id: str, day: date, value: float | None
    ) -> HabitLog:
        habit = self._habit(user_id, habit_id)
        if habit.kind != "boolean" and value is None:
            raise BackendError("value_required", f"{habit.title!r} needs a value to log")
        log = HabitLog(habit_id=habit_id, day=day, value=value)
        logs = self._user(user_id).logs
        logs[:] = [x for x in logs if (x.habit_id, x.day) != (habit_id, day)] + [log]
        return log

    async def add_sub_habits(self, user_id: str, habit_id: str, titles: Sequence[str]) -> Habit:
        habit = self._habit(user_id, habit_id)
        merged = tuple(dict.fromkeys([*habit.sub_habits, *titles]))
        updated = habit.model_copy(update={"sub_habits": merged})
        self._user(user_id).habits[habit_id] = updated
        return updated

    async def assign_tags(self, user_id: str, habit_id: str, tags: Sequence[str]) -> Habit:
        habit = self._habit(user_id, habit_id)
        merged = tuple(dict.fromkeys([*habit.tags, *(t.lower() for t in tags)]))
        updated = habit.model_copy(update={"tags": merged})
        self._user(user_id).habits[habit_id] = updated
        return updated

    async def get_metrics(
        self, user_id: str, habit_ids: Sequence[str], period_days: int, today: date
    ) -> list[HabitMetrics]:
        state = self._user(user_id)
        ids = list(habit_ids) or list(state.habits)
        start = today - timedelta(days=period_days - 1)
        out = []
        for habit_id in ids:
            habit = self._habit(user_id, habit_id)
            days = {x.day for x in state.logs if x.habit_id == habit_id and start <= x.day <= today}
            current, best = _period_streaks(days, start, today)
            out.append(
                HabitMetrics(
                    habit_id=habit_id,
                    title=habit.title,
                    period_days=period_days,
                    completed_days=len(days),
                    completion_rate=round(len(days) / period_days, 3),
                    current_streak=current,
                    best_streak=best,
                )
            )
        return out

    async def get_history(
        self, user_id: str, habit_id: str, period: ChartPeriod, today: date
    ) -> HistoryOut:
        habit = self._habit(user_id, habit_id)
        logged = {x.day for x in self._user(user_id).logs if x.habit_id == habit_id}
        return _daily_history(habit, {d for d in logged if d <= today}, period, today)

    async def get_integration_data(
        self,
        user_id: str,
        data_type: str,
        days: int,
        today: date,
        integration: str | None = None,
        workout_type: str | None = None,
    ) -> DataOut:
        start = today - timedelta(days=days - 1)
        series = self._user(user_id).health.get((data_type, workout_type or ""), {})
        values = {d: v for d, v in series.items() if start <= d <= today}
        best = max(values, key=lambda d: (values[d], d)) if values else None
        total = sum(values.values())
        return DataOut.model_validate(
            {
                "data_type": data_type,
                "integration": integration,
                "workout_type": workout_type,
                "unit": "min" if data_type != "steps" else "steps",
                "start": start,
                "end": today,
                "days": [{"date": d, "value": values[d], "count": 0} for d in sorted(values)],
                "summary": SummaryOut(
                    days_with_data=len(values),
                    total=total,
                    average=round(total / len(values), 2) if values else None,
                    minimum=min(values.values()) if values else None,
                    maximum=values[best] if best else None,
                    best_day=best,
                ),
                "habits": [],
            }
        )

    async def predict_success(
        self, user_id: str, title: str, per_week: int, minutes: int, time_of_day: str | None
    ) -> Prediction:
        load = len(self._user(user_id).habits)
        probability = 0.85 - 0.05 * max(0, per_week - 3) - 0.004 * max(0, minutes - 10)
        probability -= 0.03 * max(0, load - 3)
        probability += 0.05 if time_of_day else 0.0
        factors = [f"{per_week} sessions a week", f"{minutes} minutes each"]
        if time_of_day:
            factors.append(f"a fixed time ({time_of_day})")
        if load > 3:
            factors.append(f"{load} habits already in progress")
        probability = round(min(0.95, max(0.1, probability)), 2)
        advice = (
            "Looks sustainable; anchor it to an existing routine."
            if probability >= 0.6
            else f"Start with {max(1, per_week - 2)} sessions a week and add one when it sticks."
        )
        return Prediction(probability=probability, factors=tuple(factors), recommendation=advice)

    async def optimal_time(
        self, user_id: str, habit_type: str, minutes: int, flexibility: str
    ) -> TimeSuggestion:
        chronotype = self._user(user_id).chronotype
        kind = habit_type.lower()
        if re.search(r"meditat|journal|stretch|plan", kind):
            slot, why = ("07:00", "calm start before the day fills up")
            if chronotype == "evening":
                slot, why = ("21:30", "a wind-down slot suits an evening person")
        elif re.search(r"run|workout|exercis|gym|walk|train", kind):
            slot, why = ("07:00", "morning people exercise most consistently early")
            if chronotype != "morning":
                slot, why = ("18:00", "late afternoon is when strength and endurance peak")
        elif re.search(r"read|study|learn|language|practi", kind):
            slot, why = ("08:00", "focus is highest early for morning people")
            if chronotype != "morning":
                slot, why = ("20:30", "an evening slot before bed is easy to keep")
        else:
            slot, why = ("08:00" if chronotype == "morning" else "19:00", "fits your chronotype")
        alternatives = ("12:30", "19:30") if flexibility != "low" else ()
        return TimeSuggestion(
            time_of_day=slot, reason=f"{why}; {minutes} minutes fit", alternatives=alternatives
        )

    async def search_knowledge(self, query: str, limit: int) -> list[KnowledgeHit]:
        words = _tokens(query)
        scored = []
        for hit in _CORPUS:
            overlap = len(words & _tokens(f"{hit.title} {hit.snippet}"))
            if overlap:
                scored.append(hit.model_copy(update={"score": round(overlap / len(words), 3)}))
        scored.sort(key=lambda h: (-h.score, h.id))
        return scored[:limit]

    async def set_reminder(
        self, user_id: str, habit_id: str | None, at: str, message: str | None, replace: bool
    ) -> tuple[Reminder, bool]:
        state = self._user(user_id)
        if habit_id is not None:
            self._habit(user_id, habit_id)
        mine = [r for r in state.reminders.values() if r.habit_id == habit_id]
        same = next((r for r in mine if r.time == at), None)
        target = same or (mine[0] if mine and replace else None)
        if target is not None:
            moved = target.model_copy(update={"time": at, "message": message or target.message})
            state.reminders[moved.id] = moved
            return moved, False
        created = Reminder(
            id=f"r{len(state.reminders) + 1}", habit_id=habit_id, time=at, message=message
        )
        state.reminders[created.id] = created
        return created, True

    async def propose(
        self,
        user_id: str,
        action: Literal["archive_habit", "delete_reminders"],
        habit_id: str | None,
    ) -> Proposal:
        state = self._user(user_id)
        title = self._habit(user_id, habit_id).title if habit_id is not None else "check-ins"
        if action == "delete_reminders" and not any(
            r.habit_id == habit_id for r in state.reminders.values()
        ):
            raise BackendError("not_found", f"There is no reminder for {title} to stop.")
        verb = "Archive the habit" if action == "archive_habit" else "Delete the reminders of"
        proposal = Proposal(
            id=f"c{len(state.proposals) + 1}",
            action=action,
            habit_id=habit_id,
            summary=f'{verb} "{title}".',
            expires_at="2100-01-01T00:00:00+00:00",
        )
        state.proposals.append(proposal)
        return proposal
