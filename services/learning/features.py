"""The feature vector of the success-prediction model, built from plain habit and user facts.

The spec's ``SuccessPredictionModel`` looks at the habit (difficulty, minutes, times per week,
time of day), the person (past completion rate, performance on similar habits, current streak,
social support) and the surroundings (day of week, season, whether it needs the outdoors). This
module turns those facts into numbers a logistic model can weigh, and names every number so a
prediction can be explained in words.

Encoding choices, and why:

- Minutes and streak are log-scaled: going from 2 to 10 minutes changes a habit far more than
  going from 50 to 58, and a streak's motivational pull flattens the same way.
- Time of day is a point on a 24-hour circle (sine and cosine), so 23:30 sits next to 00:30, plus
  the fit between that hour and the user's chronotype, which a linear model could not derive
  from the circle alone because it is an interaction.
- Season is "summerness", +1 at the warmest point of the year and -1 at the coldest, flipped for
  the southern hemisphere; weather only matters for habits done outdoors, hence the separate
  outdoor-in-the-cold-season term.
- A missing rate (a new user, no similar habit yet) is filled with a neutral value and flagged by
  ``no_history``, so "we do not know" is not mistaken for "average".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, time

import numpy as np
import numpy.typing as npt

from services.learning.rhythm import Chronotype, energy_fit

NEUTRAL_RATE = 0.6
"""The rate assumed when a user has no history: roughly what new habits achieve in their first
month across habit-tracking studies, so a missing value sits near the population's middle."""


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One entry of the feature vector.

    Attributes:
        name: The stable key, used in persisted model state.
        factor: The explanation group it is reported under (sine and cosine of the hour both
            belong to ``time_of_day``).
        label: How the factor reads in a sentence.
        prior_mean: The value a typical habit has, used before the model has seen any data.
        prior_std: The typical spread of the value, used the same way.
        prior_weight: The effect (log-odds per standard deviation) that habit research leads us
            to expect, so a model with no data still leans the right way.
    """

    name: str
    factor: str
    label: str
    prior_mean: float
    prior_std: float
    prior_weight: float


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("difficulty", "difficulty", "how hard the habit feels", 0.5, 0.25, -0.2),
    FeatureSpec("log_minutes", "duration", "how long it takes", math.log1p(10.0), 1.0, -0.3),
    FeatureSpec("times_per_week", "frequency", "how many times a week", 5.0, 2.0, -0.1),
    FeatureSpec("hour_sin", "time_of_day", "the time of day it is scheduled", 0.0, 0.7, 0.0),
    FeatureSpec("hour_cos", "time_of_day", "the time of day it is scheduled", 0.0, 0.7, 0.0),
    FeatureSpec("chronotype_fit", "energy_fit", "how the time suits your energy", 0.0, 0.6, 0.2),
    FeatureSpec(
        "past_completion_rate", "track_record", "your recent completion rate", 0.6, 0.25, 0.4
    ),
    FeatureSpec(
        "similar_habit_rate", "similar_habits", "how similar habits went for you", 0.6, 0.25, 0.2
    ),
    FeatureSpec("log_streak", "streak", "your current streak", 1.5, 1.0, 0.2),
    FeatureSpec("weekend", "day_of_week", "the day of the week", 2.0 / 7.0, 0.45, -0.05),
    FeatureSpec("summerness", "season", "the season", 0.0, 0.7, 0.0),
    FeatureSpec("outdoor", "outdoor", "needing to be outdoors", 0.2, 0.4, -0.05),
    FeatureSpec(
        "outdoor_cold_season", "weather", "being outdoors in the cold season", 0.05, 0.2, -0.1
    ),
    FeatureSpec("social_support", "social_support", "support from other people", 0.5, 0.25, 0.15),
    FeatureSpec("no_history", "new_user", "having no track record yet", 0.2, 0.4, 0.0),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}

FeatureVector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HabitProfile:
    """What the model knows about a habit.

    Attributes:
        difficulty: How hard it is, 0 (trivial) to 1 (very hard); from the sequence generator or
            the user's own rating.
        duration_minutes: How long one session takes.
        times_per_week: Scheduled sessions per week (7 for a daily habit).
        scheduled_time: The local wall-clock time it is planned for; ``None`` for "any time".
        category: The habit type (``exercise``, ``meditation``, ``reading``…), used to find
            similar habits and default times.
        outdoor: Whether it needs the outdoors (a run, a walk), so weather matters.
        has_stack_trigger: Whether it is anchored to an existing routine ("after coffee").
        habit_id: The habit's id, when it exists already.
    """

    difficulty: float
    duration_minutes: float
    times_per_week: float
    scheduled_time: time | None = None
    category: str = "general"
    outdoor: bool = False
    has_stack_trigger: bool = False
    habit_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserHistory:
    """What the model knows about the person, as of the day being predicted.

    Attributes:
        user_id: Whose history this is; keys the per-user part of the model.
        completion_rate: The user's completion rate over recent weeks across habits, or ``None``
            when there is nothing to go on.
        similar_habit_rate: The user's completion rate on habits of the same category, or
            ``None``.
        current_streak: The habit's current streak, in periods.
        social_support: How much accountability the user has, 0 (none) to 1 (a partner, a group).
        chronotype: Morning or evening person, when known.
        southern_hemisphere: Flips the seasons.
    """

    user_id: str
    completion_rate: float | None = None
    similar_habit_rate: float | None = None
    current_streak: int = 0
    social_support: float = 0.0
    chronotype: Chronotype | None = None
    southern_hemisphere: bool = False


def summerness(on: date, southern_hemisphere: bool = False) -> float:
    """Return +1 at the warm peak of the year (mid-July in the north) and -1 at the cold one."""
    # Day 196 is about 15 July, near the northern hemisphere's average temperature maximum.
    value = math.cos(2.0 * math.pi * (on.timetuple().tm_yday - 196) / 365.25)
    return -value if southern_hemisphere else value


def build_features(profile: HabitProfile, history: UserHistory, on: date) -> FeatureVector:
    """Turn a habit, a user and a day into the model's feature vector.

    Args:
        profile: The habit.
        history: The user, as of ``on``.
        on: The local calendar day the prediction is for.

    Returns:
        A vector ordered as ``FEATURE_NAMES``.
    """
    minute: float | None = None
    if profile.scheduled_time is not None:
        minute = profile.scheduled_time.hour * 60 + profile.scheduled_time.minute
    angle = 2.0 * math.pi * minute / 1440.0 if minute is not None else None
    past = history.completion_rate
    similar = history.similar_habit_rate
    if similar is None:
        # Without a similar habit, the user's overall record is the best guess of how one would go.
        similar = past
    season = summerness(on, history.southern_hemisphere)
    outdoor = 1.0 if profile.outdoor else 0.0
    values = (
        _clamp(profile.difficulty, 0.0, 1.0),
        math.log1p(max(profile.duration_minutes, 0.0)),
        _clamp(profile.times_per_week, 0.0, 14.0),
        math.sin(angle) if angle is not None else 0.0,
        math.cos(angle) if angle is not None else 0.0,
        energy_fit(minute, history.chronotype) if minute is not None else 0.0,
        _clamp(past, 0.0, 1.0) if past is not None else NEUTRAL_RATE,
        _clamp(similar, 0.0, 1.0) if similar is not None else NEUTRAL_RATE,
        math.log1p(max(history.current_streak, 0)),
        1.0 if on.weekday() >= 5 else 0.0,
        season,
        outdoor,
        outdoor * max(0.0, -season),
        _clamp(history.social_support, 0.0, 1.0),
        1.0 if past is None else 0.0,
    )
    return np.array(values, dtype=np.float64)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
