"""When should a habit happen? Ranked time windows from the user's own record, or sensible defaults.

The day is cut into 96 quarter-hour slots on the user's local wall clock. Two curves score them:

- **The user's record.** Past outcomes with their instants, converted to the user's zone:
  completions (``success=True``) at the time they were logged, misses (``success=False``) at the
  time they were planned. Each is smoothed over neighbouring slots with a Gaussian kernel
  (σ = 45 minutes), since 07:10 and 07:25 are the same habit moment. A slot scores by how much
  success happened there, discounted by how reliable it was (a Beta(1, 1)-smoothed success
  share), so a time that is both used and kept wins.
- **Defaults.** Where the habit type and chronotype say it tends to work: exercise early for
  morning types (06–08) and late afternoon for evening types (17–19), meditation soon after
  waking, reading and journaling before bed, learning in the hours of peak energy. Nothing is
  suggested while the user usually sleeps.

The two are blended by evidence: with ``k`` successes on record the user's curve gets weight
``k / (k + 8)``. A window is as long as the session, or longer when the user says their timing is
flexible (one hour for medium, two for high), and scores the mean of its slots. The best windows
are picked greedily, at least an hour apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from services.learning.rhythm import Chronotype, rhythm_of

Flexibility = Literal["low", "medium", "high"]
Source = Literal["history", "blended", "defaults"]

SLOT_MINUTES = 15
SLOTS = 1440 // SLOT_MINUTES
EVIDENCE_HALF = 8.0
"""Successes on record at which the user's own curve and the defaults weigh the same."""

_KERNEL_SIGMA_SLOTS = 3.0
_ASLEEP_LEVEL = 0.02
_AWAKE_LEVEL = 0.15
_GAP_SLOTS = 4

Array = npt.NDArray[np.float64]

_TYPES: dict[str, tuple[str, ...]] = {
    "exercise": (
        "exercise", "fitness", "workout", "run", "running", "walk", "walking", "gym", "yoga",
        "strength", "cardio", "sport", "cycling", "swim", "swimming", "stretching",
    ),
    "meditation": ("meditation", "meditate", "mindfulness", "breathing", "breathwork"),
    "reading": ("reading", "read", "books", "book"),
    "journaling": ("journaling", "journal", "writing", "gratitude", "reflection"),
    "learning": ("learning", "study", "studying", "language", "practice", "skill", "coding"),
}  # fmt: skip
_TYPE_OF = {word: kind for kind, words in _TYPES.items() for word in words}


@dataclass(frozen=True, slots=True)
class TimedOutcome:
    """One past occurrence of the habit.

    Attributes:
        at: When it happened (a completion's log time) or was planned (a miss); naive values
            are taken as UTC.
        success: Whether it was done.
    """

    at: datetime
    success: bool = True


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A suggested time.

    Attributes:
        start: Local start, ``HH:MM``.
        end: Local end, ``HH:MM`` (may be past midnight, e.g. ``00:30``).
        score: 0..1; higher is better.
        reason: Why this window, in one sentence.
    """

    start: str
    end: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class TimingAdvice:
    """The ranked windows and what they rest on.

    Attributes:
        windows: Best first.
        explanation: One or two sentences for the user.
        source: ``history`` (mostly the user's record), ``blended`` or ``defaults``.
    """

    windows: tuple[TimeWindow, ...]
    explanation: str
    source: Source


@dataclass(frozen=True, slots=True)
class _Peak:
    start: int
    end: int
    weight: float
    reason: str


def habit_kind(habit_type: str) -> str:
    """Map a free-form habit type ("Morning run", "yoga") to a known kind, else ``general``."""
    for word in habit_type.lower().replace("-", " ").replace("_", " ").split():
        if word in _TYPE_OF:
            return _TYPE_OF[word]
    return "general"


def _peaks(kind: str, chronotype: Chronotype | None) -> list[_Peak]:
    r = rhythm_of(chronotype)
    ctype = chronotype or "neutral"
    if kind == "exercise":
        if ctype == "morning":
            return [
                _Peak(6 * 60, 8 * 60, 1.0, "Morning types have the most drive for exercise early."),
                _Peak(17 * 60, 19 * 60, 0.5, "Late afternoon suits exercise for most people."),
            ]
        if ctype == "evening":
            return [
                _Peak(17 * 60, 19 * 60, 1.0, "Evening types are strongest in the late afternoon."),
                _Peak(12 * 60, 13 * 60, 0.4, "A lunchtime session avoids the groggy morning."),
            ]
        return [
            _Peak(17 * 60, 19 * 60, 1.0, "Strength and body heat peak in the late afternoon."),
            _Peak(7 * 60, 9 * 60, 0.8, "An early session gets it done before the day fills up."),
        ]
    if kind == "meditation":
        return [
            _Peak(r.wake, r.wake + 60, 1.0, "Right after waking, before the day's noise starts."),
            _Peak(r.sleep - 60, r.sleep, 0.4, "Winding down before sleep also works well."),
        ]
    if kind == "reading":
        return [
            _Peak(r.sleep - 60, r.sleep, 1.0, "Reading before bed helps you wind down."),
            _Peak(
                12 * 60 + 30, 13 * 60 + 30, 0.3, "A lunch break is a quiet slot for a few pages."
            ),
        ]
    if kind == "journaling":
        return [
            _Peak(
                r.sleep - 60, r.sleep, 1.0, "The evening is natural for looking back on the day."
            ),
            _Peak(r.wake, r.wake + 60, 0.6, "A morning page sets the day's intention."),
        ]
    if kind == "learning":
        start = {"morning": 8 * 60, "evening": 18 * 60, "neutral": 9 * 60}[ctype]
        return [_Peak(start, start + 120, 1.0, "Focused learning works best at your energy peak.")]
    return [_Peak(r.peak - 120, r.peak + 120, 0.5, "This is when your energy is usually highest.")]


def _slot_of(minute: int) -> int:
    return (minute % 1440) // SLOT_MINUTES


def _span(start: int, end: int) -> list[int]:
    """Slots covering [start, end) minutes, wrapping past midnight."""
    count = max(1, math.ceil((end - start) / SLOT_MINUTES))
    first = _slot_of(start)
    return [(first + i) % SLOTS for i in range(count)]


def _smooth(values: Array) -> Array:
    offsets = np.arange(SLOTS)
    distance = np.minimum(offsets, SLOTS - offsets)
    kernel = np.exp(-0.5 * (distance / _KERNEL_SIGMA_SLOTS) ** 2)
    # Circular convolution through the FFT: the day wraps, so 23:45 neighbours 00:00.
    return np.real(np.fft.ifft(np.fft.fft(values) * np.fft.fft(kernel)))


def _default_curve(peaks: list[_Peak], chronotype: Chronotype | None) -> Array:
    r = rhythm_of(chronotype)
    curve = np.full(SLOTS, _ASLEEP_LEVEL)
    curve[_span(r.wake, r.sleep)] = _AWAKE_LEVEL
    for peak in peaks:
        slots = _span(peak.start, peak.end)
        curve[slots] = np.maximum(curve[slots], peak.weight)
    return curve


def _window_length(duration_minutes: float, flexibility: Flexibility) -> int:
    floor = {"low": 0, "medium": 60, "high": 120}[flexibility]
    minutes = max(float(SLOT_MINUTES), min(duration_minutes, 720.0), float(floor))
    return math.ceil(minutes / SLOT_MINUTES)


def _hhmm(slot: int) -> str:
    minute = (slot % SLOTS) * SLOT_MINUTES
    return f"{minute // 60:02d}:{minute % 60:02d}"


def find_optimal_windows(
    habit_type: str,
    duration_minutes: float,
    flexibility: Flexibility = "medium",
    chronotype: Chronotype | None = None,
    history: Sequence[TimedOutcome] = (),
    zone: str = "UTC",
    limit: int = 3,
) -> TimingAdvice:
    """Rank time windows for a habit.

    Args:
        habit_type: The habit's kind or title ("exercise", "evening reading").
        duration_minutes: One session's length; no window is shorter.
        flexibility: How precise the plan is: ``low`` gives windows as long as the session,
            ``medium`` at least an hour, ``high`` at least two hours.
        chronotype: The user's chronotype, for the defaults.
        history: Past outcomes of this habit (or of the same kind) with their instants.
        zone: The user's IANA zone; instants are read on its wall clock.
        limit: Most windows to return.

    Returns:
        Up to ``limit`` non-overlapping windows, best first, and an explanation.
    """
    kind = habit_kind(habit_type)
    peaks = _peaks(kind, chronotype)
    prior = _default_curve(peaks, chronotype)
    tz = ZoneInfo(zone)
    done = np.zeros(SLOTS)
    missed = np.zeros(SLOTS)
    for outcome in history:
        # Naive instants are taken as UTC, as ``shared.localtime`` does, never as server time.
        instant = outcome.at if outcome.at.tzinfo is not None else outcome.at.replace(tzinfo=UTC)
        local = instant.astimezone(tz)
        slot = _slot_of(local.hour * 60 + local.minute)
        (done if outcome.success else missed)[slot] += 1.0
    successes = float(done.sum())
    weight = successes / (successes + EVIDENCE_HALF)
    # Smoothing the defaults too puts the best start in the middle of a favoured stretch rather
    # than at its first minute.
    smooth_prior = _smooth(prior)
    curve = smooth_prior / smooth_prior.max()
    if successes > 0:
        used, failed = _smooth(done), _smooth(missed)
        kept = (used + 1.0) / (used + failed + 2.0)
        mine = used * kept
        curve = (1.0 - weight) * curve + weight * mine / mine.max()

    length = _window_length(duration_minutes, flexibility)
    index = np.arange(SLOTS)
    window_scores = np.array([curve[(start + index[:length]) % SLOTS].mean() for start in index])
    taken = np.zeros(SLOTS, dtype=bool)
    windows: list[TimeWindow] = []
    for start in np.argsort(-window_scores, kind="stable").tolist():
        slots = [(start + i) % SLOTS for i in range(length)]
        if taken[slots].any():
            continue
        # Keep an hour between suggestions: 07:00 and 07:30 are one suggestion, not two.
        taken[[(start + i) % SLOTS for i in range(-_GAP_SLOTS, length + _GAP_SLOTS)]] = True
        reason = _reason(slots, done, missed, peaks, weight, chronotype)
        windows.append(
            TimeWindow(
                start=_hhmm(start),
                end=_hhmm(start + length),
                score=round(float(window_scores[start]), 3),
                reason=reason,
            )
        )
        if len(windows) >= limit:
            break
    source: Source = "defaults" if weight < 0.2 else ("history" if weight >= 0.6 else "blended")
    return TimingAdvice(
        windows=tuple(windows),
        explanation=_explain(kind, chronotype, int(successes), source, windows),
        source=source,
    )


def _reason(
    slots: list[int],
    done: Array,
    missed: Array,
    peaks: list[_Peak],
    weight: float,
    chronotype: Chronotype | None,
) -> str:
    # Count what happened inside the window itself, plus a quarter-hour either side, since a
    # 07:00 plan logged at 06:55 belongs to it.
    near = set(slots) | {(slots[0] - 1) % SLOTS, (slots[-1] + 1) % SLOTS}
    kept = int(sum(done[s] for s in near))
    lost = int(sum(missed[s] for s in near))
    if weight >= 0.2 and kept > 0:
        text = f"You've done it {kept} time{'s' if kept != 1 else ''} around this time"
        if lost:
            text += f" and missed it {lost} time{'s' if lost != 1 else ''}"
        return text + "."
    rhythm = rhythm_of(chronotype)
    best = max(peaks, key=lambda p: len(set(_span(p.start, p.end)) & set(slots)))
    if set(_span(best.start, best.end)) & set(slots):
        text = best.reason
    elif set(slots) & set(_span(rhythm.sleep, rhythm.wake + 1440)):
        text = "Outside your usual waking hours, so only if it fits your day."
    else:
        text = "A free stretch of your waking day."
    if lost:
        text += f" You have missed it {lost} time{'s' if lost != 1 else ''} around then, though."
    return text


def _explain(
    kind: str,
    chronotype: Chronotype | None,
    successes: int,
    source: Source,
    windows: list[TimeWindow],
) -> str:
    if not windows:
        return "No suitable time was found."
    best = f"{windows[0].start}–{windows[0].end}"
    label = kind if kind != "general" else "this habit"
    if source == "history":
        return f"Based on {successes} completions in your own record, {best} works best for you."
    who = f"{chronotype} types" if chronotype in ("morning", "evening") else "most people"
    if source == "blended":
        return (
            f"From your {successes} completions so far and what works for {who}, "
            f"{best} looks best for {label}."
        )
    return (
        f"There isn't enough of your own history yet, so this follows what works for {who}: "
        f"{best} for {label}."
    )
