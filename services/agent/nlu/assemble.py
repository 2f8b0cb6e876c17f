"""Assembly: one message in, one :class:`Understanding` out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from services.agent.nlu.blend import (
    decide_action,
    decide_chronotype,
    decide_flag,
    decide_intent,
    decide_scope,
    decide_sentiment,
)
from services.agent.nlu.cues import score_intent
from services.agent.nlu.domains import detect_domain
from services.agent.nlu.habits import (
    find_constraints,
    find_schedule,
    find_sub_habits,
    habit_title,
    match_habits,
    mentioned_habits,
)
from services.agent.nlu.heads import predict
from services.agent.nlu.quantities import find_metric, find_minutes_available
from services.agent.nlu.schema import HabitAction, Intent, Understanding
from services.agent.nlu.scope import out_of_scope_reason
from services.agent.nlu.signals import analyse_sentiment, find_chronotype
from services.agent.nlu.slots import find_insight_kind, find_integration, find_issue, find_tags
from services.agent.nlu.text import normalize
from services.agent.nlu.timeframes import find_deadline, find_lookback, parsed_deadline


def _heads(message: str) -> dict[str, dict[str, float]]:
    """The heads' probabilities, or none when the artifact is missing (rules alone then)."""
    try:
        return predict(message)
    except OSError:
        return {}


def understand(message: str, today: date, known_habits: Sequence[str] = ()) -> Understanding:
    """Understand one user message.

    Args:
        message: The user's text, as typed.
        today: The user's local calendar date; relative time frames resolve against it.
        known_habits: Titles of the user's existing habits, so "my reading habit" can be matched.

    Returns:
        The intent with a confidence, the extracted entities, the sentiment, and whether the
        request is out of scope (to be refused politely).
    """
    text = normalize(message)
    minutes, minutes_span = find_minutes_available(text)
    metric = find_metric(text, minutes_span)
    domain, subdomain, subject = detect_domain(text, metric)
    deadline = find_deadline(text, today)
    if deadline is None:
        deadline = parsed_deadline(message, today)
    timeframe_days = (deadline - today).days if deadline is not None else None
    habits = mentioned_habits(text, known_habits)
    known_hit = bool(match_habits(text, known_habits))
    schedule = find_schedule(text)
    sentiment, achievement = analyse_sentiment(text, message)
    sub_habits = find_sub_habits(text)

    heads = _heads(message)
    sentiment = decide_sentiment(sentiment, heads)
    achievement = decide_flag(achievement, heads, "achievement") and sentiment.label != "negative"
    reason = decide_scope(
        out_of_scope_reason(text, domain, known_hit), heads, has_domain=domain is not None
    )
    if reason is not None:
        intent: Intent = "out_of_scope"
        confidence = 0.85
        action: HabitAction | None = None
    else:
        intent, confidence, action = score_intent(
            text,
            domain=domain,
            has_target=deadline is not None or metric is not None,
            known_habit_hit=known_hit,
            schedule=schedule,
            sentiment=sentiment,
            achievement=achievement,
        )
        rule_intent, rule_action = intent, action
        intent, confidence = decide_intent(rule_intent, confidence, heads)
        action = (
            decide_action(rule_intent, rule_action, heads) if intent == "habit_action" else None
        )
    if reason is not None:
        # Entities of a refused message describe no goal; storing them would only mislead memory.
        domain = subdomain = subject = None
        metric = None
    if intent in ("progress_analysis", "integration"):
        # "this month" in a progress question looks back; it is not a goal's time frame.
        deadline, timeframe_days = None, None
    new_title = None
    if intent == "habit_action" and action in ("create", "remind"):
        new_title = habit_title(text, routine=bool(re.search(r"\broutine\b", text)))
    return Understanding(
        message=message,
        intent=intent,
        confidence=confidence,
        action=action,
        domain=domain,
        subdomain=subdomain,
        subject=subject,
        timeframe_days=timeframe_days,
        deadline=deadline,
        lookback_days=find_lookback(text)
        if intent in ("progress_analysis", "insights", "integration", "troubleshooting")
        else None,
        metric=metric,
        chronotype=decide_chronotype(find_chronotype(text), heads),
        minutes_available=minutes,
        constraints=find_constraints(text),
        habit_names=habits,
        new_habit_title=new_title,
        sub_habits=sub_habits,
        schedule=schedule,
        sentiment=sentiment,
        achievement=achievement,
        refuse=reason is not None,
        refusal_reason=reason,
        tags=find_tags(text) if action in ("assign_tags", "create") else (),
        integration=find_integration(text),
        issue=find_issue(text) if intent in ("troubleshooting", "motivation") else None,
        insight_kind=find_insight_kind(text) if intent == "insights" else None,
    )
