"""Confirmations: destructive actions the assistant proposed, run only on the user's yes.

The agent's destructive tools (archive a habit, stop a habit's reminders) never act. They ask
the gateway (``rpc.habits.propose.v1``) to store a *confirmation*: an opaque id bound to the
user, the exact action and the object, with an expiry. The chat shows it as a card; the action
runs when the user accepts it (``POST /v1/confirmations/{id}``), in the same transaction that
marks it used, so it runs at most once. A foreign or unknown id answers 404; an expired, used or
cancelled one 410. See docs/agent.md ("Destructive actions").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import habits, repository
from services.gateway.reminders import repository as reminder_repository
from services.gateway.reminders import use_cases as reminder_use_cases
from shared.contracts.habits import ConfirmationOut, ProposedAction
from shared.db.core import Confirmation, User
from shared.errors import Gone, NotFound


def confirmation_out(row: Confirmation, now: datetime) -> ConfirmationOut:
    expired = row.status == "pending" and now >= row.expires_at
    return ConfirmationOut.model_validate(
        {
            "id": row.id,
            "action": row.action,
            "habit_id": row.habit_id,
            "summary": row.summary,
            "status": "expired" if expired else row.status,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
            "decided_at": row.decided_at,
        }
    )


async def _summary(
    session: AsyncSession, user: User, action: ProposedAction, habit_id: uuid.UUID | None
) -> str:
    """What accepting will do, in words; raises NotFound when there is nothing to act on."""
    title = None
    if habit_id is not None:
        habit = await habits.owned_habit(session, user.id, habit_id)
        title = habit.title
    if action == "archive_habit":
        if title is None:
            raise NotFound("Say which habit to archive.")
        return (
            f'Archive the habit "{title}": it leaves your list and its reminders stop; '
            "its history is kept."
        )
    if habit_id is not None:
        count = len(await reminder_repository.reminders_of_habit(session, user.id, habit_id))
        what = f'"{title}"'
    else:
        mine = await reminder_repository.reminders_of(session, user.id)
        count = sum(r.habit_id is None for r in mine)
        what = "your check-ins"
    if count == 0:
        raise NotFound(f"There is no reminder for {what} to stop.")
    return f"Delete {count} reminder{'s' if count != 1 else ''} for {what}."


async def propose(
    session: AsyncSession,
    user: User,
    action: ProposedAction,
    habit_id: uuid.UUID | None,
    now: datetime,
    ttl_seconds: int,
) -> ConfirmationOut:
    """Store a pending confirmation of ``action`` on ``habit_id`` for ``user``."""
    summary = await _summary(session, user, action, habit_id)
    row = Confirmation(
        id=uuid.uuid4(),
        user_id=user.id,
        action=action,
        habit_id=habit_id,
        summary=summary[:400],
        status="pending",
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    repository.add_confirmation(session, row)
    await session.flush()
    return confirmation_out(row, now)


async def read(
    session: AsyncSession, user_id: uuid.UUID, confirmation_id: uuid.UUID, now: datetime
) -> ConfirmationOut:
    row = await repository.confirmation_of(session, user_id, confirmation_id)
    if row is None:
        raise NotFound("No such confirmation.")
    return confirmation_out(row, now)


async def _pending(
    session: AsyncSession, user_id: uuid.UUID, confirmation_id: uuid.UUID, now: datetime
) -> Confirmation:
    row = await repository.confirmation_of(session, user_id, confirmation_id, lock=True)
    if row is None:
        raise NotFound("No such confirmation.")
    if row.status != "pending":
        raise Gone(f"This confirmation was already {row.status}.")
    if now >= row.expires_at:
        raise Gone("This confirmation has expired; ask the assistant again.")
    return row


async def accept(
    session: AsyncSession, user: User, confirmation_id: uuid.UUID, now: datetime
) -> ConfirmationOut:
    """Run the confirmed action once and mark the confirmation accepted (one transaction)."""
    row = await _pending(session, user.id, confirmation_id, now)
    try:
        if row.action == "archive_habit":
            assert row.habit_id is not None
            await habits.archive_habit(session, user, row.habit_id, now)
        else:
            await reminder_use_cases.delete_habit_reminders(session, user, row.habit_id)
    except NotFound:
        raise Gone("The habit this confirmation is about is no longer there.") from None
    row.status, row.decided_at = "accepted", now
    await session.flush()
    return confirmation_out(row, now)


async def cancel(
    session: AsyncSession, user_id: uuid.UUID, confirmation_id: uuid.UUID, now: datetime
) -> None:
    """Drop a pending confirmation: it can no longer be accepted."""
    row = await _pending(session, user_id, confirmation_id, now)
    row.status, row.decided_at = "cancelled", now
    await session.flush()
