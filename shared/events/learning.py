"""Events of the learning domain: feedback in (from the gateway's outbox), nudges out."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import Field

from shared.events.base import Event

FeedbackKind = Literal[
    "message_rating", "suggestion_accepted", "suggestion_dismissed", "sequence_abandoned", "comment"
]


class FeedbackRecordedV1(Event):
    """A user gave feedback through ``POST /v1/feedback``; ``event_id`` is the feedback's id.

    ``message_chars`` and ``message_had_emoji`` describe the rated assistant message when the
    publisher knows it (the preference inference uses them); they are ``None`` otherwise.
    """

    subject = "learning.feedback.recorded.v1"
    kind: FeedbackKind
    message_id: uuid.UUID | None = None
    habit_id: uuid.UUID | None = None
    sequence_id: uuid.UUID | None = None
    rating: Literal[-1, 0, 1] | None = None
    text: str | None = Field(default=None, max_length=2000)
    message_chars: int | None = None
    message_had_emoji: bool | None = None


class NudgeProposedV1(Event):
    """The learning service proposes a change to a habit that shows early signs of churn.

    ``event_id`` equals ``nudge_id``, so a re-published nudge is dropped by JetStream's dedupe.
    ``modification`` is ``{"kind": "smaller"|"another_time"|"stack_trigger", "details": {...}}``;
    ``signals`` lists every warning that fired, the leading ``reason`` first.
    """

    subject = "learning.nudge.proposed.v1"
    nudge_id: uuid.UUID
    habit_id: uuid.UUID
    reason: str
    message: str
    modification: dict[str, Any]
    signals: list[str]
    local_date: date
    tone: str
    timing: str


LEARNING_EVENTS: tuple[type[Event], ...] = (FeedbackRecordedV1, NudgeProposedV1)
