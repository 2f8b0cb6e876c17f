"""Bus entry points of the learning service: feedback and outcomes in, rpc reads answered."""

from __future__ import annotations

from typing import Annotated

from faststream import Context

from services.learning.service import LearningService
from shared.contracts.learning import (
    ASSIGN,
    CONVERT,
    DEFINE_EXPERIMENT,
    EXPERIMENT_REPORT,
    INSIGHTS,
    NOTIFICATIONS,
    OPTIMAL_TIME,
    PREDICT,
    PREFERENCES,
    SWEEP,
    AssignmentOut,
    AssignQuery,
    ConversionIn,
    ConversionOut,
    ExperimentIn,
    ExperimentOut,
    ExperimentReportOut,
    InsightsOut,
    NotificationsOut,
    OptimalTimeOut,
    OptimalTimeQuery,
    PredictionOut,
    PredictQuery,
    PreferencesOut,
    ReportQuery,
    SweepOut,
    UserQuery,
)
from shared.events.accounts import UserDeletedV1
from shared.events.habits import HabitLogDeletedV1, HabitLogRecordedV1
from shared.events.learning import FeedbackRecordedV1
from shared.events.metrics import HabitMetricsUpdatedV1
from shared.messaging import Subscribers, durable_consumer
from shared.rpc import rpc_handler
from shared.streams import ACCOUNTS, HABITS, LEARNING, METRICS

subscribers = Subscribers()
# Reads wait on PostgreSQL; without workers a slow one would hold up the rest.
RPC_WORKERS = 32
Service = Annotated[LearningService, Context("learning")]


@subscribers.subscriber(
    FeedbackRecordedV1.subject, stream=LEARNING, **durable_consumer("learning-feedback")
)
async def on_feedback_recorded(event: FeedbackRecordedV1, service: Service) -> None:
    await service.record_feedback(event)


@subscribers.subscriber(
    HabitMetricsUpdatedV1.subject, stream=METRICS, **durable_consumer("learning-metrics-updated")
)
async def on_metrics_updated(event: HabitMetricsUpdatedV1, service: Service) -> None:
    await service.on_metrics_updated(event)


@subscribers.subscriber(
    UserDeletedV1.subject, stream=ACCOUNTS, **durable_consumer("learning-user-deleted")
)
async def on_user_deleted(event: UserDeletedV1, service: Service) -> None:
    await service.erase_user(event.user_id)


@subscribers.subscriber(
    HabitLogRecordedV1.subject, stream=HABITS, **durable_consumer("learning-log-recorded")
)
async def on_log_recorded(event: HabitLogRecordedV1, service: Service) -> None:
    await service.record_log_event(event)


@subscribers.subscriber(
    HabitLogDeletedV1.subject, stream=HABITS, **durable_consumer("learning-log-deleted")
)
async def on_log_deleted(event: HabitLogDeletedV1, service: Service) -> None:
    await service.record_log_event(event)


@subscribers.subscriber(PREDICT, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_predict(query: PredictQuery, service: Service) -> PredictionOut:
    return await service.predict(query)


@subscribers.subscriber(OPTIMAL_TIME, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_optimal_time(query: OptimalTimeQuery, service: Service) -> OptimalTimeOut:
    return await service.optimal_time(query)


@subscribers.subscriber(PREFERENCES, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_preferences(query: UserQuery, service: Service) -> PreferencesOut:
    return await service.preferences(query)


@subscribers.subscriber(INSIGHTS, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_insights(query: UserQuery, service: Service) -> InsightsOut:
    return await service.insights(query)


@subscribers.subscriber(NOTIFICATIONS, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_notifications(query: UserQuery, service: Service) -> NotificationsOut:
    return await service.notifications(query)


@subscribers.subscriber(SWEEP, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_sweep(query: UserQuery, service: Service) -> SweepOut:
    return await service.sweep_user(query.user_id)


@subscribers.subscriber(ASSIGN, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_assign(query: AssignQuery, service: Service) -> AssignmentOut:
    return await service.assign(query)


@subscribers.subscriber(DEFINE_EXPERIMENT, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_define_experiment(data: ExperimentIn, service: Service) -> ExperimentOut:
    return await service.define_experiment(data)


@subscribers.subscriber(CONVERT, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_convert(data: ConversionIn, service: Service) -> ConversionOut:
    return await service.convert(data)


@subscribers.subscriber(EXPERIMENT_REPORT, queue="learning", max_workers=RPC_WORKERS)
@rpc_handler
async def on_experiment_report(query: ReportQuery, service: Service) -> ExperimentReportOut:
    return await service.experiment_report(query)
