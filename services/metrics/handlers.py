"""Bus entry points of the metrics service: habit events in, rpc reads answered."""

from __future__ import annotations

from typing import Annotated

from faststream import Context

from services.metrics.service import MetricsService
from shared.contracts.metrics import (
    GET,
    HISTORY,
    STRENGTH,
    TREND,
    HabitMetricsOut,
    HistoryOut,
    HistoryQuery,
    MetricsQuery,
    RangeQuery,
    StrengthOut,
    TrendOut,
    TrendQuery,
)
from shared.events.accounts import UserDeletedV1
from shared.events.habits import (
    HabitArchivedV1,
    HabitCreatedV1,
    HabitLogDeletedV1,
    HabitLogRecordedV1,
    HabitUpdatedV1,
)
from shared.messaging import Subscribers, durable_consumer
from shared.rpc import rpc_handler
from shared.streams import ACCOUNTS, HABITS

subscribers = Subscribers()
# Reads wait on Redis or PostgreSQL; without workers a slow one would hold up the rest.
RPC_WORKERS = 32
Service = Annotated[MetricsService, Context("metrics")]


@subscribers.subscriber(
    HabitLogRecordedV1.subject, stream=HABITS, **durable_consumer("metrics-log-recorded")
)
async def on_log_recorded(event: HabitLogRecordedV1, service: Service) -> None:
    await service.recompute(event.habit_id)


@subscribers.subscriber(
    HabitLogDeletedV1.subject, stream=HABITS, **durable_consumer("metrics-log-deleted")
)
async def on_log_deleted(event: HabitLogDeletedV1, service: Service) -> None:
    await service.recompute(event.habit_id)


@subscribers.subscriber(
    HabitCreatedV1.subject, stream=HABITS, **durable_consumer("metrics-habit-created")
)
async def on_habit_created(event: HabitCreatedV1, service: Service) -> None:
    await service.recompute(event.habit_id)


@subscribers.subscriber(
    HabitUpdatedV1.subject, stream=HABITS, **durable_consumer("metrics-habit-updated")
)
async def on_habit_updated(event: HabitUpdatedV1, service: Service) -> None:
    await service.recompute(event.habit_id)


@subscribers.subscriber(
    HabitArchivedV1.subject, stream=HABITS, **durable_consumer("metrics-habit-archived")
)
async def on_habit_archived(event: HabitArchivedV1, service: Service) -> None:
    await service.recompute(event.habit_id)


@subscribers.subscriber(
    UserDeletedV1.subject, stream=ACCOUNTS, **durable_consumer("metrics-user-deleted")
)
async def on_user_deleted(event: UserDeletedV1, service: Service) -> None:
    await service.erase_user(event.user_id)


@subscribers.subscriber(GET, queue="metrics", max_workers=RPC_WORKERS)
@rpc_handler
async def on_get(query: MetricsQuery, service: Service) -> HabitMetricsOut:
    return await service.current(query)


@subscribers.subscriber(STRENGTH, queue="metrics", max_workers=RPC_WORKERS)
@rpc_handler
async def on_strength(query: RangeQuery, service: Service) -> StrengthOut:
    return await service.strength(query)


@subscribers.subscriber(TREND, queue="metrics", max_workers=RPC_WORKERS)
@rpc_handler
async def on_trend(query: TrendQuery, service: Service) -> TrendOut:
    return await service.trend(query)


@subscribers.subscriber(HISTORY, queue="metrics", max_workers=RPC_WORKERS)
@rpc_handler
async def on_history(query: HistoryQuery, service: Service) -> HistoryOut:
    return await service.history(query)
