"""Which tools one chat turn may use: excessive agency (OWASP LLM08) kept in check.

Text that reaches the model from anywhere but the user (a habit's name, a retrieved passage, a
tool result) can carry instructions, and a model may follow them. So what a turn may *change*
is decided here, from the user's own message as the understanding reads it, never by the model:

- the read-only tools (progress, charts, predictions, timing, knowledge, health data, tag
  ideas) on every turn: they act only for the turn's user and change nothing;
- the write tools the message asks for: a goal may make a plan and habits, a habit action may
  create, log, add steps, tag or set a reminder, a reminder request may set or stop one;
- ``archive_habit`` only when the user's words ask to delete, archive or remove something;
  even then it only proposes (a confirmation card the user accepts, docs/agent.md).

A message the understanding is unsure of (a short reply such as "yes" or "7am") continues the
user's previous message and gets its tools; with nothing before it, reads only. The model is
offered only the permitted tools, and a call to any other is answered ``not_permitted`` without
running (services/agent/loop.py).
"""

from __future__ import annotations

import re

from services.agent.nlu.clarify import needs_clarifying
from services.agent.reminder_requests import is_reminder_request
from services.agent.tools import HABIT_WRITE_TOOLS, TOOLS
from services.agent.understanding import Understanding

READ_TOOLS = frozenset(TOOLS) - HABIT_WRITE_TOOLS
_WRITES_BY_INTENT: dict[str, frozenset[str]] = {
    "goal_setting": frozenset(
        {"create_habit_sequence", "create_habit", "add_sub_habits", "assign_tags"}
    ),
    "habit_action": frozenset(
        {"create_habit", "log_habit", "add_sub_habits", "assign_tags", "set_reminder"}
    ),
}
_DESTROY = re.compile(
    r"\b(?:delete|archive|remove|erase|get rid of|drop|stop tracking|no longer track)\b"
)


def permitted_tools(u: Understanding, earlier: Understanding | None = None) -> frozenset[str]:
    """The tools a turn may run, from the user's message (and, if it is unclear, the one before).

    Args:
        u: The understanding of the message being answered.
        earlier: The understanding of the user's previous message in the conversation, if any.

    Returns:
        Tool names: always the read-only ones, plus the writes the user asked for.
    """
    if needs_clarifying(u):
        return permitted_tools(earlier) if earlier is not None else READ_TOOLS
    if u.refuse or u.intent == "out_of_scope":
        return READ_TOOLS
    allowed = set(READ_TOOLS) | _WRITES_BY_INTENT.get(u.intent, frozenset())
    if is_reminder_request(u):
        allowed |= {"set_reminder", "create_habit"}
    if u.action == "delete" or _DESTROY.search(u.message.lower()):
        allowed.add("archive_habit")
    return frozenset(allowed)
