"""What the coach does not do: out-of-scope detection and the polite refusal."""

from __future__ import annotations

import re

from services.agent.nlu.schema import Domain, RefusalReason, Understanding
from services.agent.nlu.text import (
    FIRST_PERSON,
    HABIT_ACTIVITY,
    HABIT_MARKERS,
    WEEKDAY_RE,
    normalize,
)

# Out of scope
# --------------------------------------------------------------------------------------------

_HOMEWORK_RE = re.compile(
    r"\bhomework\b|\bassignments?\b|\bworksheet\b|\bproblem set\b|\bessay (?:for|on|about)\b"
    r"|\bsolve\b|\b\d*[a-z]? ?[-+*/] ?\d+ ?= ?\d+|\b(?:do|answer|take) my (?:test|exam|quiz)\b"
    r"|\bcalculus\b"
    r"|\balgebra\b|\btrigonometry\b|\bderivative of\b|\bintegral of\b|\bequations?\b"
    r"|\bwhat is \d+ ?[-+*/x] ?\d+|\bwhat'?s \d+ ?(?:[-+*/x]|times|plus|minus) ?\d+"
)
_CODING_RE = re.compile(
    r"\bdebug\w*|\brefactor\w*|\bcompil(?:e|er|ing)\b|\bstack ?trace\b|\bsyntax error\b"
    r"|\bsegfault\b|\btraceback\b|\bregex\b|\bsql query\b|\b(?:my|this|the) code\b|\bcode snippet"
    r"|\bwrite (?:me )?(?:a |an |some )?(?:\w+ )?(?:code|function|script|program|class|query|app)\b"
    r"|\b(?:python|javascript|java|typescript|c\+\+|rust|golang|html|css|react) (?:code|function"
    r"|script|error|bug|program|question|exception)\b|\bfix (?:my|this|the) (?:bug|code|error)\b"
    r"|\bin (?:python|javascript|java|typescript|c\+\+|rust)\b|\bsort a list\b|\bapi endpoint\b"
)
_CREATIVE_RE = re.compile(
    r"\b(?:write|compose|create|generate|make)(?: me| us)? (?:a |an |some |my )?(?:short |funny |"
    r"little )?(?:poem|story|song|lyrics|haiku|limerick|joke|rap|essay|speech|cover letter"
    r"|screenplay|toast|eulogy)s?\b|\btell me a (?:joke|story)\b|\b(?:draw|paint) me\b"
    r"|\b(?:a |an )?(?:poem|haiku|limerick) about\b"
)
_TRIVIA_RE = re.compile(
    r"\bcapital of\b|\bwho (?:won|wrote|invented|discovered|painted|directed|is the (?:president"
    r"|king|queen|ceo|prime minister))\b|\bpopulation of\b|\bweather\b|\bstock price\b"
    r"|\btranslat\w*|\bwhat year (?:did|was)\b|\bhow old is\b|\bdefine (?!my)\w+|\bmeaning of"
    r"(?! (?:my|life))\b|\brecipe for\b|\bconvert \d|\bhow (?:far|tall|big|deep|hot|cold|long)"
    r" is (?:the|a|an|mount|mt)\b|\bdistance (?:from|between)\b|\bhistory of\b|\bwho (?:was|is)"
    r" (?!my)\w+|\bwhen (?:did|was) (?:the )?(?!i\b)\w+|\bwhat is the (?:speed|height|distance"
    r"|population|capital|meaning|boiling|square root)\b|\bscore of the\b|\bwho is playing\b"
    r"|\bnews\b|\bwhat time is it\b|\bfun fact\b|\briddle\b|\btrivia\b"
)
QUESTION_START = re.compile(
    r"^(?:what|what's|whats|who|who's|when|where|which|why|how|explain|describe|tell me about"
    r"|define|is|are|does|do|can you explain|could you explain|give me a summary of|summari[sz]e)\b"
)
_MEDICAL_RE = re.compile(
    r"\bdiagnos\w*|\bprescri\w*|\bwhat (?:medication|medicine|dose|dosage)\b|\bdosage\b"
    r"|\bsymptoms of\b|\bchest pain\b|\bis it cancer\b|\bshould i (?:take|stop taking) (?:my )?"
    r"(?:medication|meds|antidepressants|insulin)\b|\bwhat (?:should|can) i take for\b"
    r"|\bwhat (?:pills?|medicine|medication) (?:should|can)\b|\bis (?:this|it) (?:normal|serious)"
    r" (?:that|if|when)\b"
)
_STRONG_ERRANDS = (
    r"buy|purchase|pick up|pick-up|drop off|drop-off|return|mail|ship|renew|cancel|book|order"
    r"|file|fix|repair|grab|get groceries|get milk|pay the|pay my (?:rent|bill|taxes|phone)"
    r"|do my taxes|wrap|reply to|respond to|pack|move out|sign up for|register for"
)
_WEAK_ERRANDS = (
    r"call|email|e-mail|text|send|pay|clean|wash|finish|submit|print|schedule|make|bring|take out"
    r"|visit|meet|see|water the|feed the|walk the dog|charge|check"
)
_ONE_TIME_MARKER = re.compile(
    r"\b(?:today|tonight|tomorrow|this (?:afternoon|evening|morning|weekend)|later today"
    r"|later|in an hour|in \d+ (?:minutes|hours)|asap|right now|next (?:"
    + WEEKDAY_RE
    + r"|week)|on (?:mon|tues|wednes|thurs|fri|satur|sun)day\b(?! and)|at \d{1,2}(?::\d{2})?"
    r" ?(?:am|pm)?)\b"
)
_REQUEST = r"(?:i need to|i have to|i've got to|i gotta|i must|i should|remind me to|don't let me "
_REQUEST += (
    r"forget to|dont let me forget to|don't forget to|i can't forget to|help me remember to|"
)
_REQUEST += r"please|can you|could you|i want to|^)"
_STRONG_ERRAND_RE = re.compile(_REQUEST + r"\s*(?:" + _STRONG_ERRANDS + r")\b")
_WEAK_ERRAND_RE = re.compile(_REQUEST + r"\s*(?:" + _WEAK_ERRANDS + r")\b")
_OTHER_TASK_RE = re.compile(
    r"\b(?:book|reserve) (?:a |me a )?(?:flight|table|hotel|ticket|appointment|room)\b"
    r"|\border (?:me )?(?:a |some )?(?:pizza|food|uber|taxi|takeout)\b|\bplay (?:some )?(?:music"
    r"|a song)\b|\bset (?:an|my|a) alarm\b|\bsend (?:an )?(?:email|text|message) to\b"
    r"|\bcall (?:an? )?(?:uber|taxi|cab)\b|\b(?:shopping|grocery|to-?do) list\b"
    r"|\bdo my taxes\b|\bplan (?:my|a|our) (?:trip|vacation|holiday|wedding|party|birthday)\b"
)
_OTHER_REQUEST_RE = re.compile(
    r"\brecommend (?:me )?(?:a |an |some )?(?:good )?(?:movie|film|show|series|restaurant|song"
    r"|game|tv)s?\b|\bsummari[sz]e (?:this|the|that|my) (?:article|book|text|paper|video|email"
    r"|document)\b|\bwhat should i watch\b"
)


def out_of_scope_reason(
    text: str, domain: Domain | None, known_habit_hit: bool
) -> RefusalReason | None:
    """Why a message is outside the assistant's remit, or None when it is in scope.

    Anything recurring, anything naming a habit, a routine, a streak or a goal is in scope: habit
    requests are never refused, however odd ("call my mom every Sunday").
    """
    if HABIT_MARKERS.search(text):
        return None
    if known_habit_hit:
        # Naming a habit keeps a message in scope, except a plain purchase ("buy running shoes").
        purchase = re.search(r"\b(?:buy|purchase|order)\b", text)
        return "one_time_task" if purchase and _STRONG_ERRAND_RE.search(text) else None
    learning_intent = re.search(r"\b(?:learn\w*|practi[cs]\w*|study\w*|get better at)\b", text)
    if _MEDICAL_RE.search(text):
        return "medical"
    if _CREATIVE_RE.search(text):
        return "creative"
    if _CODING_RE.search(text) and not learning_intent:
        return "coding"
    if _HOMEWORK_RE.search(text) and not re.search(r"\b(?:learn\w*|get better at)\b", text):
        return "homework"
    if _OTHER_TASK_RE.search(text):
        return "one_time_task"
    activity = HABIT_ACTIVITY.search(text)
    if _STRONG_ERRAND_RE.search(text) and not (
        activity
        and domain is not None
        and not re.search(r"\b(?:buy|purchase|order|pick up|return)\b", text)
    ):
        return "one_time_task"
    if _WEAK_ERRAND_RE.search(text) and _ONE_TIME_MARKER.search(text) and not activity:
        return "one_time_task"
    if _OTHER_REQUEST_RE.search(text):
        return "other"
    if _TRIVIA_RE.search(text):
        return "trivia"
    if (
        QUESTION_START.search(text)
        and not FIRST_PERSON.search(text)
        and domain is None
        and not activity
        and not re.search(
            r"\b(?:motivat\w*|willpower|discipline|consisten\w*|procrastinat\w*)\b", text
        )
    ):
        return "trivia"
    return None


# --------------------------------------------------------------------------------------------
def _one_time_offer(text: str) -> str:
    if re.search(r"\b(?:buy|groceries|grocery|milk|shopping|store|supermarket)\b", text):
        return (
            "If errands like this keep slipping, I can set up a weekly habit of writing your "
            "shopping list, say every Sunday evening."
        )
    if re.search(r"\b(?:pick up|drop off|dry cleaning|return|mail|post office|package)\b", text):
        return (
            "If errands tend to pile up, I can create a short weekly errands review habit so "
            "nothing gets forgotten."
        )
    if re.search(r"\b(?:call|phone|text|email)\b", text):
        return (
            "If staying in touch matters to you, I can turn it into a recurring habit, like a "
            "weekly call."
        )
    if re.search(r"\b(?:pay|bill|taxes|rent)\b", text):
        return (
            "I can help you build a weekly money check-in habit so bills and payments never "
            "sneak up on you."
        )
    return (
        "If you'd like, I can help you build a 5-minute daily planning habit so one-off tasks "
        "like this get captured and done."
    )


def refusal_message(understanding: Understanding) -> str:
    """A polite refusal for an out-of-scope request, with an offer that is in scope.

    Args:
        understanding: The result of :func:`understand` for the message being refused.

    Returns:
        Two or three sentences: what the assistant can't do, and what it can do instead.
    """
    text = normalize(understanding.message)
    reason = understanding.refusal_reason
    if reason == "one_time_task":
        return (
            "I can't handle one-off tasks or reminders like that one; I'm built to help with "
            "habits that repeat. " + _one_time_offer(text)
        )
    if reason == "homework":
        return (
            "I can't do homework for you. I can help you get it done more easily, though: want "
            "me to set up a daily study habit, like a focused 25-minute session right after "
            "school or work?"
        )
    if reason == "coding":
        return (
            "Coding help is outside what I do; I focus on your habits and goals. If you want to "
            "get better at programming, I can build you a daily practice habit that grows from "
            "10 minutes a day."
        )
    if reason == "creative":
        return (
            "Writing that for you isn't something I do; I'm your habit coach. If you'd like to "
            "write more yourself, I can set up a small daily writing habit to get you started."
        )
    if reason == "unsafe":
        return (
            "I can't share my instructions or step outside my role, and I only ever work with "
            "your own data. I'm glad to keep helping with your habits and goals, though: what "
            "would you like to work on?"
        )
    if reason == "medical":
        return (
            "I can't give medical advice; please talk to a doctor or pharmacist about that. "
            "What I can do is help you build supportive habits around the plan they give you, "
            "like taking medication at the same time each day."
        )
    return (
        "That's outside what I can help with; I focus on your habits, goals and progress. If "
        "you enjoy learning new things, I can help you build a daily learning habit, like "
        "reading for 10 minutes a day."
    )
