"""Questions about imported health data ("how did I sleep this week?"), for the offline planner.

Pure. :func:`health_question` tells a question about recorded data (sleep, steps, energy,
exercise, mindful minutes, workouts) from a request for advice or a goal ("how can I sleep
better?", "I want to walk 10k steps a day"), and says which data type and how many days back it
asks about. :func:`describe_data` writes the reply from the tool's result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TYPES: tuple[tuple[str, str], ...] = (
    (r"\bsle(?:ep|pt)\w*|\bbedtime|\bnights?\b", "sleep_minutes"),
    (r"\bsteps?\b|\bwalk(?:ed|ing|s)?\b", "steps"),
    (r"\bcalories|\bkcal\b|\bactive energy|\benergy burned", "active_energy"),
    (r"\bmindful\w*|\bmeditat\w*|\bbreath\w*", "mindful_minutes"),
    (
        r"\bworkouts?\b|\bwork(?:ed)? out\b|\btrain(?:ed|ing)\b|\bran\b|\bruns?\b|\brunning\b",
        "workouts",
    ),
    (r"\bexercis\w*|\bactive minutes|\bmove minutes", "exercise_minutes"),
)
# Asking what the data says, not how to change it.
_ASKING = re.compile(
    r"\bhow (?:did|have|has|was|were|well did|much did|long did|many)\b"
    r"|\bwhat(?:'s| is| was| were| does| did)? (?:my|the)\b.{0,40}\b(?:say|show|data|average|total"
    r"|like)\b|\bhow (?:is|was) my\b"
    r"|\bmy (?:\w+ ){0,2}(?:this|last|past) (?:week|month|night|\d+ days)"
    r"|\bdo i (?:\w+ ){0,2}more\b|\bam i (?:\w+ ){0,2}(?:enough|more|less)\b"
    r"|\baccording to my\b|\bshow me my\b.{0,30}\b(?:data|sleep|steps)\b"
)
_ADVICE = re.compile(
    r"\bhow (?:can|do|should|could|to)\b|\bi want\b|\bhelp me\b|\bremind\b"
    # A chart of a habit is create_visualization's.
    r"|\bcharts?\b|\bgraphs?\b|\bplot\b|\bheat ?map\b|\bvisuali[sz]"
)
_LOG = re.compile(r"^\s*(?:log|record|add|mark|track)\b")
_SPANS: tuple[tuple[str, int], ...] = (
    (r"\blast night|\btoday\b|\byesterday\b", 2),
    (r"\b(?:this|last|past) week\b|\blately\b|\brecently\b", 7),
    (r"\b(?:this|last|past) month\b", 30),
    (r"\b(?:this|last|past) year\b", 365),
)
_WORKOUT_TYPES = {r"\bran\b|\bruns?\b|\brunning\b": "running"}


@dataclass(frozen=True)
class HealthQuestion:
    """A question about one data type over the last ``days`` days."""

    data_type: str
    days: int
    workout_type: str | None = None


def health_question(message: str, lookback_days: int | None = None) -> HealthQuestion | None:
    """The data a message asks about, or None when it is not a question about recorded data."""
    text = message.lower()
    if _LOG.search(text) or _ADVICE.search(text) or not _ASKING.search(text):
        return None
    data_type = next((t for pattern, t in _TYPES if re.search(pattern, text)), None)
    if data_type is None:
        return None
    days = lookback_days or next((d for p, d in _SPANS if re.search(p, text)), 7)
    days = max(1, min(366, days))
    workout = None
    if data_type == "workouts":
        workout = next((w for p, w in _WORKOUT_TYPES.items() if re.search(p, text)), None)
    # "Do I walk more on days I run?": the walking is the data; running is the habit compared.
    if data_type == "workouts" and re.search(r"\bwalk|\bsteps?\b", text):
        data_type, workout = "steps", None
    if data_type == "workouts" and re.search(r"\bsle(?:ep|pt)", text):
        data_type, workout = "sleep_minutes", None
    return HealthQuestion(data_type, days, workout)


_WORDS = {
    "sleep_minutes": "sleep",
    "steps": "steps",
    "active_energy": "active energy",
    "exercise_minutes": "exercise",
    "mindful_minutes": "mindful minutes",
    "workouts": "workouts",
}
_VERBS = {
    "sleep_minutes": "sleep",
    "steps": "walk",
    "active_energy": "burn",
    "exercise_minutes": "exercise",
    "mindful_minutes": "spend",
    "workouts": "train",
}


def _hours(minutes: float) -> str:
    whole = round(minutes)
    return f"{whole // 60} h {whole % 60:02d} min"


def _amount(data_type: str, value: float) -> str:
    if data_type == "sleep_minutes":
        return _hours(value)
    if data_type == "steps":
        return f"{value:,.0f} steps"
    if data_type == "active_energy":
        return f"{value:,.0f} kcal"
    return f"{value:,.0f} min"


def describe_data(data: dict[str, Any]) -> str:
    """The planner's sentence for a ``get_integration_data`` result."""
    kind = data["data_type"]
    span = f"the last {data['period_days']} days" if data["period_days"] > 1 else "last night"
    summary = data["summary"]
    if not summary["days_with_data"]:
        return (
            f"I don't have any {_WORDS[kind]} data for {span} yet. Import an export from "
            "Apple Health, Health Connect or Fitbit under Integrations and I can use it."
        )
    average = _amount(kind, summary["average"])
    days = summary["days_with_data"]
    if kind == "sleep_minutes":
        text = (
            f"Over {span} you slept {average} a night on average ({days} nights recorded); "
            f"your longest night was {_amount(kind, summary['maximum'])} on "
            f"{summary['best_day']}."
        )
    else:
        what = average if kind in ("steps", "active_energy") else f"{average} of {_WORDS[kind]}"
        text = (
            f"Over {span} you averaged {what} a day ({days} days "
            f"recorded); your best day was {summary['best_day']} with "
            f"{_amount(kind, summary['maximum'])}."
        )
    for comparison in data.get("habits", []):
        diff = comparison.get("difference_percent")
        if diff is None or abs(diff) < 10:
            continue
        more = "more" if diff > 0 else "less"
        text += (
            f" You {_VERBS[kind]} {abs(diff):.0f}% {more} on days you log {comparison['title']}."
        )
        break
    return text
