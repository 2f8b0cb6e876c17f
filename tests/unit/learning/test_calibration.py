import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.learning.calibration import (
    base_rate_brier,
    brier_score,
    brier_skill,
    expected_calibration_error,
    format_reliability_table,
    reliability_table,
)


def test_brier_score_by_hand():
    assert brier_score([1.0, 0.0], [True, False]) == 0.0
    assert brier_score([0.5] * 4, [True, False, True, True]) == 0.25
    # (0.2² + 0.3² + 0.9²) / 3
    assert math.isclose(
        brier_score([0.8, 0.3, 0.9], [True, False, False]), (0.04 + 0.09 + 0.81) / 3
    )


def test_base_rate_brier_uses_own_rate_unless_given_one():
    outcomes = [True, True, False, False]
    assert base_rate_brier(outcomes) == 0.25
    assert math.isclose(base_rate_brier(outcomes, base_rate=0.75), (2 * 0.0625 + 2 * 0.5625) / 4)
    assert base_rate_brier([True] * 5) == 0.0


def test_skill_is_share_of_base_rate_error_removed():
    outcomes = [True, False] * 5
    assert brier_skill([1.0, 0.0] * 5, outcomes) == 1.0
    assert brier_skill([0.5] * 10, outcomes) == 0.0
    assert brier_skill([0.0, 1.0] * 5, outcomes) < 0


def test_reliability_table_bins():
    probabilities = [0.05, 0.15, 0.12, 0.95, 1.0, 0.0]
    outcomes = [False, True, False, True, True, False]
    table = reliability_table(probabilities, outcomes)
    assert len(table) == 10
    assert sum(row.count for row in table) == 6
    assert table[0].count == 2 and table[0].observed_rate == 0.0
    assert table[1].count == 2
    assert table[1].mean_predicted is not None
    assert math.isclose(table[1].mean_predicted, 0.135)
    assert table[1].observed_rate == 0.5
    assert table[9].count == 2 and table[9].observed_rate == 1.0  # 1.0 lands in the top bin
    assert (
        table[5].count == 0 and table[5].mean_predicted is None and table[5].observed_rate is None
    )
    assert [(row.lower, row.upper) for row in table][3] == (0.3, 0.4)


def test_calibration_error_is_zero_when_bins_match():
    probabilities = [0.25] * 4 + [0.75] * 4
    outcomes = [True, False, False, False, True, True, True, False]
    assert expected_calibration_error(reliability_table(probabilities, outcomes)) == 0.0
    skewed = reliability_table([0.9] * 4, [False] * 4)
    assert math.isclose(expected_calibration_error(skewed), 0.9)


def test_formatted_table_has_a_line_per_bin():
    text = format_reliability_table(reliability_table([0.1, 0.9], [False, True]))
    lines = text.splitlines()
    assert len(lines) == 11
    assert lines[2].split()[1] == "1" and lines[5].split()[1] == "0"


@pytest.mark.parametrize(
    ("probabilities", "outcomes"),
    [([], []), ([0.5], [True, False]), ([1.5], [True]), ([-0.1], [False])],
)
def test_bad_inputs_are_refused(probabilities, outcomes):
    with pytest.raises(ValueError):
        brier_score(probabilities, outcomes)
    with pytest.raises(ValueError):
        reliability_table(probabilities, outcomes)


pairs = st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=200)


@given(pairs, st.floats(0, 1))
def test_own_base_rate_is_the_best_constant(data, constant):
    probabilities, outcomes = zip(*data, strict=True)
    score = brier_score(list(probabilities), list(outcomes))
    assert 0.0 <= score <= 1.0
    assert base_rate_brier(list(outcomes)) <= base_rate_brier(list(outcomes), constant) + 1e-12


@given(pairs, st.integers(1, 25))
def test_every_prediction_lands_in_exactly_one_bin(data, bins):
    probabilities, outcomes = zip(*data, strict=True)
    table = reliability_table(list(probabilities), list(outcomes), bins=bins)
    assert len(table) == bins
    assert sum(row.count for row in table) == len(data)
    for row in table:
        if row.mean_predicted is not None:
            assert row.lower - 1e-9 <= row.mean_predicted <= row.upper + 1e-9
