"""Which tools one chat turn may use: excessive agency (OWASP LLM08) kept in check.

Text that reaches the model from anywhere but the user (a habit's name, a retrieved passage, a
tool result) can carry instructions, and a model may follow them. So what a turn may *change*
is decided here, from the user's own message as the understanding reads it, never by the model:

- the read-only tools (progress, charts, predictions, timing, knowledge, health data, tag
  ideas) on every turn: they act only for the turn's user and change nothing;
- the write tools the message asks for: its habit action (create: the habit, its steps, tags
  and reminder; log; add steps; tag; remind; delete), a reminder request's ``set_reminder``,
  a goal's draft plan (and, said as a request, its habits), and what its words name besides
  ("…and remind me at 7", "…and log it", "…tag it", "…delete X");
- a question ("does…", "how…", "…?") only reads, except that a goal may get a draft plan;
- ``archive_habit`` and a reminder stop only ever propose: a confirmation card the user
  accepts (docs/agent.md).

A message the understanding is unsure of (a short reply such as "yes" or "7am") continues the
user's previous message and gets its tools; with nothing before it, reads only. The model is
offered only the permitted tools, and a call to any other is answered ``not_permitted`` without
running (services/agent/loop.py).
"""

from __future__ import annotations

import re

from services.agent.nlu.clarify import needs_clarifying
from services.agent.nlu.scope import QUESTION_START
from services.agent.reminder_requests import is_reminder_request
from services.agent.tools import HABIT_WRITE_TOOLS, TOOLS
from services.agent.understanding import Understanding

READ_TOOLS = frozenset(TOOLS) - HABIT_WRITE_TOOLS
# The writes each habit action asks for ("create a morning routine with stretch and journal at
# 7am": the habit, its steps, its tags, its reminder).
_BY_ACTION: dict[str, frozenset[str]] = {
    "create": frozenset({"create_habit", "add_sub_habits", "assign_tags", "set_reminder"}),
    "log": frozenset({"log_habit"}),
    "add_sub_habits": frozenset({"add_sub_habits"}),
    "assign_tags": frozenset({"assign_tags"}),
    "remind": frozenset({"set_reminder"}),
    "delete": frozenset({"archive_habit"}),
}
# Words in the user's own message that ask for a write besides the main action.
_DESTROY = re.compile(
    r"\b(?:delete|archive|remove|erase|get rid of|drop|stop tracking|no longer track)\b"
)
_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bremind(?:er|ers|ing)?\b"), "set_reminder"),
    (re.compile(r"\b(?:log|logged|mark|tick)\b"), "log_habit"),
    (re.compile(r"\btag(?:s|ged)?\b"), "assign_tags"),
    (_DESTROY, "archive_habit"),
)


# "Can you remind me at 7?" asks for something, politely; "can you explain…" asks about it.
_POLITE_REQUEST = re.compile(
    r"^(?:please,? )?(?:can|could|would|will) you (?:please )?(?!explain|tell|describe|say)"
)


def asks_a_question(text: str) -> bool:
    """Whether the message asks about something ("does…", "how…", "…?") rather than for it."""
    lower = " ".join(text.lower().split())
    if _POLITE_REQUEST.match(lower):
        return False
    return lower.endswith("?") or bool(QUESTION_START.match(lower))


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
    allowed = set(READ_TOOLS)
    question = asks_a_question(u.message)
    if u.intent == "goal_setting":
        allowed.add("create_habit_sequence")  # a draft: nothing changes until it is activated
        if not question:
            allowed |= {"create_habit", "add_sub_habits", "assign_tags"}
    if question:
        return frozenset(allowed)
    if u.intent == "habit_action" and u.action is not None:
        allowed |= _BY_ACTION.get(u.action, frozenset())
    if is_reminder_request(u):
        allowed.add("set_reminder")
        if u.new_habit_title and not u.habit_names:  # "remind me to floss at 9": a new habit
            allowed.add("create_habit")
    lower = u.message.lower()
    allowed |= {tool for cue, tool in _CUES if cue.search(lower)}
    return frozenset(allowed)
