"""The data model of one understood message: intents, entities, sentiment."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

Intent = Literal[
    "goal_setting",
    "habit_action",
    "progress_analysis",
    "troubleshooting",
    "motivation",
    "schedule_adjustment",
    "integration",
    "insights",
    "out_of_scope",
]
Domain = Literal["fitness", "learning", "financial", "wellness", "productivity"]
Chronotype = Literal["morning", "evening"]
SentimentLabel = Literal["negative", "neutral", "positive"]
HabitAction = Literal[
    "create", "log", "add_sub_habits", "assign_tags", "suggest_tags", "remind", "update", "delete"
]
HabitIssue = Literal["too_hard", "no_time", "forgot", "unmotivated"]
InsightKind = Literal["visualization", "prediction", "knowledge", "summary"]
RefusalReason = Literal[
    "trivia", "homework", "coding", "creative", "one_time_task", "medical", "unsafe", "other"
]

INTENTS: tuple[Intent, ...] = get_args(Intent)

_FROZEN = ConfigDict(frozen=True)


class Metric(BaseModel):
    """A measurable quantity named in a message, in a canonical unit.

    Units are ``lb``, ``kg``, ``km``, ``mi``, ``usd``, ``eur``, ``gbp``, ``hours``, ``minutes``,
    ``steps``, ``glasses``, or else the counted noun in lower-case plural (``books``, ``pull-ups``).
    """

    model_config = _FROZEN

    value: int | float
    unit: str
    per: str | None = None


class ScheduleHint(BaseModel):
    """When a habit should happen, as far as the message says.

    ``days`` uses the API's weekday codes (``mon`` … ``sun``); ``times`` per ``every`` ``unit``
    mirrors the API's interval schedule; ``time_of_day`` is ``morning``, ``afternoon``,
    ``evening``, ``night`` or a clock time ``HH:MM``.
    """

    model_config = _FROZEN

    days: tuple[str, ...] = ()
    times: int | None = None
    every: int = 1
    unit: Literal["day", "week", "month", "year"] | None = None
    time_of_day: str | None = None


class Sentiment(BaseModel):
    """The feeling of a message: a label, a score in [-1, 1] and whether the user is frustrated."""

    model_config = _FROZEN

    label: SentimentLabel
    score: float
    frustration: bool


class Understanding(BaseModel):
    """Everything the assistant understood from one message.

    Attributes:
        intent: What the user wants, one of :data:`INTENTS`, with ``confidence`` in [0, 1].
        action: For ``habit_action``, which one: create, log, add_sub_habits, assign_tags,
            suggest_tags, remind, update or delete.
        domain: The goal domain; ``subdomain`` refines it (running, language, saving, sleep…)
            and ``subject`` names what it is about ("Spanish", "guitar", "smoking", "5K").
        timeframe_days: Days from today to ``deadline`` when the message sets one.
        lookback_days: For progress, insight and integration questions, how far back they look.
        metric: The main quantity named, in a canonical unit.
        chronotype: ``morning`` or ``evening`` when the user describes themselves.
        minutes_available: Free minutes per day the user says they have.
        constraints: Limitations that shape a plan ("bad knee", "no gym", "works night shifts").
        habit_names: Existing habits the message refers to (their titles), then other habits
            named as "my … habit".
        new_habit_title: The title a create or remind request implies.
        sub_habits: Items of a routine ("meditate, journal, and stretch").
        schedule: Weekdays, frequency and time of day named.
        achievement: Whether the user reports an achievement (a streak, a milestone).
        refuse: Whether the request is out of scope; ``refusal_reason`` says why.
        tags: Tag names in a tagging request.
        integration: The connected app or device named ("fitbit", "apple_health", "watch").
        issue: For troubleshooting and motivation, what goes wrong, in the terms of the
            ``suggest_habit_modification`` tool: too_hard, no_time, forgot or unmotivated.
        insight_kind: For insights, whether a chart, a prediction, habit-science knowledge or a
            summary is asked for.
    """

    model_config = _FROZEN

    message: str
    intent: Intent
    confidence: float
    action: HabitAction | None = None
    domain: Domain | None = None
    subdomain: str | None = None
    subject: str | None = None
    timeframe_days: int | None = None
    deadline: date | None = None
    lookback_days: int | None = None
    metric: Metric | None = None
    chronotype: Chronotype | None = None
    minutes_available: int | None = None
    constraints: tuple[str, ...] = ()
    habit_names: tuple[str, ...] = ()
    new_habit_title: str | None = None
    sub_habits: tuple[str, ...] = ()
    schedule: ScheduleHint | None = None
    sentiment: Sentiment
    achievement: bool = False
    refuse: bool = False
    refusal_reason: RefusalReason | None = None
    tags: tuple[str, ...] = ()
    integration: str | None = None
    issue: HabitIssue | None = None
    insight_kind: InsightKind | None = None
