"""When the understanding is unsure: the threshold and the one clarifying question to ask.

Below :data:`CLARIFY_BELOW` the offline planner calls no tool (so no write happens on a guess) and
asks the question :func:`clarifying_question` writes, shaped by the intent it leaned towards.
"""

from __future__ import annotations

from services.agent.nlu.schema import Understanding

CLARIFY_BELOW = 0.42

_QUESTIONS: dict[str, str] = {
    "goal_setting": (
        "Just to be sure I build the right thing: is this a goal you'd like a step-by-step habit "
        "plan for?"
    ),
    "habit_action": (
        "Do you want me to create a new habit, log one you've done, or change an existing one?"
    ),
    "progress_analysis": "Would you like a look at your progress, and for which habit?",
    "troubleshooting": (
        "Is one of your habits not working out? Tell me which one and what gets in the way."
    ),
    "schedule_adjustment": "Do you want to move a habit to another time? Which one, and when?",
    "integration": "Is this about data from a connected app or device? Which one?",
    "insights": "Would you like a chart, a prediction, or some habit science on this?",
}
_DEFAULT = (
    "I want to get this right: would you like to set a goal, work on a habit, or look at your "
    "progress?"
)


def needs_clarifying(u: Understanding) -> bool:
    """Whether the intent is too uncertain to act on (refusals are always certain enough)."""
    return not u.refuse and u.intent != "out_of_scope" and u.confidence < CLARIFY_BELOW


def clarifying_question(u: Understanding) -> str:
    """One question that would settle what the user wants."""
    return _QUESTIONS.get(u.intent, _DEFAULT)
