"""A/B experiments: definitions, deterministic assignment, and a report with confidence intervals.

Assignment needs no storage: a user's bucket is the SHA-256 of the experiment key and the user
id, reduced to one of 10 000 buckets, and the variants own consecutive bucket ranges in
proportion to their weights. The same user always lands in the same variant of an experiment,
on every service and after every restart, and different experiments split users independently
because the key is part of the hash. (Python's ``hash`` would not do: it is salted per process.)

The report compares each variant's conversion rate with the control's. The 95 % interval of the
difference uses Newcombe's hybrid score method (method 10 of Newcombe, 1998, "Interval
estimation for the difference between independent proportions"), built from the two Wilson
score intervals. Unlike the Wald interval it stays inside [-1, 1], and keeps close to its nominal
coverage with small samples and with rates near 0 or 1, which is where early experiments live.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BUCKETS = 10_000
Z_95 = 1.959963984540054
METHOD = "newcombe_hybrid_score"


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm of an experiment.

    Attributes:
        key: Its name (``control``, ``short_messages``…).
        weight: Its share of traffic, relative to the other variants' weights.
    """

    key: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment definition.

    Attributes:
        key: Stable identifier; part of the assignment hash, so renaming it reshuffles users.
        variants: The arms, in a fixed order (the order decides bucket ranges).
        metric: The conversion being measured, e.g. ``habit_completed_within_7d``.
        control: The arm the others are compared with; the first variant when omitted.
    """

    key: str
    variants: tuple[Variant, ...]
    metric: str
    control: str | None = None

    def __post_init__(self) -> None:
        """Reject definitions that could not assign users sensibly."""
        keys = [v.key for v in self.variants]
        if len(keys) < 2:
            raise ValueError("an experiment needs at least two variants")
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        if any(not math.isfinite(v.weight) or v.weight <= 0 for v in self.variants):
            raise ValueError("variant weights must be positive")
        if self.control is not None and self.control not in keys:
            raise ValueError(f"control {self.control!r} is not a variant")

    @property
    def control_key(self) -> str:
        """The control arm's key."""
        return self.control if self.control is not None else self.variants[0].key


def bucket(experiment_key: str, user_id: str) -> int:
    """Return the user's bucket (0..9999) in one experiment; stable for the same inputs."""
    digest = hashlib.sha256(f"{experiment_key}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment: Experiment, user_id: str) -> str:
    """Return the variant ``user_id`` sees in ``experiment``.

    Args:
        experiment: The definition.
        user_id: The user.

    Returns:
        The variant key, always the same for the same experiment key, variants and user.
    """
    point = bucket(experiment.key, user_id)
    total = sum(v.weight for v in experiment.variants)
    upper = 0.0
    for variant in experiment.variants:
        upper += variant.weight / total * BUCKETS
        if point < upper:
            return variant.key
    # Floating-point sums may end a hair under BUCKETS; the last bucket belongs to the last arm.
    return experiment.variants[-1].key


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """Exposed users and converted users of one variant."""

    exposures: int
    conversions: int


def tally(
    exposures: Iterable[tuple[str, str]], converted_users: Iterable[str]
) -> dict[str, VariantCounts]:
    """Count distinct exposed and converted users per variant.

    Args:
        exposures: ``(user_id, variant)`` pairs; repeats of a user count once.
        converted_users: Users who reached the metric (only exposed ones count).

    Returns:
        Counts per variant seen in ``exposures``.

    Raises:
        ValueError: If a user was exposed to two variants, which assignment never does.
    """
    variant_of: dict[str, str] = {}
    for user_id, variant in exposures:
        if variant_of.setdefault(user_id, variant) != variant:
            raise ValueError(f"user {user_id} was exposed to two variants")
    converted = set(converted_users)
    exposed: dict[str, int] = {}
    conversions: dict[str, int] = {}
    for user_id, variant in variant_of.items():
        exposed[variant] = exposed.get(variant, 0) + 1
        conversions[variant] = conversions.get(variant, 0) + (user_id in converted)
    return {v: VariantCounts(exposed[v], conversions[v]) for v in exposed}


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion.

    Args:
        successes: Number of successes.
        n: Number of trials (positive).
        z: The normal quantile (1.96 for 95 %).

    Returns:
        (lower, upper), both within [0, 1].
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(
    successes: int, n: int, control_successes: int, control_n: int, z: float = Z_95
) -> tuple[float, float]:
    """Return Newcombe's hybrid score interval for ``rate − control rate``.

    Args:
        successes: Conversions of the variant.
        n: Exposures of the variant.
        control_successes: Conversions of the control.
        control_n: Exposures of the control.
        z: The normal quantile.

    Returns:
        (lower, upper) of the difference, within [-1, 1].
    """
    p1, p0 = successes / n, control_successes / control_n
    l1, u1 = wilson_interval(successes, n, z)
    l0, u0 = wilson_interval(control_successes, control_n, z)
    d = p1 - p0
    lower = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return max(-1.0, lower), min(1.0, upper)


@dataclass(frozen=True, slots=True)
class VariantResult:
    """One variant's line in a report.

    Attributes:
        variant: The variant key.
        exposures: Exposed users.
        conversions: Converted users.
        rate: ``conversions / exposures``; ``None`` with no exposures.
        difference: ``rate − control rate``; ``None`` for the control or when a rate is missing.
        ci_low: Lower end of the 95 % interval of the difference.
        ci_high: Upper end.
        significant: Whether the interval excludes 0; ``None`` when there is no interval.
    """

    variant: str
    exposures: int
    conversions: int
    rate: float | None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool | None = None


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    """The comparison of every variant with the control.

    Attributes:
        experiment: The experiment key.
        metric: The conversion measured.
        control: The control variant.
        method: How intervals are computed (``newcombe_hybrid_score``, 95 %).
        variants: One line per variant, in definition order.
    """

    experiment: str
    metric: str
    control: str
    method: str
    variants: tuple[VariantResult, ...]


def report(experiment: Experiment, counts: Mapping[str, VariantCounts]) -> ExperimentReport:
    """Compare every variant's conversion rate with the control's.

    Args:
        experiment: The definition.
        counts: Exposures and conversions per variant; a missing variant counts as zero.

    Returns:
        The report, variants in definition order.

    Raises:
        ValueError: On negative counts, or more conversions than exposures.
    """
    for key, c in counts.items():
        if c.exposures < 0 or not 0 <= c.conversions <= c.exposures:
            raise ValueError(f"variant {key}: need 0 <= conversions <= exposures")
    zero = VariantCounts(0, 0)
    control = counts.get(experiment.control_key, zero)
    lines = []
    for variant in experiment.variants:
        c = counts.get(variant.key, zero)
        rate = c.conversions / c.exposures if c.exposures else None
        if variant.key == experiment.control_key or not c.exposures or not control.exposures:
            lines.append(VariantResult(variant.key, c.exposures, c.conversions, rate))
            continue
        low, high = difference_interval(
            c.conversions, c.exposures, control.conversions, control.exposures
        )
        lines.append(
            VariantResult(
                variant=variant.key,
                exposures=c.exposures,
                conversions=c.conversions,
                rate=rate,
                difference=c.conversions / c.exposures - control.conversions / control.exposures,
                ci_low=low,
                ci_high=high,
                significant=low > 0 or high < 0,
            )
        )
    return ExperimentReport(
        experiment=experiment.key,
        metric=experiment.metric,
        control=experiment.control_key,
        method=METHOD,
        variants=tuple(lines),
    )
