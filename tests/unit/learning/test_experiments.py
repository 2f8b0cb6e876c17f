import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.learning.experiments import (
    BUCKETS,
    METHOD,
    Experiment,
    Variant,
    VariantCounts,
    assign,
    bucket,
    difference_interval,
    report,
    tally,
    wilson_interval,
)

TONE = Experiment("nudge_tone_v1", (Variant("control"), Variant("playful")), "habit_done_24h")
USERS = [f"user-{i}" for i in range(20_000)]


def test_assignment_is_deterministic():
    again = Experiment("nudge_tone_v1", (Variant("control"), Variant("playful")), "habit_done_24h")
    for user in USERS[:200]:
        assert assign(TONE, user) == assign(again, user) in ("control", "playful")


def test_equal_weights_split_evenly():
    counts = Counter(assign(TONE, u) for u in USERS)
    assert abs(counts["control"] / len(USERS) - 0.5) < 0.02


def test_weights_set_the_split():
    skewed = Experiment("onboarding", (Variant("a", 9), Variant("b", 1)), "retained_7d")
    counts = Counter(assign(skewed, u) for u in USERS)
    assert abs(counts["b"] / len(USERS) - 0.1) < 0.015


def test_experiments_split_users_independently():
    other = Experiment("timing_v2", (Variant("control"), Variant("later")), "habit_done_24h")
    pairs = Counter((assign(TONE, u), assign(other, u)) for u in USERS)
    for cell in pairs.values():
        assert abs(cell / len(USERS) - 0.25) < 0.02


@given(st.text(max_size=40), st.text(max_size=40))
def test_buckets_are_in_range(key, user):
    assert 0 <= bucket(key, user) < BUCKETS
    assert bucket(key, user) == bucket(key, user)


@pytest.mark.parametrize(
    "variants",
    [
        (Variant("only"),),
        (Variant("a"), Variant("a")),
        (Variant("a"), Variant("b", 0)),
        (Variant("a"), Variant("b", float("nan"))),
    ],
)
def test_bad_definitions_are_refused(variants):
    with pytest.raises(ValueError):
        Experiment("x", variants, "m")


def test_control_must_be_a_variant():
    with pytest.raises(ValueError):
        Experiment("x", (Variant("a"), Variant("b")), "m", control="c")
    assert Experiment("x", (Variant("a"), Variant("b")), "m", control="b").control_key == "b"


def test_wilson_interval_reference_values():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and math.isclose(high, 0.2775, abs_tol=1e-4)
    low, high = wilson_interval(5, 10)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)


def test_newcombe_reference_example():
    # Newcombe (1998), Table II: 56/70 against 48/80, method 10 gives 0.0524 to 0.3339.
    low, high = difference_interval(56, 70, 48, 80)
    assert math.isclose(low, 0.0524, abs_tol=1e-4)
    assert math.isclose(high, 0.3339, abs_tol=1e-4)


def test_report_compares_with_control():
    result = report(
        TONE, {"control": VariantCounts(1000, 300), "playful": VariantCounts(1000, 360)}
    )
    assert result.method == METHOD and result.control == "control"
    control, playful = result.variants
    assert control.difference is None and control.rate == 0.3
    assert playful.difference is not None and math.isclose(playful.difference, 0.06)
    assert playful.ci_low is not None and playful.ci_high is not None
    assert playful.ci_low < 0.06 < playful.ci_high
    assert playful.significant is True
    same = report(TONE, {"control": VariantCounts(100, 30), "playful": VariantCounts(100, 31)})
    assert same.variants[1].significant is False


def test_report_handles_missing_data():
    result = report(TONE, {"control": VariantCounts(50, 10)})
    assert result.variants[1].rate is None and result.variants[1].ci_low is None
    with pytest.raises(ValueError):
        report(TONE, {"control": VariantCounts(5, 6)})


def test_tally_counts_distinct_users():
    exposures = [("u1", "control"), ("u1", "control"), ("u2", "playful"), ("u3", "playful")]
    counts = tally(exposures, ["u2", "u9"])
    assert counts == {"control": VariantCounts(1, 0), "playful": VariantCounts(2, 1)}
    with pytest.raises(ValueError):
        tally([("u1", "control"), ("u1", "playful")], [])


@given(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_interval_contains_the_estimate(variant, control):
    (x1, n1), (x0, n0) = variant, control
    low, high = difference_interval(x1, n1, x0, n0)
    d = x1 / n1 - x0 / n0
    assert -1.0 <= low <= d + 1e-12 and d - 1e-12 <= high <= 1.0
