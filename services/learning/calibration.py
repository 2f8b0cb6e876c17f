"""How good are the probabilities? Brier scores and a reliability table.

The Brier score is the mean squared difference between a predicted probability and what
happened (1 or 0): 0 is perfect, 0.25 is what "always 50 %" scores. A model is only worth having
if it beats the base-rate forecast, which predicts the same overall success rate for everyone;
its Brier score is ``rate × (1 − rate)``. The reliability table shows calibration: within each
tenth of the probability range, does the observed success rate match the mean prediction?
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One row of a reliability table.

    Attributes:
        lower: The bin's lowest probability (inclusive).
        upper: The bin's highest probability (exclusive, except 1.0 in the last bin).
        count: Predictions that fell in the bin.
        mean_predicted: Their mean probability, ``None`` when the bin is empty.
        observed_rate: The share of them that succeeded, ``None`` when the bin is empty.
    """

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


def _check(probabilities: Sequence[float], outcomes: Sequence[bool]) -> None:
    if len(probabilities) != len(outcomes):
        raise ValueError("probabilities and outcomes must have the same length")
    if not probabilities:
        raise ValueError("at least one prediction is needed")
    if any(not 0.0 <= p <= 1.0 for p in probabilities):
        raise ValueError("probabilities must lie in [0, 1]")


def brier_score(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Return the mean squared error of probabilistic predictions.

    Args:
        probabilities: Predicted chances of success, each in [0, 1].
        outcomes: What happened, aligned with ``probabilities``.

    Returns:
        The Brier score in [0, 1]; lower is better.

    Raises:
        ValueError: On empty or misaligned inputs, or a probability outside [0, 1].
    """
    _check(probabilities, outcomes)
    total = sum(
        (p - (1.0 if y else 0.0)) ** 2 for p, y in zip(probabilities, outcomes, strict=True)
    )
    return total / len(outcomes)


def base_rate_brier(outcomes: Sequence[bool], base_rate: float | None = None) -> float:
    """Return the Brier score of forecasting one constant rate for everyone.

    Args:
        outcomes: What happened.
        base_rate: The constant forecast. By default the outcomes' own success rate, which is the
            best any constant can do on them (so beating it is the stricter test); pass the
            training set's rate to score the forecast a service could actually have made.

    Returns:
        The Brier score of the constant forecast.

    Raises:
        ValueError: On empty outcomes or a rate outside [0, 1].
    """
    if not outcomes:
        raise ValueError("at least one outcome is needed")
    rate = sum(outcomes) / len(outcomes) if base_rate is None else base_rate
    return brier_score([rate] * len(outcomes), outcomes)


def brier_skill(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Return 1 − Brier / base-rate Brier: the share of the base rate's error removed.

    Returns 0 when the outcomes are all equal (no error left for any forecast to remove) and
    the model matches them.
    """
    reference = base_rate_brier(outcomes)
    score = brier_score(probabilities, outcomes)
    if reference == 0.0:
        return 0.0 if score == 0.0 else float("-inf")
    return 1.0 - score / reference


def reliability_table(
    probabilities: Sequence[float], outcomes: Sequence[bool], bins: int = 10
) -> list[ReliabilityBin]:
    """Group predictions into equal-width probability bins and compare with what happened.

    Args:
        probabilities: Predicted chances of success, each in [0, 1].
        outcomes: What happened.
        bins: Number of bins (10 gives 0–0.1, 0.1–0.2, …, 0.9–1.0).

    Returns:
        One row per bin, lowest first, including empty bins.

    Raises:
        ValueError: On empty or misaligned inputs, a probability outside [0, 1], or bins < 1.
    """
    _check(probabilities, outcomes)
    if bins < 1:
        raise ValueError("bins must be at least 1")
    counts = [0] * bins
    predicted = [0.0] * bins
    successes = [0] * bins
    for p, y in zip(probabilities, outcomes, strict=True):
        # A probability of exactly 1.0 belongs to the top bin, not to a bin past the end.
        index = min(int(p * bins), bins - 1)
        counts[index] += 1
        predicted[index] += p
        successes[index] += 1 if y else 0
    rows = []
    for i in range(bins):
        n = counts[i]
        rows.append(
            ReliabilityBin(
                lower=i / bins,
                upper=(i + 1) / bins,
                count=n,
                mean_predicted=predicted[i] / n if n else None,
                observed_rate=successes[i] / n if n else None,
            )
        )
    return rows


def expected_calibration_error(table: Sequence[ReliabilityBin]) -> float:
    """Return the count-weighted mean gap between predicted and observed rates over the bins."""
    total = sum(row.count for row in table)
    if total == 0:
        raise ValueError("the table holds no predictions")
    gap = 0.0
    for row in table:
        if row.count and row.mean_predicted is not None and row.observed_rate is not None:
            gap += row.count * abs(row.mean_predicted - row.observed_rate)
    return gap / total


def format_reliability_table(table: Sequence[ReliabilityBin]) -> str:
    """Render a reliability table as aligned text, one bin per line, for logs and reports."""
    lines = ["bin            count  predicted  observed"]
    for row in table:
        predicted = f"{row.mean_predicted:9.3f}" if row.mean_predicted is not None else "        -"
        observed = f"{row.observed_rate:8.3f}" if row.observed_rate is not None else "       -"
        lines.append(f"{row.lower:.2f}–{row.upper:.2f}  {row.count:7d}  {predicted}  {observed}")
    return "\n".join(lines)
