"""Tables of data portability, in the ``core`` schema (the gateway owns and writes them).

``import_refs`` remembers what an import created under a stable external key (a Loop habit's
name, a habit's checkmark on a date), so the same file imported twice creates nothing the second
time. ``webhooks`` are a user's subscriptions to events; ``webhook_deliveries`` records, per
webhook and event, whether it was delivered, so a redelivered bus message never posts twice to a
receiver that already answered 2xx.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, utcnow

SCHEMA = {"schema": "core"}


class ImportRef(Base):
    """An entity an import created, under the key it has in the imported file."""

    __tablename__ = "import_refs"
    __table_args__ = (SCHEMA,)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    """A user's webhook: where to post which events, signed with ``secret``."""

    __tablename__ = "webhooks"
    __table_args__ = (Index(None, "user_id"), SCHEMA)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    secret: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_delivery_at: Mapped[datetime | None] = mapped_column()


class WebhookDelivery(Base):
    """The outcome of one event's delivery to one webhook (attempts, the last answer)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index(None, "user_id"), SCHEMA)

    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("core.webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("core.users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
