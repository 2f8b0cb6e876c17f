"""What a due reminder looks like on ``live.notifications.<user_id>`` and the SSE stream."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class ReminderNotificationOut(BaseModel):
    """A reminder that came due: ``id`` is the delivery's id (clients de-duplicate by it)."""

    kind: Literal["reminder"] = "reminder"
    id: uuid.UUID
    reminder_id: uuid.UUID
    habit_id: uuid.UUID | None
    habit_title: str | None
    message: str
    local_date: date
    local_time: str
    fire_at: datetime
