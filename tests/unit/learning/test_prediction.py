import json
import math
from datetime import date, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.learning.features import FEATURE_INDEX, FEATURES, HabitProfile, UserHistory
from services.learning.prediction import (
    PERSONAL_FACTOR,
    Example,
    Factor,
    ModelConfig,
    SuccessPredictor,
    recommend,
)

DAY = date(2025, 3, 12)
EASY = HabitProfile(difficulty=0.1, duration_minutes=2, times_per_week=3, scheduled_time=time(7))
HARD = HabitProfile(difficulty=0.9, duration_minutes=60, times_per_week=7, scheduled_time=time(21))


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def offset(model: SuccessPredictor, user_id: str) -> float:
    state = model.user_state(user_id)
    assert state is not None
    return float(state["offset"])


def train_on_minutes(model: SuccessPredictor, n: int = 3000, seed: int = 1) -> None:
    """Synthetic world where long habits fail: p = sigmoid(2 - 1.5 * (log1p(min) - log1p(10)))."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        minutes = float(rng.choice([2, 5, 10, 20, 40, 60]))
        profile = HabitProfile(difficulty=0.5, duration_minutes=minutes, times_per_week=5)
        history = UserHistory(user_id=f"u{i % 50}", completion_rate=0.6)
        p = 1 / (1 + math.exp(-(1.0 - 1.5 * (math.log1p(minutes) - math.log1p(10)))))
        model.update(Example(profile, history, DAY + timedelta(days=i % 30)), rng.random() < p)


def test_a_fresh_model_already_leans_the_right_way():
    model = SuccessPredictor()
    user = UserHistory("new")
    easy, hard = model.predict(EASY, user, DAY), model.predict(HARD, user, DAY)
    assert 0 < hard.probability < easy.probability < 1
    assert model.examples_seen == 0


def test_factors_add_up_to_the_prediction():
    model = SuccessPredictor()
    train_on_minutes(model, n=500)
    history = UserHistory("u3", completion_rate=0.4, current_streak=2, chronotype="evening")
    explanation = model.explain(HARD, history, DAY)
    prediction = model.predict(HARD, history, DAY)
    assert math.isclose(explanation.logit, logit(prediction.probability), rel_tol=1e-9)
    names = [f.name for f in explanation.factors]
    assert len(names) == len(set(names))
    assert names[-1] == PERSONAL_FACTOR
    assert "time_of_day" in names and "hour_sin" not in names


def test_factors_are_ranked_and_signed():
    model = SuccessPredictor()
    train_on_minutes(model, n=500)
    p = model.predict(HARD, UserHistory("u1", completion_rate=0.9, social_support=0.9), DAY)
    risks = [f.contribution for f in p.top_risk_factors]
    wins = [f.contribution for f in p.top_success_factors]
    assert risks and all(c < 0 for c in risks) and risks == sorted(risks)
    assert wins and all(c > 0 for c in wins) and wins == sorted(wins, reverse=True)
    assert len(risks) <= 3 and len(wins) <= 3
    assert p.top_risk_factors[0].name == "duration"


def test_recommendations_follow_the_risks():
    model = SuccessPredictor()
    train_on_minutes(model, n=500)
    hard = model.predict(HARD, UserHistory("u1"), DAY)
    codes = [r.code for r in hard.recommendations]
    assert codes[0] == "start_smaller"
    assert "60 minutes" in hard.recommendations[0].message
    easy = model.predict(EASY, UserHistory("u1"), DAY)
    assert "start_smaller" not in [r.code for r in easy.recommendations]


def test_recommend_skips_changes_that_are_not_possible():
    risks = (
        Factor("duration", "how long it takes", -0.8),
        Factor("difficulty", "how hard", -0.5),
        Factor("weather", "cold", -0.3),
        Factor("energy_fit", "fit", -0.2),
    )
    tiny_indoor = HabitProfile(difficulty=0.1, duration_minutes=2, times_per_week=7)
    recs = recommend(risks, tiny_indoor, UserHistory("u", chronotype="morning"))
    assert [r.code for r in recs] == ["move_time"]
    assert "morning" in recs[0].message
    long_outdoor = HabitProfile(0.8, 45, 7, outdoor=True)
    codes = [r.code for r in recommend(risks, long_outdoor, UserHistory("u"))]
    assert codes == ["start_smaller", "make_easier", "indoor_backup", "move_time"]


def test_the_population_learns_the_effect_of_minutes():
    model = SuccessPredictor()
    prior = FEATURES[FEATURE_INDEX["log_minutes"]].prior_weight
    before = model.predict(HARD, UserHistory("x"), DAY).probability
    train_on_minutes(model)
    weight = model.to_state()["population"]["weights"]["log_minutes"]
    assert weight < prior - 0.3
    assert model.predict(HARD, UserHistory("x"), DAY).probability < before
    assert model.examples_seen == 3000


def test_users_get_their_own_adjustment_shrunk_towards_the_population():
    model = SuccessPredictor()
    profile = HabitProfile(difficulty=0.5, duration_minutes=10, times_per_week=7)
    steady, flaky = UserHistory("steady"), UserHistory("flaky")
    for i in range(60):
        on = DAY + timedelta(days=i)
        model.update(Example(profile, steady, on), True)
        model.update(Example(profile, flaky, on), i % 5 == 0)
    p_steady = model.probability(profile, steady, DAY)
    p_flaky = model.probability(profile, flaky, DAY)
    p_stranger = model.probability(profile, UserHistory("stranger"), DAY)
    assert p_flaky < p_stranger < p_steady
    offsets = {u: offset(model, u) for u in ("steady", "flaky")}
    assert offsets["steady"] > 0 > offsets["flaky"]
    assert model.user_state("stranger") is None

    # One outcome moves a new user far less than sixty do: the prior's pull fades with evidence.
    model.update(Example(profile, UserHistory("once"), DAY), True)
    assert 0 < offset(model, "once") < offsets["steady"] / 3


def test_confidence_grows_with_data():
    model = SuccessPredictor()
    assert model.confidence("anyone") == 0.0
    train_on_minutes(model, n=2000)
    stranger = model.confidence("stranger")
    regular = model.confidence("u1")  # forty examples of u1 in training
    assert 0 < stranger < regular < 1
    assert model.user_examples("u1") == 40
    assert model.predict(EASY, UserHistory("u1"), DAY).confidence == regular


def test_state_round_trips_through_json():
    model = SuccessPredictor()
    train_on_minutes(model, n=400)
    state = json.loads(json.dumps(model.to_state()))
    copy = SuccessPredictor.from_state(state)
    for user in ("u1", "u7", "nobody"):
        history = UserHistory(user, completion_rate=0.3, chronotype="morning")
        assert copy.predict(HARD, history, DAY) == model.predict(HARD, history, DAY)
    assert copy.examples_seen == model.examples_seen
    # Both keep learning identically.
    example = Example(EASY, UserHistory("u1"), DAY)
    model.update(example, False)
    copy.update(example, False)
    assert copy.to_state() == model.to_state()


def test_users_can_be_stored_apart_from_the_population():
    model = SuccessPredictor()
    train_on_minutes(model, n=300)
    population = json.loads(json.dumps(model.to_state(include_users=False)))
    assert "users" not in population
    copy = SuccessPredictor.from_state(population)
    copy.load_user("u2", json.loads(json.dumps(model.user_state("u2"))))
    history = UserHistory("u2")
    assert copy.probability(EASY, history, DAY) == model.probability(EASY, history, DAY)


def test_a_feature_missing_from_old_state_starts_at_its_prior():
    model = SuccessPredictor()
    train_on_minutes(model, n=300)
    state = model.to_state()
    del state["population"]["weights"]["weekend"]
    restored = SuccessPredictor.from_state(state)
    weights = restored.to_state()["population"]["weights"]
    assert weights["weekend"] == FEATURES[FEATURE_INDEX["weekend"]].prior_weight
    assert weights["log_minutes"] == state["population"]["weights"]["log_minutes"]


def test_unknown_state_version_is_refused():
    state = SuccessPredictor().to_state()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        SuccessPredictor.from_state(state)


def test_updating_one_user_leaves_other_users_alone():
    model = SuccessPredictor()
    model.update(Example(EASY, UserHistory("a"), DAY), True)
    before = model.user_state("a")
    model.update(Example(EASY, UserHistory("b"), DAY), False)
    assert model.user_state("a") == before


def test_small_factors_are_not_reported():
    model = SuccessPredictor(ModelConfig(min_effect=10.0))
    p = model.predict(HARD, UserHistory("u"), DAY)
    assert p.top_risk_factors == () and p.top_success_factors == () and p.recommendations == ()


@settings(max_examples=60, deadline=None)
@given(
    difficulty=st.floats(0, 1),
    minutes=st.floats(0, 600),
    per_week=st.floats(0, 14),
    hour=st.integers(0, 23),
    rate=st.none() | st.floats(0, 1),
    streak=st.integers(0, 1000),
    outcome=st.booleans(),
)
def test_probabilities_stay_valid_while_learning(
    difficulty, minutes, per_week, hour, rate, streak, outcome
):
    model = SuccessPredictor()
    profile = HabitProfile(difficulty, minutes, per_week, scheduled_time=time(hour), outdoor=True)
    history = UserHistory("u", completion_rate=rate, current_streak=streak)
    for _ in range(3):
        model.update(Example(profile, history, DAY), outcome)
    p = model.predict(profile, history, DAY)
    assert 0.0 < p.probability < 1.0
    assert 0.0 <= p.confidence <= 1.0
    assert math.isfinite(model.explain(profile, history, DAY).logit)
