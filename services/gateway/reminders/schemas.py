"""Request and response bodies of ``/v1/reminders`` and ``/v1/push/subscriptions``.

The same models validate the agent's ``rpc.habits.*`` reminder commands, so a reminder at 25:00
or on an unknown weekday is refused the same way whoever asks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from services.gateway.reminders.schedule import WEEKDAY_CODES
from shared.localtime import WEEKDAYS

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_MESSAGE = 500
Message = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE)]
# "mon" and "monday" both name Monday; the stored and returned form is the short one.
_FULL_NAMES = {code: code for code in WEEKDAY_CODES} | {name: name[:3] for name in WEEKDAYS}


def parse_clock(value: object) -> dt.time:
    """Parse ``"HH:MM"`` (00:00–23:59; ``"HH:MM:SS"`` with 00 seconds is taken too)."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if not isinstance(value, str):
        raise ValueError("time must be a string like 07:30")
    parts = value.strip().split(":")
    if len(parts) == 3 and parts[2] == "00":
        parts = parts[:2]
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ValueError("time must look like HH:MM, e.g. 07:30")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError("time must be between 00:00 and 23:59")
    return dt.time(hour, minute)


def _weekdays(value: object) -> object:
    if value is None or not isinstance(value, list):
        return value
    out = []
    for day in value:
        code = _FULL_NAMES.get(day.lower()) if isinstance(day, str) else None
        out.append(code if code is not None else day)
    return out


class ReminderIn(BaseModel):
    """A new reminder. Without ``habit_id`` it is a free check-in."""

    model_config = ConfigDict(extra="forbid")
    habit_id: uuid.UUID | None = None
    time: dt.time = Field(description="Local time of day in your time zone, `HH:MM` (00:00–23:59).")
    weekdays: list[Weekday] | None = Field(
        default=None,
        max_length=7,
        description="Days it may fire on (`mon`…`sun`); unset or empty: every day.",
    )
    message: Message | None = None
    enabled: bool = True
    follow_habit: bool = Field(
        default=True,
        description="Skip days the habit is not due, periods whose target is already met, and "
        "archived habits.",
    )

    _clock = field_validator("time", mode="before")(parse_clock)
    _days = field_validator("weekdays", mode="before")(_weekdays)


class ReminderPatch(BaseModel):
    """Fields to change; ``null`` clears ``weekdays`` (every day) or ``message``."""

    model_config = ConfigDict(extra="forbid")
    time: dt.time | None = None
    weekdays: list[Weekday] | None = Field(default=None, max_length=7)
    message: Message | None = None
    enabled: bool | None = None
    follow_habit: bool | None = None

    # An explicit null time is refused by parse_clock: a reminder always has a time.
    _clock = field_validator("time", mode="before")(parse_clock)
    _days = field_validator("weekdays", mode="before")(_weekdays)


class ReminderOut(BaseModel):
    id: uuid.UUID
    habit_id: uuid.UUID | None
    time: str = Field(description="`HH:MM`, local to `timezone`.")
    weekdays: list[Weekday]
    message: str | None
    enabled: bool
    follow_habit: bool
    timezone: str
    next_fire_at: datetime | None = Field(
        description="When it fires next (UTC), by its time and weekdays and the habit's "
        "schedule; a period already met is skipped only when the time comes."
    )
    created_at: datetime
    updated_at: datetime


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")
    p256dh: str = Field(min_length=16, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class PushSubscriptionIn(BaseModel):
    """The browser's ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="ignore")
    endpoint: HttpUrl
    keys: PushKeys
    # The browser's field name; strict, so that a JSON true is not read as 1.
    expirationTime: Annotated[int, Field(strict=True)] | None = None


class PushSubscriptionOut(BaseModel):
    id: uuid.UUID
    endpoint: str
    created_at: datetime


class PushKeyOut(BaseModel):
    enabled: bool
    public_key: str | None = Field(
        description="The VAPID public key for `pushManager.subscribe({applicationServerKey})`."
    )
