"""The offline planner's reminder requests, turned into ``set_reminder`` calls and replies.

"Remind me to meditate at 7", "move my reading reminder to 9pm" and "stop reminding me about X"
become ``set_reminder`` calls, and their results a sentence of the reply.

A reminder for a habit the user does not have yet first creates the habit (the planner's usual
create path), then sets the reminder on it; a stop request about no known habit calls nothing and
the reply asks which habit is meant, since deleting on a guess is worse than asking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from services.agent.nlu.schema import Understanding
from services.agent.reminder_times import reminder_op, time_phrase

Calls = list[tuple[str, dict[str, Any]]]
_MENTIONS_REMINDER = re.compile(r"\bremind(?:er|ers|ing)?\b|\bnotify me\b|\balert me\b")


def is_reminder_request(u: Understanding) -> bool:
    """Whether the message asks to set, move or stop a reminder."""
    if u.intent == "habit_action" and u.action == "remind":
        return True
    # "move my reading reminder to 9pm" reads as a schedule change; it is the reminder's.
    return u.intent == "schedule_adjustment" and bool(_MENTIONS_REMINDER.search(u.message.lower()))


def plan_reminder(
    u: Understanding,
    habit: str | None,
    create: Callable[[Understanding], Calls],
) -> Calls:
    """The calls for a reminder request.

    Args:
        u: The understood message.
        habit: The existing habit it names, if any.
        create: The planner's create-habit calls for a request that names a new habit.
    """
    op = reminder_op(u.message)
    if op == "stop":
        return [("set_reminder", {"habit_id": habit, "action": "stop"})] if habit else []
    phrase = time_phrase(u.message) or (u.schedule.time_of_day if u.schedule else None)
    if habit is not None:
        return [("set_reminder", {"habit_id": habit, "time": phrase})] if phrase else []
    if u.new_habit_title is None:
        return []
    calls = create(u.model_copy(update={"action": "create"}))
    if phrase:
        calls.append(("set_reminder", {"habit_id": u.new_habit_title, "time": phrase}))
    return calls


def describe_reminder(data: dict[str, Any]) -> str:
    """One sentence about a ``set_reminder`` result."""
    at = data["reminder"]["time"]
    if data["created"]:
        return (
            f"I'll remind you about {data['habit']} at {at} each day it's due (skipped once "
            "it's done)."
        )
    return f"Your {data['habit']} reminder is now at {at}."


def unplanned_reply(u: Understanding, known_habits: Sequence[str]) -> str:
    """What to say when a reminder request could not be turned into a call."""
    if reminder_op(u.message) == "stop":
        names = ", ".join(known_habits[:5]) or "none yet"
        return f"Which habit's reminder should I stop? Your habits: {names}."
    return "What time should I remind you? For example 7am, 21:30 or after lunch."
