"""Conversation memory and the user context of a prompt: pure functions, no I/O.

- **Short-term**: the latest messages go to the model verbatim (:func:`model_history`).
- **Summary**: messages that fall out of that window are folded into a running summary, one
  line each, newest kept when it grows too long (:func:`fold_summary`).
- **Long-term facts**: durable facts the user told us (chronotype, free minutes, constraints,
  goals) are extracted from each message's understanding and merged (:func:`facts_from`,
  :func:`merge_facts`), then used in every later prompt and by the tools.
- **Context**: habits with their streaks, recent achievements, active plans, preferences and
  facts, rendered as data for the system prompt (:func:`render_context`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.agent.models import AssistantMessage, Message, UserMessage
from services.agent.tone import AIPreferences
from services.agent.understanding import Understanding

SUMMARY_MAX_CHARS = 2000
SUMMARY_LINE_CHARS = 160
MAX_GOALS = 5
MAX_CONSTRAINTS = 8
# A streak this long (in its unit) counts as an achievement worth mentioning.
ACHIEVEMENT_STREAK = 7


@dataclass(frozen=True)
class StoredMessage:
    """A message as memory sees it."""

    position: int
    role: str
    content: str
    created_on: date
    intent: str | None = None
    tools: tuple[str, ...] = ()


@dataclass(frozen=True)
class HabitStatus:
    """A habit and where it stands, for the context."""

    title: str
    current_streak: int | None = None
    streak_unit: str = "day"
    completion_rate_week: float | None = None


def model_history(messages: Sequence[StoredMessage]) -> list[Message]:
    """The stored messages as model messages (text only: tool calls were answered back then)."""
    out: list[Message] = []
    for m in messages:
        if m.role == "user":
            out.append(UserMessage(content=m.content))
        elif m.content:
            out.append(AssistantMessage(content=m.content))
    return out


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def summary_line(m: StoredMessage) -> str:
    """One line of the running summary for a message leaving the verbatim window."""
    day = m.created_on.isoformat()
    if m.role == "user":
        what = f" ({m.intent.replace('_', ' ')})" if m.intent else ""
        return f"- {day} user{what}: {_clip(m.content, SUMMARY_LINE_CHARS)}"
    did = f" [used {', '.join(m.tools)}]" if m.tools else ""
    return f"- {day} assistant{did}: {_clip(m.content, SUMMARY_LINE_CHARS)}"


def fold_summary(summary: str, leaving: Sequence[StoredMessage]) -> str:
    """Add the messages leaving the verbatim window to the summary; keep the newest lines."""
    lines = [line for line in summary.splitlines() if line.strip()]
    lines.extend(summary_line(m) for m in leaving)
    while lines and len("\n".join(lines)) > SUMMARY_MAX_CHARS:
        lines.pop(0)
    return "\n".join(lines)


def split_window(
    messages: Sequence[StoredMessage], keep: int
) -> tuple[list[StoredMessage], list[StoredMessage]]:
    """Split messages not yet summarised into (to fold into the summary, to keep verbatim)."""
    if len(messages) <= keep:
        return [], list(messages)
    cut = len(messages) - keep
    return list(messages[:cut]), list(messages[cut:])


def facts_from(u: Understanding, today: date) -> dict[str, Any]:
    """The durable facts one message states about its user.

    Args:
        u: The message's understanding.
        today: The user's date, stamped on goals.

    Returns:
        A subset of ``chronotype``, ``minutes_available``, ``constraints`` (list) and ``goals``
        (list of ``{text, domain, timeframe_days, noted_on}``).
    """
    facts: dict[str, Any] = {}
    if u.chronotype:
        facts["chronotype"] = u.chronotype
    if u.minutes_available:
        facts["minutes_available"] = u.minutes_available
    if u.constraints:
        facts["constraints"] = list(u.constraints)
    if u.intent == "goal_setting" and not u.refuse:
        facts["goals"] = [
            {
                "text": _clip(u.message, 200),
                "domain": u.domain,
                "timeframe_days": u.timeframe_days,
                "noted_on": today.isoformat(),
            }
        ]
    return facts


def merge_facts(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The facts to store: scalars replaced, constraints united, goals appended (latest kept).

    Returns only the keys that change.
    """
    changed: dict[str, Any] = {}
    for key, value in new.items():
        if key == "constraints":
            merged = list(dict.fromkeys([*old.get(key, []), *value]))[-MAX_CONSTRAINTS:]
            if merged != old.get(key):
                changed[key] = merged
        elif key == "goals":
            texts = {g["text"] for g in value}
            kept = [g for g in old.get(key, []) if g.get("text") not in texts]
            changed[key] = [*kept, *value][-MAX_GOALS:]
        elif old.get(key) != value:
            changed[key] = value
    return changed


def _habit_line(h: HabitStatus) -> str:
    parts = [h.title]
    if h.current_streak is not None:
        parts.append(
            f"streak {h.current_streak} {h.streak_unit}{'s' if h.current_streak != 1 else ''}"
        )
    if h.completion_rate_week is not None:
        parts.append(f"{round(100 * h.completion_rate_week)}% this week")
    return "; ".join(parts)


def achievements(habits: Sequence[HabitStatus]) -> list[str]:
    """Streaks worth celebrating, longest first."""
    strong = [h for h in habits if (h.current_streak or 0) >= ACHIEVEMENT_STREAK]
    strong.sort(key=lambda h: -(h.current_streak or 0))
    return [f"{h.current_streak}-{h.streak_unit} streak on {h.title}" for h in strong[:3]]


def render_context(
    *,
    today: date,
    display_name: str | None,
    habits: Sequence[HabitStatus],
    facts: dict[str, Any],
    preferences: AIPreferences | None,
    plans: Sequence[str] = (),
) -> str:
    """The user context block of the system prompt: facts as data, one per line."""
    lines = [f"Today: {today.isoformat()}."]
    if display_name:
        lines.append(f"Name: {display_name}.")
    if habits:
        lines.append("Active habits: " + " | ".join(_habit_line(h) for h in habits) + ".")
    else:
        lines.append("Active habits: none yet.")
    wins = achievements(habits)
    if wins:
        lines.append("Recent achievements: " + "; ".join(wins) + ".")
    if plans:
        lines.append("Active plans: " + "; ".join(plans) + ".")
    goals = facts.get("goals") or []
    if goals:
        lines.append("Goals they told us: " + "; ".join(g["text"] for g in goals) + ".")
    if facts.get("chronotype"):
        lines.append(f"Chronotype: {facts['chronotype']} person.")
    if facts.get("minutes_available"):
        lines.append(f"Free time: about {facts['minutes_available']} minutes a day.")
    if facts.get("constraints"):
        lines.append("Constraints: " + ", ".join(facts["constraints"]) + ".")
    if preferences is not None:
        lines.append(
            f"Preferences: {preferences.communication_style} style, "
            f"{preferences.detail_level} detail, emoji {preferences.emoji_preference}."
        )
    return "\n".join(lines)
