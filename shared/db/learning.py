"""Tables of the ``learning`` schema, written only by the learning service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, utcnow

SCHEMA = {"schema": "learning"}


class LearningEvent(Base):
    """Every event the service learned from, once (the processed-message record).

    ``kind`` is the feedback kind for feedback, else ``log_recorded``, ``log_deleted`` or
    ``metrics_updated``; ``payload`` is the event as published.
    """

    __tablename__ = "events"
    __table_args__ = (Index(None, "user_id", "kind", "occurred_at"), SCHEMA)

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID] = mapped_column()
    habit_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelState(Base):
    """A shared model's state (the success predictor's population layer), one row per model.

    ``revision`` grows with every write, so an instance knows when its in-memory copy is stale.
    """

    __tablename__ = "model_state"
    __table_args__ = (SCHEMA,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    examples: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserModel(Base):
    """One user's adjustment layer of a model (``model`` is the ``model_state`` name)."""

    __tablename__ = "user_models"
    __table_args__ = (SCHEMA,)

    model: Mapped[str] = mapped_column(
        ForeignKey("learning.model_state.name", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    examples: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HabitProgress(Base):
    """How far the model learned from one habit: every closed day through ``learned_through``."""

    __tablename__ = "habit_progress"
    __table_args__ = (Index(None, "user_id"), SCHEMA)

    habit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column()
    learned_through: Mapped[date] = mapped_column(Date)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Nudge(Base):
    """A churn nudge: decided once per user per local day at most, published when due.

    The row is the nudge's outbox: ``published_at`` is set once ``learning.nudge.proposed.v1``
    went out, so a crash between commit and publish is repaired by the next sweep.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("user_id", "local_date"),
        Index(None, "habit_id", "created_at"),
        Index(
            "ix_nudges_unpublished",
            "deliver_at",
            postgresql_where=text("published_at IS NULL"),
        ),
        SCHEMA,
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column()
    habit_id: Mapped[uuid.UUID] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    modification: Mapped[dict[str, Any]] = mapped_column(JSONB)
    signals: Mapped[list[str]] = mapped_column(JSONB)
    tone: Mapped[str] = mapped_column(String(32))
    timing: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliver_at: Mapped[datetime] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    answer: Mapped[str | None] = mapped_column(String(32))


class SweepSchedule(Base):
    """When each known user's habits are next checked for churn signals."""

    __tablename__ = "sweep_schedule"
    __table_args__ = (Index(None, "next_at"), SCHEMA)

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    next_at: Mapped[datetime] = mapped_column()
    last_swept_at: Mapped[datetime | None] = mapped_column()


class Experiment(Base):
    """An A/B experiment: its variants (``[{key, weight}]``, in order), metric and control."""

    __tablename__ = "experiments"
    __table_args__ = (SCHEMA,)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    metric: Mapped[str] = mapped_column(String(100))
    control: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentExposure(Base):
    """A user saw an experiment's variant (the first time counts)."""

    __tablename__ = "experiment_exposures"
    __table_args__ = (SCHEMA,)

    experiment: Mapped[str] = mapped_column(
        ForeignKey("learning.experiments.key", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    variant: Mapped[str] = mapped_column(String(64))
    exposed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentConversion(Base):
    """An exposed user reached the experiment's metric (the first time counts)."""

    __tablename__ = "experiment_conversions"
    __table_args__ = (SCHEMA,)

    experiment: Mapped[str] = mapped_column(
        ForeignKey("learning.experiments.key", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    converted_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserAIPreferences(Base):
    """Assistant preferences *inferred* from a user's feedback; ``None`` means no clear evidence.

    What the user set explicitly lives in ``core.users.preferences`` (``PATCH /v1/me``) and always
    wins; ``rpc.learning.preferences.v1`` merges the two.
    """

    __tablename__ = "user_ai_preferences"
    __table_args__ = (SCHEMA,)

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    communication_style: Mapped[str | None] = mapped_column(String(16))
    detail_level: Mapped[str | None] = mapped_column(String(16))
    emoji_preference: Mapped[str | None] = mapped_column(String(16))
    notification_frequency: Mapped[str | None] = mapped_column(String(16))
    proactive_suggestions: Mapped[bool | None] = mapped_column(Boolean)
    reasons: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
