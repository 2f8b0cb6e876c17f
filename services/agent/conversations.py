"""The agent's conversation reads: a user's conversations and the messages in them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agent import repository
from services.agent.memory import StoredMessage
from shared.contracts.agent import (
    ConversationOut,
    ConversationQuery,
    ConversationsOut,
    MessageOut,
    MessageQuery,
    MessagesOut,
    MessagesQuery,
    Query,
)
from shared.db.agent import Conversation
from shared.db.agent import Message as MessageRow
from shared.errors import NotFound


def stored(m: MessageRow) -> StoredMessage:
    """A stored message as the memory window sees it."""
    return StoredMessage(
        position=m.position,
        role=m.role,
        content=m.content,
        created_on=m.created_at.date(),
        intent=m.intent,
        tools=tuple(c["name"] for c in m.tool_calls or ()),
    )


def _message_out(m: MessageRow) -> MessageOut:
    return MessageOut(
        id=m.id,
        position=m.position,
        role=m.role,
        content=m.content,
        created_at=m.created_at,
        turn_id=m.turn_id,
        intent=m.intent,
        entities=m.entities,
        sentiment=m.sentiment,
        tool_calls=m.tool_calls or [],
        cards=m.cards or [],
        input_tokens=m.input_tokens,
        output_tokens=m.output_tokens,
        stop_reason=m.stop_reason,
    )


def _conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.id,
        title=c.title,
        created_at=c.created_at,
        updated_at=c.updated_at,
        message_count=c.message_count,
    )


class ConversationReads:
    """The ``rpc.agent.conversation*`` and ``rpc.agent.message*`` reads, of the caller's own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def conversations(self, query: Query) -> ConversationsOut:
        async with self.sessions() as session:
            rows = await repository.conversations_of(session, query.user_id)
        return ConversationsOut(conversations=[_conversation_out(c) for c in rows])

    async def conversation(self, query: ConversationQuery) -> ConversationOut:
        async with self.sessions() as session:
            found = await repository.conversation(session, query.user_id, query.conversation_id)
        if found is None:
            raise NotFound("No such conversation.", {"conversation_id": str(query.conversation_id)})
        return _conversation_out(found)

    async def messages(self, query: MessagesQuery) -> MessagesOut:
        async with self.sessions() as session:
            found = await repository.conversation(session, query.user_id, query.conversation_id)
            if found is None:
                raise NotFound(
                    "No such conversation.", {"conversation_id": str(query.conversation_id)}
                )
            rows = await repository.messages_of(
                session, found.id, limit=query.limit, before=query.before
            )
        return MessagesOut(conversation_id=found.id, messages=[_message_out(m) for m in rows])

    async def message(self, query: MessageQuery) -> MessageOut:
        async with self.sessions() as session:
            found = await repository.message(session, query.user_id, query.message_id)
        if found is None:
            raise NotFound("No such message.", {"message_id": str(query.message_id)})
        return _message_out(found)
