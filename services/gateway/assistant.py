"""The assistant screen's banner and quick-action chips, from what we know of the user: pure.

Priority of the banner: an open nudge (the learning service's suggestion), then a streak worth
celebrating, then the active plan, then an invitation to start. Chips offer the next useful
messages for this user: answering the nudge, logging a habit not yet done today, checking the
plan, and always a progress review; at most :data:`MAX_CHIPS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_CHIPS = 4
CELEBRATED_STREAK = 3


@dataclass(frozen=True)
class HabitGlance:
    """A habit and its latest metrics (None where the metrics service had no answer)."""

    title: str
    current_streak: int | None = None
    streak_unit: str = "day"
    last_completed_on: date | None = None


@dataclass(frozen=True)
class PlanGlance:
    """An active habit sequence: its name and where the user is in it."""

    name: str
    phase: int
    phases: int
    phase_name: str


@dataclass(frozen=True)
class Chip:
    label: str
    prompt: str


@dataclass(frozen=True)
class AssistantContext:
    banner: str
    chips: list[Chip]


def assistant_context(
    *,
    today: date,
    nudge_message: str | None,
    habits: list[HabitGlance],
    plans: list[PlanGlance],
) -> AssistantContext:
    """Choose the banner and chips.

    Args:
        today: The user's date (to tell which habits are still to do today).
        nudge_message: The newest open nudge's text, if any.
        habits: The user's active habits, oldest first.
        plans: The user's active habit sequences.
    """
    chips: list[Chip] = []
    if nudge_message:
        chips.append(Chip("Make it easier", f"Help me with this suggestion: {nudge_message}"))
    todo = [h for h in habits if h.last_completed_on != today]
    if todo:
        chips.append(Chip(f"Log {todo[0].title}", f"I did {todo[0].title} today"))
    if plans:
        chips.append(Chip("My plan", f"How is my {plans[0].name} plan going?"))
    if habits:
        chips.append(Chip("How am I doing?", "How are my habits going this week?"))
    else:
        chips.append(Chip("Plan a goal", "Help me turn a goal into small daily habits."))
        chips.append(Chip("Start tiny", "Help me start a two-minute habit."))
    chips.append(Chip("Best time", "When is the best time for my habits?"))

    best = max(habits, key=lambda h: h.current_streak or 0, default=None)
    if nudge_message:
        banner = nudge_message
    elif best is not None and (best.current_streak or 0) >= CELEBRATED_STREAK:
        unit = best.streak_unit
        banner = f"{best.current_streak}-{unit} streak on {best.title}. Keep it going!"
    elif plans:
        p = plans[0]
        banner = f"{p.name}: phase {p.phase} of {p.phases}, {p.phase_name}."
    elif habits:
        banner = "What would you like to work on today?"
    else:
        banner = "Tell me a goal and I'll turn it into tiny habits you can start today."
    return AssistantContext(banner=banner, chips=chips[:MAX_CHIPS])
