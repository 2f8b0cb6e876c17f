"""A person's daily rhythm: chronotype, when they usually wake and sleep, and when energy peaks.

The prediction features, the timing fallback and the nudge quiet hours all need the same picture
of a user's day, so it lives here once. The defaults are deliberately plain: a morning type wakes
around 06:00 and sleeps around 22:00, an evening type wakes around 08:30 and sleeps around 00:30,
and everyone else sits in between. Chronotype research (Roenneberg's mid-sleep distributions)
puts most adults within about two hours of the middle, which is why the three profiles are not
further apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Chronotype = Literal["morning", "evening", "neutral"]

CHRONOTYPES: tuple[Chronotype, ...] = ("morning", "evening", "neutral")


@dataclass(frozen=True, slots=True)
class DailyRhythm:
    """Typical wall-clock times of a chronotype, in minutes after local midnight.

    Attributes:
        wake: When the person usually gets up.
        sleep: When the person usually goes to bed; may be past midnight (more than 1440).
        peak: The middle of the stretch of the day when they have the most energy.
    """

    wake: int
    sleep: int
    peak: int


_RHYTHMS: dict[Chronotype, DailyRhythm] = {
    "morning": DailyRhythm(wake=6 * 60, sleep=22 * 60, peak=8 * 60),
    "neutral": DailyRhythm(wake=7 * 60, sleep=23 * 60, peak=13 * 60),
    "evening": DailyRhythm(wake=8 * 60 + 30, sleep=24 * 60 + 30, peak=19 * 60),
}


def rhythm_of(chronotype: Chronotype | None) -> DailyRhythm:
    """Return the typical rhythm of ``chronotype`` (the neutral one when it is unknown)."""
    return _RHYTHMS[chronotype or "neutral"]


def energy_fit(minute_of_day: float, chronotype: Chronotype | None) -> float:
    """Score how well a time of day suits a chronotype's energy, from -1 (worst) to 1 (best).

    Morning and evening types get a cosine that peaks at their energy peak and bottoms out twelve
    hours later; a smooth curve rather than a step keeps the feature usable by a linear model.
    Neutral and unknown chronotypes get 0: there is no evidence either way.

    Args:
        minute_of_day: Local wall-clock time in minutes after midnight.
        chronotype: The user's chronotype, if known.

    Returns:
        The fit in [-1, 1].
    """
    if chronotype is None or chronotype == "neutral":
        return 0.0
    peak = _RHYTHMS[chronotype].peak
    return math.cos(2.0 * math.pi * (minute_of_day - peak) / 1440.0)
