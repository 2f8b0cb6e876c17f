"""Every SQL statement of the agent service. Functions take a session and never commit.

Writes go to the ``agent`` schema only; the agent reads nothing of other schemas (habits,
metrics and the rest come over rpc).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.agent import (
    Conversation,
    HabitSequence,
    Message,
    SequenceHabit,
    Turn,
    UserFact,
)

# --- conversations and messages -------------------------------------------------------------


async def conversation(
    session: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, *, lock: bool = False
) -> Conversation | None:
    """The user's conversation, or None (also when it is another user's)."""
    query = select(Conversation).where(
        Conversation.id == conversation_id, Conversation.user_id == user_id
    )
    if lock:
        query = query.with_for_update()
    found: Conversation | None = await session.scalar(query)
    return found


async def conversation_exists(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    """Whether any user has a conversation with this id."""
    return (
        await session.scalar(select(Conversation.id).where(Conversation.id == conversation_id))
    ) is not None


def add_conversation(
    session: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID, title: str
) -> Conversation:
    row = Conversation(id=conversation_id, user_id=user_id, title=title, summary="")
    row.summarized_through = 0
    row.message_count = 0
    session.add(row)
    return row


async def conversations_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Conversation]:
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc())
        .limit(200)
    )
    return rows.all()


async def messages_of(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    limit: int,
    before: int | None = None,
    after: int | None = None,
) -> list[Message]:
    """The conversation's messages in order: the last ``limit`` before ``before`` (a position)."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before is not None:
        query = query.where(Message.position < before)
    if after is not None:
        query = query.where(Message.position > after)
    rows = await session.scalars(query.order_by(Message.position.desc()).limit(limit))
    return list(reversed(rows.all()))


async def message(
    session: AsyncSession, user_id: uuid.UUID, message_id: uuid.UUID
) -> Message | None:
    """The user's message, or None (also when it is another user's)."""
    found: Message | None = await session.scalar(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    return found


def add_message(session: AsyncSession, **fields: Any) -> Message:
    row = Message(id=uuid.uuid4(), **fields)
    session.add(row)
    return row


# --- turns ----------------------------------------------------------------------------------


async def claim_turn(
    session: AsyncSession, turn_id: uuid.UUID, conversation_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    """Insert the turn as ``running``; False when a delivery of it was already taken."""
    result = await session.execute(
        insert(Turn)
        .values(
            id=turn_id,
            conversation_id=conversation_id,
            user_id=user_id,
            status="running",
            completed_event_id=uuid.uuid4(),
        )
        .on_conflict_do_nothing(index_elements=[Turn.id])
        .returning(Turn.id)
    )
    return result.scalar_one_or_none() is not None


async def turn(session: AsyncSession, turn_id: uuid.UUID, *, lock: bool = False) -> Turn | None:
    query = select(Turn).where(Turn.id == turn_id)
    if lock:
        query = query.with_for_update()
    found: Turn | None = await session.scalar(query)
    return found


async def finish_turn(
    session: AsyncSession,
    turn_id: uuid.UUID,
    *,
    status: str,
    stop_reason: str,
    completed_event: dict[str, Any],
    now: datetime,
) -> None:
    await session.execute(
        update(Turn)
        .where(Turn.id == turn_id)
        .values(
            status=status,
            stop_reason=stop_reason,
            completed_event=completed_event,
            finished_at=now,
        )
    )


# --- long-term memory -----------------------------------------------------------------------


async def facts_of(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    rows = await session.execute(
        select(UserFact.key, UserFact.value).where(UserFact.user_id == user_id)
    )
    return {key: value for key, value in rows}


async def save_facts(
    session: AsyncSession, user_id: uuid.UUID, facts: dict[str, Any], now: datetime
) -> None:
    if not facts:
        return
    statement = insert(UserFact).values(
        [{"user_id": user_id, "key": k, "value": v, "updated_at": now} for k, v in facts.items()]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[UserFact.user_id, UserFact.key],
            set_={"value": statement.excluded.value, "updated_at": now},
        )
    )


# --- sequences ------------------------------------------------------------------------------


def add_sequence(session: AsyncSession, **fields: Any) -> HabitSequence:
    row = HabitSequence(**fields)
    session.add(row)
    return row


async def sequence(
    session: AsyncSession, user_id: uuid.UUID, sequence_id: uuid.UUID, *, lock: bool = False
) -> HabitSequence | None:
    query = select(HabitSequence).where(
        HabitSequence.id == sequence_id, HabitSequence.user_id == user_id
    )
    if lock:
        query = query.with_for_update()
    found: HabitSequence | None = await session.scalar(query)
    return found


async def active_sequences(session: AsyncSession, user_id: uuid.UUID) -> Sequence[HabitSequence]:
    rows = await session.scalars(
        select(HabitSequence)
        .where(HabitSequence.user_id == user_id, HabitSequence.status == "active")
        .order_by(HabitSequence.created_at)
    )
    return rows.all()


async def sequence_habits(session: AsyncSession, sequence_id: uuid.UUID) -> list[SequenceHabit]:
    rows = await session.scalars(
        select(SequenceHabit)
        .where(SequenceHabit.sequence_id == sequence_id)
        .order_by(SequenceHabit.phase, SequenceHabit.id)
    )
    return list(rows.all())


async def add_sequence_habit(
    session: AsyncSession,
    *,
    sequence_id: uuid.UUID,
    user_id: uuid.UUID,
    phase: int,
    name: str,
    habit_id: uuid.UUID,
) -> None:
    """Record the habit a phase asked for (once per phase and name)."""
    await session.execute(
        insert(SequenceHabit)
        .values(sequence_id=sequence_id, user_id=user_id, phase=phase, name=name, habit_id=habit_id)
        .on_conflict_do_nothing(
            index_elements=[SequenceHabit.sequence_id, SequenceHabit.phase, SequenceHabit.name]
        )
    )


async def record_habit_rate(
    session: AsyncSession, habit_id: uuid.UUID, rate: float | None, as_of: date
) -> list[uuid.UUID]:
    """Store a habit's latest 7-day rate on its sequence rows; return the sequences touched.

    An older ``as_of`` than the stored one is ignored, so out-of-order events are harmless.
    """
    result = await session.execute(
        update(SequenceHabit)
        .where(
            SequenceHabit.habit_id == habit_id,
            (SequenceHabit.metrics_as_of.is_(None)) | (SequenceHabit.metrics_as_of <= as_of),
        )
        .values(completion_rate_week=rate, metrics_as_of=as_of)
        .returning(SequenceHabit.sequence_id)
    )
    return sorted(set(result.scalars().all()))


async def sequence_owner(session: AsyncSession, sequence_id: uuid.UUID) -> uuid.UUID | None:
    owner: uuid.UUID | None = await session.scalar(
        select(HabitSequence.user_id).where(HabitSequence.id == sequence_id)
    )
    return owner
