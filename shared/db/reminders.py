"""Reminder tables, in the ``core`` schema (the gateway is their single writer).

``reminders`` holds each rule and the next instant it fires (``next_fire_at``, UTC), which the
scheduler's due-time query reads through a partial index. ``reminder_deliveries`` is the
delivery key: one row per reminder and local fire date and time, unique, so two scheduler
instances (or a restart mid-round) can never deliver one fire time twice.
``push_subscriptions`` are the browsers' Web Push endpoints.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, Timestamped, utcnow

SCHEMA = {"schema": "core"}


class Reminder(Timestamped, Base):
    """A local time of day at which the user is reminded of a habit (or to check in)."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index(None, "user_id"),
        Index(
            "ix_reminders_due",
            "next_fire_at",
            postgresql_where=text("enabled AND next_fire_at IS NOT NULL"),
        ),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    # None: a free check-in, not tied to a habit.
    habit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("core.habits.id", ondelete="CASCADE")
    )
    time: Mapped[time] = mapped_column(Time)
    # 0 = Monday … 6 = Sunday; empty: every day (the habit's schedule may narrow it).
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    message: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    follow_habit: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fire_at: Mapped[datetime | None] = mapped_column()


class ReminderDelivery(Base):
    """One fire time of a reminder that was delivered (or dropped for being too late)."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("reminder_id", "local_date", "local_time"),
        Index(None, "user_id", "fire_at"),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reminder_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.reminders.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[time] = mapped_column(Time)
    fire_at: Mapped[datetime] = mapped_column()
    # "delivered", or why not: "dropped_late", "not_due", "target_met", "archived".
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (the PushSubscription JSON it gave us)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index(None, "user_id"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
