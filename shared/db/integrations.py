"""Tables of health and fitness imports, in the ``core`` schema (the gateway owns and writes them).

``integration_days`` holds one aggregate per user, integration, data type, key (a workout type,
else ``""``) and local date; an import upserts its days, so the same file twice leaves the same
rows. ``integration_links`` ties a habit to a data type and a threshold; ``integration_jobs``
records the progress and outcome of each import.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, utcnow

SCHEMA = {"schema": "core"}


class IntegrationDay(Base):
    """A day's total of one data type from one integration, on the user's local calendar."""

    __tablename__ = "integration_days"
    __table_args__ = (Index(None, "user_id", "data_type", "date"), SCHEMA)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.users.id", ondelete="CASCADE"), primary_key=True
    )
    integration: Mapped[str] = mapped_column(String(32), primary_key=True)
    data_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrationLink(Base):
    """A habit logged automatically on days when a data type reaches a threshold."""

    __tablename__ = "integration_links"
    __table_args__ = (
        CheckConstraint("direction IN ('at_least', 'at_most')", name="direction_known"),
        Index(None, "user_id"),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    habit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.habits.id", ondelete="CASCADE"), unique=True
    )
    integration: Mapped[str | None] = mapped_column(String(32))
    data_type: Mapped[str] = mapped_column(String(32))
    workout_type: Mapped[str | None] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(8), default="at_least")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrationJob(Base):
    """One import: queued → running → succeeded | failed, with its progress in bytes."""

    __tablename__ = "integration_jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')", name="status_known"
        ),
        Index(None, "user_id", "created_at"),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    integration: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    processed: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
