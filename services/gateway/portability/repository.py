"""Every SQL statement of imports, exports, account deletion and webhooks.

The export reads the ``agent``, ``metrics`` and ``learning`` schemas read-only (DESIGN section
1 allows it where an rpc would only add a hop: a dump needs every row of every table, which no
service's rpc offers); it writes nothing outside ``core``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.core import Habit, HabitLog, User
from shared.db.erasure import user_tables
from shared.db.portability import ImportRef, Webhook, WebhookDelivery

# --- imports --------------------------------------------------------------------------------


async def import_refs(
    session: AsyncSession, user_id: uuid.UUID, source: str
) -> dict[str, uuid.UUID]:
    stmt = select(ImportRef.external_key, ImportRef.entity_id).where(
        ImportRef.user_id == user_id, ImportRef.source == source
    )
    return {k: v for k, v in (await session.execute(stmt)).all()}


async def add_import_ref(
    session: AsyncSession, user_id: uuid.UUID, source: str, key: str, entity_id: uuid.UUID
) -> None:
    stmt = insert(ImportRef).values(
        user_id=user_id, source=source, external_key=key, entity_id=entity_id
    )
    await session.execute(stmt.on_conflict_do_nothing())


async def add_import_refs(
    session: AsyncSession, user_id: uuid.UUID, source: str, refs: dict[str, uuid.UUID]
) -> None:
    if refs:
        rows = [
            {"user_id": user_id, "source": source, "external_key": k, "entity_id": v}
            for k, v in refs.items()
        ]
        await session.execute(insert(ImportRef).on_conflict_do_nothing(), rows)


async def logged_dates(session: AsyncSession, habit_id: uuid.UUID) -> set[date]:
    stmt = select(HabitLog.date).where(HabitLog.habit_id == habit_id).distinct()
    return set((await session.execute(stmt)).scalars())


async def lock_user_imports(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise two imports of one user, so both cannot create the same habit."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"import:{user_id}"},
    )


async def any_habit_of(
    session: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID
) -> Habit | None:
    """The user's habit, archived or not (an import's habit may have been archived)."""
    stmt = select(Habit).where(Habit.id == habit_id, Habit.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def all_habits_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Habit]:
    stmt = select(Habit).where(Habit.user_id == user_id).order_by(Habit.created_at, Habit.id)
    return (await session.execute(stmt)).scalars().all()


async def lock_user(session: AsyncSession, user_id: uuid.UUID, *, exclusive: bool) -> bool:
    """Lock the account row first, so deletion and deliveries take their locks in one order.

    The deletion locks it ``FOR UPDATE``; a delivery's bookkeeping ``FOR KEY SHARE`` (what its
    foreign-key insert would take anyway). Returns whether the account still exists.
    """
    stmt = select(User.id).where(User.id == user_id)
    stmt = stmt.with_for_update() if exclusive else stmt.with_for_update(key_share=True)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(User).where(User.id == user_id))


# --- export ---------------------------------------------------------------------------------

# Columns that never leave the server: credentials.
SECRET_COLUMNS = {("core", "users"): {"password_hash"}, ("core", "webhooks"): {"secret"}}
DUMPED_SCHEMAS = ("core", "agent", "metrics", "learning")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | date | datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


async def dump_user(session: AsyncSession, user_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every row of the user in every schema, ``"schema.table"`` → rows (secrets left out)."""
    out: dict[str, list[dict[str, Any]]] = {}
    profile = await session.execute(
        text("SELECT * FROM core.users WHERE id = :id"), {"id": user_id}
    )
    tables = [("core", "users", profile)]
    for schema in DUMPED_SCHEMAS:
        for table in await user_tables(session, schema):
            # Table names come from information_schema, never from a caller.
            result = await session.execute(
                text(f'SELECT * FROM "{schema}"."{table}" WHERE user_id = :id'), {"id": user_id}
            )
            tables.append((schema, table, result))
    for schema, table, result in tables:
        hidden = SECRET_COLUMNS.get((schema, table), set())
        out[f"{schema}.{table}"] = [
            {k: _plain(v) for k, v in row.items() if k not in hidden}
            for row in result.mappings().all()
        ]
    return out


async def all_logs(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[uuid.UUID, date, str, float | None, str | None]]:
    stmt = (
        select(HabitLog.habit_id, HabitLog.date, HabitLog.status, HabitLog.value, HabitLog.note)
        .where(HabitLog.user_id == user_id)
        .order_by(HabitLog.date)
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]  # type: ignore[misc]


# --- webhooks -------------------------------------------------------------------------------


async def webhooks_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Webhook]:
    stmt = select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.created_at)
    return (await session.execute(stmt)).scalars().all()


async def webhook_of(
    session: AsyncSession, user_id: uuid.UUID, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook | None:
    stmt = select(Webhook).where(Webhook.id == webhook_id, Webhook.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def subscribed_webhooks(
    session: AsyncSession, user_id: uuid.UUID, event: str
) -> Sequence[Webhook]:
    stmt = select(Webhook).where(
        Webhook.user_id == user_id, Webhook.enabled.is_(True), Webhook.events.contains([event])
    )
    return (await session.execute(stmt)).scalars().all()


async def delivered(session: AsyncSession, webhook_id: uuid.UUID, event_id: uuid.UUID) -> bool:
    stmt = select(WebhookDelivery.delivered).where(
        WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.event_id == event_id
    )
    return bool((await session.execute(stmt)).scalar_one_or_none())


async def record_attempt(
    session: AsyncSession,
    webhook: Webhook,
    event_id: uuid.UUID,
    event: str,
    ok: bool,
    status: int | None,
    error: str | None,
    now: datetime,
) -> None:
    """Count one delivery attempt and its answer on the delivery row."""
    stmt = insert(WebhookDelivery).values(
        webhook_id=webhook.id,
        event_id=event_id,
        user_id=webhook.user_id,
        event=event,
        delivered=ok,
        attempts=1,
        last_status=status,
        last_error=error,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[WebhookDelivery.webhook_id, WebhookDelivery.event_id],
            set_={
                "delivered": ok,
                "attempts": WebhookDelivery.attempts + 1,
                "last_status": status,
                "last_error": error,
                "updated_at": now,
            },
        )
    )


async def set_webhook_state(session: AsyncSession, webhook_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(**values))
