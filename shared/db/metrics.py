"""Tables of the ``metrics`` schema, written only by the metrics service."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, utcnow


class HabitMetricsRow(Base):
    """The latest metrics of a live habit, as of the owner's date when they were computed."""

    __tablename__ = "habit_metrics"
    __table_args__ = (Index(None, "user_id"), {"schema": "metrics"})

    habit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column()
    as_of: Mapped[date] = mapped_column(Date)
    current_streak: Mapped[int] = mapped_column(Integer)
    longest_streak: Mapped[int] = mapped_column(Integer)
    streak_unit: Mapped[str] = mapped_column(String(8))
    completion_rate_week: Mapped[float | None] = mapped_column(Float)
    completion_rate_month: Mapped[float | None] = mapped_column(Float)
    strength: Mapped[float] = mapped_column(Float)
    total_completions: Mapped[int] = mapped_column(Integer)
    last_completed_on: Mapped[date | None] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
