"""Deleting everything a schema holds of one user: the account-deletion consumer of every service.

The tables are found in ``information_schema`` (every table of the schema with a ``user_id``
column), not listed by hand, so a table added later is erased too without anyone remembering to.
Each service calls this for its own schema only (a service writes only its own schema).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

_TABLES = text(
    "SELECT table_name FROM information_schema.columns "
    "WHERE table_schema = :schema AND column_name = 'user_id' ORDER BY table_name"
)


async def user_tables(session: AsyncSession, schema: str) -> list[str]:
    """Return the tables of ``schema`` that have a ``user_id`` column."""
    return list((await session.execute(_TABLES, {"schema": schema})).scalars())


async def erase_user(session: AsyncSession, schema: str, user_id: uuid.UUID) -> int:
    """Delete every row of ``user_id`` in every table of ``schema``; return how many went.

    A table referenced by another without ``ON DELETE CASCADE`` refuses its delete while the
    referencing rows exist; such a table is retried after the others (each try in a savepoint),
    so the order of the tables never matters. Idempotent: a second call deletes nothing.
    """
    pending = await user_tables(session, schema)
    deleted = 0
    while pending:
        failed: list[str] = []
        for table in pending:
            try:
                async with session.begin_nested():
                    # Table names come from information_schema, never from a caller.
                    result = await session.execute(
                        text(f'DELETE FROM "{schema}"."{table}" WHERE user_id = :user_id'),
                        {"user_id": user_id},
                    )
                deleted += result.rowcount  # type: ignore[attr-defined]
            except IntegrityError:
                failed.append(table)
        if len(failed) == len(pending):
            raise RuntimeError(f"cannot erase user rows of {schema}: {failed} stay referenced")
        pending = failed
    return deleted
