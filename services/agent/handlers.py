"""Bus entry points of the agent: chat turns and metrics in, conversation and sequence rpc."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from faststream import Context
from faststream.nats import NatsRouter

from services.agent.service import AgentService
from shared.contracts.agent import (
    ACTIVATE_SEQUENCE,
    ACTIVE_SEQUENCES,
    CONVERSATION,
    CONVERSATIONS,
    CREATE_SEQUENCE,
    GET_SEQUENCE,
    MESSAGE,
    MESSAGES,
    ActivateSequence,
    ConversationOut,
    ConversationQuery,
    ConversationsOut,
    CreateSequence,
    MessageOut,
    MessageQuery,
    MessagesOut,
    MessagesQuery,
    Query,
    SequenceOut,
    SequenceQuery,
    SequencesOut,
)
from shared.events.accounts import UserDeletedV1
from shared.events.chat import ChatTurnRequestedV1
from shared.events.metrics import HabitMetricsUpdatedV1
from shared.messaging import durable_consumer
from shared.rpc import rpc_handler
from shared.slo_metrics import CHAT_TURN_SECONDS
from shared.streams import ACCOUNTS, CHAT_TURNS, METRICS

# A turn may run up to its deadline; JetStream must not hand it to another instance meanwhile,
# so the ack wait leaves a wide margin past it.
ACK_WAIT_MARGIN_SECONDS = 120.0
RPC_WORKERS = 32
Service = Annotated[AgentService, Context("agent")]


def create_router(turn_workers: int, turn_deadline_seconds: float) -> NatsRouter:
    """The agent's subscribers, on a router of their own for each app (a router binds once)."""
    router = NatsRouter()

    @router.subscriber(
        ChatTurnRequestedV1.subject,
        stream=CHAT_TURNS,
        **durable_consumer(
            "agent-chat-turns",
            workers=turn_workers,
            ack_wait=turn_deadline_seconds + ACK_WAIT_MARGIN_SECONDS,
            independent=True,
        ),
    )
    async def on_chat_turn_requested(event: ChatTurnRequestedV1, service: Service) -> None:
        outcome = "error"
        try:
            await service.run_turn(event)
            outcome = "finished"
        finally:
            waited = (datetime.now(UTC) - event.occurred_at).total_seconds()
            CHAT_TURN_SECONDS.labels(outcome).observe(max(waited, 0.0))

    @router.subscriber(
        HabitMetricsUpdatedV1.subject, stream=METRICS, **durable_consumer("agent-metrics-updated")
    )
    async def on_metrics_updated(event: HabitMetricsUpdatedV1, service: Service) -> None:
        await service.sequences.on_metrics_updated(event)

    @router.subscriber(
        UserDeletedV1.subject, stream=ACCOUNTS, **durable_consumer("agent-user-deleted")
    )
    async def on_user_deleted(event: UserDeletedV1, service: Service) -> None:
        await service.erase_user(event.user_id)

    @router.subscriber(CONVERSATIONS, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_conversations(query: Query, service: Service) -> ConversationsOut:
        return await service.reads.conversations(query)

    @router.subscriber(CONVERSATION, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_conversation(query: ConversationQuery, service: Service) -> ConversationOut:
        return await service.reads.conversation(query)

    @router.subscriber(MESSAGES, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_messages(query: MessagesQuery, service: Service) -> MessagesOut:
        return await service.reads.messages(query)

    @router.subscriber(MESSAGE, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_message(query: MessageQuery, service: Service) -> MessageOut:
        return await service.reads.message(query)

    @router.subscriber(CREATE_SEQUENCE, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_create_sequence(command: CreateSequence, service: Service) -> SequenceOut:
        return await service.sequences.create_sequence(command)

    @router.subscriber(GET_SEQUENCE, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_get_sequence(query: SequenceQuery, service: Service) -> SequenceOut:
        return await service.sequences.get_sequence(query)

    @router.subscriber(ACTIVATE_SEQUENCE, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_activate_sequence(command: ActivateSequence, service: Service) -> SequenceOut:
        return await service.sequences.activate(command)

    @router.subscriber(ACTIVE_SEQUENCES, queue="agent", max_workers=RPC_WORKERS)
    @rpc_handler
    async def on_active_sequences(query: Query, service: Service) -> SequencesOut:
        return await service.sequences.active_sequences(query)

    return router
