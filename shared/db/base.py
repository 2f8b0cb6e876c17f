"""Declarative base for every schema: one naming convention, UTC timestamps, one metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One schema per owning service (DESIGN section 1); a service writes only its own.
SCHEMAS: tuple[str, ...] = ("core", "agent", "metrics", "learning")


def utcnow() -> datetime:
    """Return the current instant in UTC (aware)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The declarative base every model of every service derives from."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Timestamped:
    """``created_at`` and ``updated_at`` columns, set by the database clock in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
