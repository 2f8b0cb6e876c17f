import math
from datetime import date, time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from services.learning.features import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    NEUTRAL_RATE,
    HabitProfile,
    UserHistory,
    build_features,
    summerness,
)

WEDNESDAY = date(2025, 7, 16)
SATURDAY = date(2025, 7, 19)


def vec(
    profile: HabitProfile | None = None, history: UserHistory | None = None, on: date = WEDNESDAY
) -> dict[str, float]:
    profile = profile or HabitProfile(difficulty=0.5, duration_minutes=10, times_per_week=7)
    history = history or UserHistory(user_id="u1")
    values = build_features(profile, history, on)
    return {name: float(values[i]) for i, name in enumerate(FEATURE_NAMES)}


def test_every_feature_is_named_once_and_has_a_usable_prior():
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == len(FEATURES)
    assert all(f.prior_std > 0 for f in FEATURES)
    values = build_features(
        HabitProfile(difficulty=0.3, duration_minutes=5, times_per_week=3),
        UserHistory("u"),
        WEDNESDAY,
    )
    assert values.shape == (len(FEATURE_NAMES),)


def test_minutes_are_log_scaled():
    def minutes(m: float) -> float:
        return vec(HabitProfile(0.5, m, 7))["log_minutes"]

    assert minutes(10) - minutes(2) > 3 * (minutes(58) - minutes(50))


def test_time_of_day_lies_on_a_circle():
    def hour(t: time) -> np.ndarray:
        v = vec(HabitProfile(0.5, 10, 7, scheduled_time=t))
        return np.array([v["hour_sin"], v["hour_cos"]])

    near = np.linalg.norm(hour(time(23, 30)) - hour(time(0, 30)))
    far = np.linalg.norm(hour(time(23, 30)) - hour(time(12, 0)))
    assert near < 0.3 < far


def test_chronotype_fit_rewards_matching_times_and_is_silent_without_evidence():
    def fit(t: time | None, chrono) -> float:
        return vec(HabitProfile(0.5, 10, 7, scheduled_time=t), UserHistory("u", chronotype=chrono))[
            "chronotype_fit"
        ]

    assert fit(time(7, 0), "morning") > 0.9
    assert fit(time(20, 0), "morning") < -0.5
    assert fit(time(19, 0), "evening") > 0.9
    assert fit(time(7, 0), "evening") < -0.5
    assert fit(time(7, 0), None) == 0.0
    assert fit(time(7, 0), "neutral") == 0.0
    assert fit(None, "morning") == 0.0


def test_anytime_habits_have_no_hour():
    v = vec(HabitProfile(0.5, 10, 7, scheduled_time=None))
    assert v["hour_sin"] == v["hour_cos"] == 0.0


def test_missing_rates_are_neutral_and_flagged():
    new = vec(history=UserHistory("u"))
    assert new["past_completion_rate"] == NEUTRAL_RATE
    assert new["similar_habit_rate"] == NEUTRAL_RATE
    assert new["no_history"] == 1.0
    known = vec(history=UserHistory("u", completion_rate=0.9))
    assert known["past_completion_rate"] == 0.9
    assert known["similar_habit_rate"] == 0.9  # falls back to the overall record
    assert known["no_history"] == 0.0
    both = vec(history=UserHistory("u", completion_rate=0.9, similar_habit_rate=0.2))
    assert both["similar_habit_rate"] == 0.2


def test_streak_is_log_scaled():
    assert vec(history=UserHistory("u", current_streak=0))["log_streak"] == 0.0
    assert math.isclose(
        vec(history=UserHistory("u", current_streak=20))["log_streak"], math.log1p(20)
    )


def test_weekend_and_season():
    assert vec(on=SATURDAY)["weekend"] == 1.0
    assert vec(on=WEDNESDAY)["weekend"] == 0.0
    assert summerness(date(2025, 7, 15)) > 0.99
    assert summerness(date(2025, 1, 13)) < -0.99
    assert summerness(date(2025, 1, 13), southern_hemisphere=True) > 0.99


def test_cold_season_only_matters_outdoors():
    winter = date(2025, 1, 13)
    outside = vec(HabitProfile(0.5, 30, 3, outdoor=True), on=winter)
    inside = vec(HabitProfile(0.5, 30, 3, outdoor=False), on=winter)
    summer_outside = vec(HabitProfile(0.5, 30, 3, outdoor=True), on=date(2025, 7, 15))
    assert outside["outdoor_cold_season"] > 0.99
    assert inside["outdoor_cold_season"] == 0.0
    assert summer_outside["outdoor_cold_season"] == 0.0


def test_inputs_out_of_range_are_clamped():
    v = vec(
        HabitProfile(difficulty=3.0, duration_minutes=-5, times_per_week=40),
        UserHistory("u", completion_rate=1.7, social_support=-1.0, current_streak=-3),
    )
    assert v["difficulty"] == 1.0
    assert v["log_minutes"] == 0.0
    assert v["times_per_week"] == 14.0
    assert v["past_completion_rate"] == 1.0
    assert v["social_support"] == 0.0
    assert v["log_streak"] == 0.0
    assert set(FEATURE_INDEX) == set(v)


@given(
    difficulty=st.floats(-10, 10),
    minutes=st.floats(0, 10_000),
    per_week=st.floats(0, 100),
    hour=st.integers(0, 23),
    rate=st.none() | st.floats(0, 1),
    streak=st.integers(0, 10_000),
    on=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    chrono=st.sampled_from([None, "morning", "evening", "neutral"]),
)
def test_features_are_always_finite(difficulty, minutes, per_week, hour, rate, streak, on, chrono):
    values = build_features(
        HabitProfile(difficulty, minutes, per_week, scheduled_time=time(hour), outdoor=True),
        UserHistory("u", completion_rate=rate, current_streak=streak, chronotype=chrono),
        on,
    )
    assert np.isfinite(values).all()
