"""The base of every bus event: frozen, versioned, with id, time and owner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Fields every event carries. ``subject`` is the NATS subject it is published on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: ClassVar[str]

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=_now)
    user_id: uuid.UUID
