"""Blending the trained heads with the cue rules into one decision per field.

The heads generalise to phrasings nobody wrote a rule for; the cue rules are precise on the
phrasings they know. The intent is the argmax of a weighted mix of the two distributions (the
rules' confidence on their intent, the rest spread evenly), so a confident rule and a confident
head must disagree strongly before either overrides the other, and a message no cue matches is
decided by the head. Signals are the rule's finding, or the head's when it is confident.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.agent.nlu.dataset import HEAD_INTENTS
from services.agent.nlu.schema import (
    INTENTS,
    Chronotype,
    HabitAction,
    Intent,
    RefusalReason,
    Sentiment,
)

HEAD_WEIGHT = 0.6
UNSAFE_AT = 0.5  # head probability of "unsafe" that makes a refusal
OUT_OF_SCOPE_AT = 0.75  # head probability of "out_of_scope" that refuses what the rules let by
SIGNAL_AT = 0.85  # head probability for a signal the rules did not find
_SCOPED: tuple[Intent, ...] = tuple(i for i in INTENTS if i != "out_of_scope")
_ACTIONS: frozenset[str] = frozenset(
    ("create", "log", "add_sub_habits", "assign_tags", "suggest_tags", "remind", "update", "delete")
)
_REASONS: frozenset[str] = frozenset(
    ("trivia", "homework", "coding", "creative", "one_time_task", "medical", "other")
)


@dataclass(frozen=True, slots=True)
class Decision:
    intent: Intent
    confidence: float
    reason: RefusalReason | None


def _best(probs: dict[str, float]) -> str:
    return max(probs, key=probs.__getitem__)


def mix(rule_intent: str, rule_confidence: float, head: dict[str, float]) -> dict[str, float]:
    """The blended distribution over :data:`HEAD_INTENTS`."""
    rest = (1.0 - rule_confidence) / (len(HEAD_INTENTS) - 1)
    return {
        i: HEAD_WEIGHT * head.get(i, 0.0)
        + (1.0 - HEAD_WEIGHT) * (rule_confidence if i == rule_intent else rest)
        for i in HEAD_INTENTS
    }


def decide_scope(
    rule_reason: RefusalReason | None, heads: dict[str, dict[str, float]], *, has_domain: bool
) -> RefusalReason | None:
    """Why to refuse, from the rules' reason and the intent and reason heads.

    The head alone refuses only a message with no goal domain: "pay off my credit card debt"
    is a goal however much it looks like an errand.
    """
    intent = heads.get("intent", {})
    if intent.get("unsafe", 0.0) >= UNSAFE_AT:
        return "unsafe"
    if rule_reason is not None:
        return rule_reason
    if not has_domain and intent.get("out_of_scope", 0.0) >= OUT_OF_SCOPE_AT:
        reason = _best(heads["reason"]) if heads.get("reason") else "other"
        return reason if reason in _REASONS else "other"  # type: ignore[return-value]
    return None


def decide_intent(
    rule_intent: Intent, rule_confidence: float, heads: dict[str, dict[str, float]]
) -> tuple[Intent, float]:
    """The in-scope intent and its confidence, blended."""
    head = heads.get("intent")
    if not head:
        return rule_intent, rule_confidence
    blended = mix(rule_intent, rule_confidence, head)
    scoped = {i: blended[i] for i in _SCOPED}
    best = max(scoped, key=scoped.__getitem__)
    return best, round(scoped[best] / max(1e-9, sum(scoped.values())), 2)


def decide_action(
    rule_intent: Intent, rule_action: HabitAction | None, heads: dict[str, dict[str, float]]
) -> HabitAction:
    """Which habit action: the rules' when they saw a habit action, else the action head's."""
    if rule_intent == "habit_action" and rule_action is not None:
        return rule_action
    head = heads.get("action")
    if head:
        best = _best(head)
        if best in _ACTIONS:
            return best  # type: ignore[return-value]
    return rule_action or "create"


def decide_flag(rule: bool, heads: dict[str, dict[str, float]], name: str) -> bool:
    """A yes/no signal: the rules', or the head's when it is confident."""
    return rule or heads.get(name, {}).get("true", 0.0) >= SIGNAL_AT


def decide_chronotype(
    rule: Chronotype | None, heads: dict[str, dict[str, float]]
) -> Chronotype | None:
    if rule is not None:
        return rule
    head = heads.get("chronotype", {})
    best = _best(head) if head else "none"
    if best in ("morning", "evening") and head[best] >= SIGNAL_AT:
        return best  # type: ignore[return-value]
    return None


def decide_sentiment(rule: Sentiment, heads: dict[str, dict[str, float]]) -> Sentiment:
    """The lexicon's sentiment, unless it saw nothing and the head is confident."""
    head = heads.get("sentiment", {})
    frustration = decide_flag(rule.frustration, heads, "frustration")
    if rule.label == "neutral" and head:
        best = _best(head)
        if best != "neutral" and head[best] >= SIGNAL_AT:
            score = 0.4 if best == "positive" else -0.4
            return Sentiment(label=best, score=score, frustration=frustration)
    if frustration and rule.label != "negative":
        return Sentiment(label="negative", score=min(rule.score, -0.4), frustration=True)
    return Sentiment(label=rule.label, score=rule.score, frustration=frustration)
