"""Understanding of one chat message: the public face of :mod:`services.agent.nlu`.

The offline planner, the service, memory, tone and the tools import from here; the work is done
by the ``nlu`` package (a trained intent and signal classifier over MiniLM sentence embeddings,
blended with scored cue rules, and entity extractors), split by purpose. See docs/agent.md.
"""

from services.agent.nlu.assemble import understand
from services.agent.nlu.habits import match_habits
from services.agent.nlu.schema import (
    INTENTS,
    Chronotype,
    Domain,
    HabitAction,
    HabitIssue,
    InsightKind,
    Intent,
    Metric,
    RefusalReason,
    ScheduleHint,
    Sentiment,
    SentimentLabel,
    Understanding,
)
from services.agent.nlu.scope import refusal_message
from services.agent.nlu.timeframes import add_months

__all__ = [
    "INTENTS",
    "Chronotype",
    "Domain",
    "HabitAction",
    "HabitIssue",
    "InsightKind",
    "Intent",
    "Metric",
    "RefusalReason",
    "ScheduleHint",
    "Sentiment",
    "SentimentLabel",
    "Understanding",
    "add_months",
    "match_habits",
    "refusal_message",
    "understand",
]
