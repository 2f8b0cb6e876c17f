"""The insights screen: predictions, churn warnings and timing advice merged into one answer.

``GET /v1/insights`` returns ``{insights, suggestions, predictions}``. The service fetches the
user's active habits with their metrics, runs the predictor, the churn detector and the timing
finder, and hands the results here; this module only decides what is worth saying and in which
order. Every item names its habit, so the app can link to it.

- **insights** are observations: a habit at risk, a strong streak, a rising rate, a hard outlook,
  a better time than the one planned, and one overall line.
- **suggestions** are changes the user can accept: a churn nudge's modification, a move to a
  better time, the prediction's top recommendation for a habit that looks hard.
- **predictions** are tomorrow's chances per habit, riskiest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

from services.learning.churn import SEVERITY, NudgeProposal
from services.learning.prediction import Prediction
from services.learning.timing import TimeWindow, TimingAdvice

InsightKind = Literal[
    "at_risk", "strong_streak", "improving", "hard_outlook", "better_time", "overview"
]
SuggestionKind = Literal["modify_habit", "move_time", "recommendation"]

STRONG_STREAK = 7
RISING_BY = 0.15
HARD_OUTLOOK = 0.4
RECOMMEND_BELOW = 0.6
BETTER_TIME_MARGIN = 0.15
"""How much better (in timing score) another window must be before moving the habit is worth
suggesting; small differences are noise, and moving a habit has its own cost."""


@dataclass(frozen=True, slots=True)
class HabitInsightInput:
    """Everything already known about one active habit.

    Attributes:
        habit_id: The habit.
        title: Its name.
        scheduled_time: Its planned local time, if any.
        current_streak: From the metrics service.
        completion_rate_week: From the metrics service (``None`` when there is none).
        completion_rate_month: From the metrics service.
        prediction: The success prediction for the user's next scheduled day, if computed.
        nudge: The churn proposal, if the detector raised one.
        timing: The timing advice, if computed.
    """

    habit_id: str
    title: str
    scheduled_time: time | None = None
    current_streak: int = 0
    completion_rate_week: float | None = None
    completion_rate_month: float | None = None
    prediction: Prediction | None = None
    nudge: NudgeProposal | None = None
    timing: TimingAdvice | None = None


@dataclass(frozen=True, slots=True)
class Insight:
    """An observation about the user's habits."""

    kind: InsightKind
    habit_id: str | None
    message: str
    priority: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A change the user can accept.

    Attributes:
        kind: What sort of change.
        habit_id: The habit it changes.
        message: The suggestion in words.
        details: Machine-readable specifics (a modification, a time window, a code).
        priority: Ordering weight; higher first.
    """

    kind: SuggestionKind
    habit_id: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, slots=True)
class PredictionItem:
    """One habit's outlook.

    Attributes:
        habit_id: The habit.
        title: Its name.
        probability: Chance of success on the next scheduled day.
        confidence: How much data stands behind it.
        success_factors: Labels of the factors that help most.
        risk_factors: Labels of the factors that hurt most.
    """

    habit_id: str
    title: str
    probability: float
    confidence: float
    success_factors: tuple[str, ...]
    risk_factors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InsightsReport:
    """The ``GET /v1/insights`` body."""

    insights: tuple[Insight, ...]
    suggestions: tuple[Suggestion, ...]
    predictions: tuple[PredictionItem, ...]


def _contains(window: TimeWindow, moment: time) -> bool:
    start = int(window.start[:2]) * 60 + int(window.start[3:])
    end = int(window.end[:2]) * 60 + int(window.end[3:])
    minute = moment.hour * 60 + moment.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def _better_window(habit: HabitInsightInput) -> TimeWindow | None:
    """The top window when it beats the one holding the planned time by a clear margin."""
    advice = habit.timing
    if advice is None or not advice.windows or habit.scheduled_time is None:
        return None
    if advice.source == "defaults":
        # Population defaults alone do not justify moving a habit the user already has.
        return None
    best = advice.windows[0]
    if _contains(best, habit.scheduled_time):
        return None
    current = next((w for w in advice.windows if _contains(w, habit.scheduled_time)), None)
    current_score = current.score if current is not None else 0.0
    return best if best.score - current_score >= BETTER_TIME_MARGIN else None


_RISK_TEXT: dict[str, str] = {
    "lapse_after_streak": "{title}: a strong streak has paused for a few days.",
    "completion_rate_falling": "{title}: completion dropped this week compared with the month.",
    "two_misses_in_a_row": "{title}: missed twice in a row, which is unusual for you.",
    "phase_stalled": "{title}: not yet steady enough to move to the next phase.",
}


def _percent(rate: float) -> str:
    return f"{round(rate * 100)}%"


def build_insights(habits: Sequence[HabitInsightInput], max_items: int = 6) -> InsightsReport:
    """Merge per-habit predictions, churn proposals and timing into the insights answer.

    Args:
        habits: The user's active habits with everything computed for them.
        max_items: Most insights, and most suggestions, to return.

    Returns:
        Insights and suggestions, highest priority first, and predictions, riskiest first.
    """
    insights: list[Insight] = []
    suggestions: list[Suggestion] = []
    predictions: list[PredictionItem] = []
    for h in habits:
        if h.nudge is not None:
            rank = 100 + SEVERITY[h.nudge.reason]
            text = _RISK_TEXT[h.nudge.reason].format(title=h.title)
            insights.append(Insight("at_risk", h.habit_id, text, rank))
            mod = h.nudge.modification
            suggestions.append(
                Suggestion(
                    "modify_habit",
                    h.habit_id,
                    h.nudge.message,
                    {"kind": mod.kind, "details": dict(mod.details), "reason": h.nudge.reason},
                    rank,
                )
            )
        if h.current_streak >= STRONG_STREAK:
            insights.append(
                Insight(
                    "strong_streak",
                    h.habit_id,
                    f"{h.title}: {h.current_streak} in a row. Keep the chain going.",
                    40 + min(h.current_streak, 50),
                )
            )
        week, month = h.completion_rate_week, h.completion_rate_month
        if week is not None and month is not None and week - month >= RISING_BY:
            insights.append(
                Insight(
                    "improving",
                    h.habit_id,
                    f"{h.title} is on the rise: {_percent(week)} this week against "
                    f"{_percent(month)} over the month.",
                    50,
                )
            )
        better = _better_window(h)
        if better is not None and h.scheduled_time is not None:
            planned = h.scheduled_time.strftime("%H:%M")
            insights.append(
                Insight(
                    "better_time",
                    h.habit_id,
                    f"{h.title} tends to go better at {better.start}–{better.end} than at "
                    f"{planned}. {better.reason}",
                    60,
                )
            )
            suggestions.append(
                Suggestion(
                    "move_time",
                    h.habit_id,
                    f"Move {h.title} from {planned} to {better.start}?",
                    {"from": planned, "to": better.start, "window_end": better.end},
                    60,
                )
            )
        p = h.prediction
        if p is None:
            continue
        predictions.append(
            PredictionItem(
                habit_id=h.habit_id,
                title=h.title,
                probability=round(p.probability, 3),
                confidence=round(p.confidence, 3),
                success_factors=tuple(f.label for f in p.top_success_factors),
                risk_factors=tuple(f.label for f in p.top_risk_factors),
            )
        )
        if p.probability < HARD_OUTLOOK and h.nudge is None:
            risk = p.top_risk_factors[0].label if p.top_risk_factors else "the plan itself"
            insights.append(
                Insight(
                    "hard_outlook",
                    h.habit_id,
                    f"{h.title} looks hard right now ({_percent(p.probability)} chance next "
                    f"time); the biggest drag is {risk}.",
                    70,
                )
            )
        if p.probability < RECOMMEND_BELOW and p.recommendations and h.nudge is None:
            rec = p.recommendations[0]
            suggestions.append(
                Suggestion(
                    "recommendation",
                    h.habit_id,
                    rec.message,
                    {"code": rec.code, "factor": rec.factor},
                    round(50 + (RECOMMEND_BELOW - p.probability) * 50),
                )
            )
    monthly = [h.completion_rate_month for h in habits if h.completion_rate_month is not None]
    if monthly:
        average = sum(monthly) / len(monthly)
        count = len(habits)
        insights.append(
            Insight(
                "overview",
                None,
                f"Across your {count} active habit{'s' if count != 1 else ''}, you've completed "
                f"{_percent(average)} of scheduled days this month.",
                10,
            )
        )
    # sorted() is stable, so equal priorities keep the order of the habits given.
    insights.sort(key=lambda i: -i.priority)
    suggestions.sort(key=lambda s: -s.priority)
    predictions.sort(key=lambda item: item.probability)
    return InsightsReport(
        insights=tuple(insights[:max_items]),
        suggestions=tuple(suggestions[:max_items]),
        predictions=tuple(predictions),
    )
