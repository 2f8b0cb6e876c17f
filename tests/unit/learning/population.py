"""A simulated population of habit builders with known ground truth, for tests and benches.

Everything is drawn from one seeded generator, so the same arguments give the same population.
The rules below are the "truth" the learning service has to discover; they are deliberately not
the model's own form (step functions where the model uses cosines, momentum the model only sees
through the streak), so a good score means the model generalises rather than matches itself.

Ground truth for one scheduled habit-day, in log-odds::

    1.0 + trait(user)                        people differ: N(0, 0.8)
      - 0.7 * (log1p(minutes) - log1p(10))   long habits are dropped
      - 1.0 * (difficulty - 0.5)
      - 0.12 * (times_per_week - 5)
      + 0.7 if the hour suits the chronotype, - 0.7 if it fights it
      + 1.2 * (social_support - 0.5)
      - 0.35 on weekends
      - 0.8 * outdoor * cold                 cold = how far into the cold season the day is
      + 0.3 if anchored to a routine (stack trigger)
      + 0.25 * log1p(min(streak, 30))        momentum
      + habit quirk: N(0, 0.3)
      - 2.5 from the user's slip day on      only for the users made to slip

A slipping user's life changes on ``slip_day``: every habit of theirs drops from there on.
About 2 % of scheduled days are skipped (excused) instead of done or missed.

Usage::

    pop = simulate_population(n_users=600, n_days=90, seed=7)
    for day in pop.days: ...
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from services.learning.features import HabitProfile, UserHistory, summerness
from services.learning.rhythm import Chronotype

START = date(2025, 10, 6)  # a Monday in autumn, so the run walks into the northern winter
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
CATEGORIES = ("exercise", "meditation", "reading", "journaling", "learning")
MINUTES = (2, 5, 10, 15, 20, 30, 45, 60)
SLIP_DROP = 2.5

Status = Literal["done", "missed", "skipped"]


@dataclass(frozen=True, slots=True)
class SimHabit:
    habit_id: str
    category: str
    minutes: int
    difficulty: float
    weekdays: frozenset[int]
    scheduled_time: time
    outdoor: bool
    has_stack_trigger: bool
    quirk: float

    @property
    def times_per_week(self) -> int:
        return len(self.weekdays)

    def profile(self) -> HabitProfile:
        return HabitProfile(
            difficulty=self.difficulty,
            duration_minutes=float(self.minutes),
            times_per_week=float(self.times_per_week),
            scheduled_time=self.scheduled_time,
            category=self.category,
            outdoor=self.outdoor,
            has_stack_trigger=self.has_stack_trigger,
            habit_id=self.habit_id,
        )


@dataclass(frozen=True, slots=True)
class SimUser:
    user_id: str
    trait: float
    chronotype: Chronotype
    social_support: float
    zone: str
    similar_habit_rate: float | None
    slip_day: int | None
    habits: tuple[SimHabit, ...]

    @property
    def slips(self) -> bool:
        return self.slip_day is not None


@dataclass(frozen=True, slots=True)
class SimDay:
    """One scheduled habit-day: the inputs a model would have had, and what happened."""

    user_index: int
    habit_index: int
    day_index: int
    on: date
    status: Status
    completed_at: datetime | None
    true_probability: float
    profile: HabitProfile
    history: UserHistory

    @property
    def done(self) -> bool:
        return self.status == "done"


@dataclass(slots=True)
class Population:
    users: tuple[SimUser, ...]
    n_days: int
    start: date
    days: list[SimDay] = field(default_factory=list)

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def habit_days(self) -> dict[tuple[int, int], list[SimDay]]:
        """Each (user, habit)'s scheduled days, oldest first."""
        out: dict[tuple[int, int], list[SimDay]] = {}
        for d in self.days:
            out.setdefault((d.user_index, d.habit_index), []).append(d)
        return out


def _hour_fit(hour: int, chronotype: Chronotype) -> float:
    if chronotype == "morning":
        return 1.0 if 5 <= hour < 10 else (-1.0 if hour >= 19 else 0.0)
    if chronotype == "evening":
        return 1.0 if 17 <= hour < 23 else (-1.0 if hour < 10 else 0.0)
    return 0.0


def _pick_hour(rng: np.random.Generator, chronotype: Chronotype) -> int:
    # Most people plan habits at times that suit them, but a good share do not.
    if rng.random() < 0.55:
        good = {"morning": (5, 10), "evening": (17, 23), "neutral": (8, 20)}[chronotype]
        return int(rng.integers(good[0], good[1]))
    return int(rng.integers(6, 23))


def _make_habit(rng: np.random.Generator, user_id: str, k: int, chrono: Chronotype) -> SimHabit:
    category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
    per_week = int(rng.choice([3, 5, 7, 7, 7]))
    weekdays = frozenset(int(d) for d in rng.choice(7, size=per_week, replace=False))
    return SimHabit(
        habit_id=f"{user_id}-h{k}",
        category=category,
        minutes=int(rng.choice(MINUTES)),
        difficulty=float(np.round(rng.uniform(0.1, 0.9), 2)),
        weekdays=weekdays,
        scheduled_time=time(_pick_hour(rng, chrono), int(rng.choice([0, 15, 30, 45]))),
        outdoor=category == "exercise" and rng.random() < 0.6,
        has_stack_trigger=bool(rng.random() < 0.4),
        quirk=float(rng.normal(0.0, 0.3)),
    )


def _make_user(rng: np.random.Generator, index: int, n_days: int, slip_share: float) -> SimUser:
    user_id = f"u{index:05d}"
    trait = float(rng.normal(0.0, 0.8))
    chronotype: Chronotype = ("morning", "evening", "neutral")[
        int(rng.choice(3, p=[0.4, 0.35, 0.25]))
    ]
    similar = None
    if rng.random() < 0.6:
        similar = 1.0 / (1.0 + math.exp(-(1.0 + trait + float(rng.normal(0.0, 0.5)))))
    slip_day = None
    if rng.random() < slip_share:
        slip_day = int(rng.integers(int(n_days * 0.5), int(n_days * 0.85)))
    n_habits = int(rng.choice([1, 2, 2, 3]))
    return SimUser(
        user_id=user_id,
        trait=trait,
        chronotype=chronotype,
        social_support=float(rng.beta(2.0, 2.0)),
        zone=ZONES[int(rng.integers(len(ZONES)))],
        similar_habit_rate=similar,
        slip_day=slip_day,
        habits=tuple(_make_habit(rng, user_id, k, chronotype) for k in range(n_habits)),
    )


def true_logit(
    user: SimUser,
    habit: SimHabit,
    on: date,
    day_index: int,
    streak: int,
    slip_drop: float = SLIP_DROP,
) -> float:
    """The ground-truth log-odds that ``user`` does ``habit`` on ``on``."""
    cold = max(0.0, -summerness(on, user.zone.startswith("Australia/")))
    value = (
        1.0
        + user.trait
        - 0.7 * (math.log1p(habit.minutes) - math.log1p(10))
        - 1.0 * (habit.difficulty - 0.5)
        - 0.12 * (habit.times_per_week - 5)
        + 0.7 * _hour_fit(habit.scheduled_time.hour, user.chronotype)
        + 1.2 * (user.social_support - 0.5)
        - (0.35 if on.weekday() >= 5 else 0.0)
        - (0.8 * cold if habit.outdoor else 0.0)
        + (0.3 if habit.has_stack_trigger else 0.0)
        + 0.25 * math.log1p(min(streak, 30))
        + habit.quirk
    )
    if user.slip_day is not None and day_index >= user.slip_day:
        value -= slip_drop
    return value


def simulate_population(
    n_users: int = 600,
    n_days: int = 90,
    seed: int = 20251006,
    slip_share: float = 0.2,
    slip_drop: float = SLIP_DROP,
) -> Population:
    """Simulate ``n_users`` people logging their habits for ``n_days`` days.

    Args:
        n_users: Population size.
        n_days: Days simulated from ``START``.
        seed: The generator's seed; the result depends on nothing else.
        slip_share: Share of users who slip partway through.
        slip_drop: How far a slip lowers the log-odds of every habit of the user.

    Returns:
        The users and every scheduled habit-day, ordered by day, then user, then habit.
    """
    rng = np.random.default_rng(seed)
    users = tuple(_make_user(rng, i, n_days, slip_share) for i in range(n_users))
    pop = Population(users=users, n_days=n_days, start=START)
    # What the metrics service would know: the last 28 days of each user's results, each habit's
    # current streak.
    recent: list[deque[tuple[int, bool]]] = [deque() for _ in users]
    streaks = [[0] * len(u.habits) for u in users]
    zones = [ZoneInfo(u.zone) for u in users]
    for day_index in range(n_days):
        on = START + timedelta(days=day_index)
        for ui, user in enumerate(users):
            window = recent[ui]
            while window and window[0][0] < day_index - 28:
                window.popleft()
            counted = len(window)
            rate = sum(done for _, done in window) / counted if counted >= 5 else None
            for hi, habit in enumerate(user.habits):
                if on.weekday() not in habit.weekdays:
                    continue
                history = UserHistory(
                    user_id=user.user_id,
                    completion_rate=rate,
                    similar_habit_rate=user.similar_habit_rate,
                    current_streak=streaks[ui][hi],
                    social_support=user.social_support,
                    chronotype=user.chronotype,
                    southern_hemisphere=user.zone.startswith("Australia/"),
                )
                logit = true_logit(user, habit, on, day_index, streaks[ui][hi], slip_drop)
                p = 1.0 / (1.0 + math.exp(-logit))
                draw = rng.random()
                status: Status
                completed_at = None
                if draw < 0.02:
                    status = "skipped"
                elif rng.random() < p:
                    status = "done"
                    planned = datetime.combine(on, habit.scheduled_time, tzinfo=zones[ui])
                    jitter = timedelta(minutes=float(rng.normal(0.0, 30.0)))
                    completed_at = (planned + jitter).astimezone(UTC)
                else:
                    status = "missed"
                if status != "skipped":
                    window.append((day_index, status == "done"))
                    streaks[ui][hi] = streaks[ui][hi] + 1 if status == "done" else 0
                pop.days.append(
                    SimDay(
                        user_index=ui,
                        habit_index=hi,
                        day_index=day_index,
                        on=on,
                        status=status,
                        completed_at=completed_at,
                        true_probability=p,
                        profile=habit.profile(),
                        history=history,
                    )
                )
    return pop


@lru_cache(maxsize=2)
def shared_population(n_users: int = 600, n_days: int = 90, seed: int = 20251006) -> Population:
    """The default population, built once per process (tests treat it as read-only)."""
    return simulate_population(n_users=n_users, n_days=n_days, seed=seed)
