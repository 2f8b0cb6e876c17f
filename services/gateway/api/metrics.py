"""``/v1/habits/{id}/metrics|strength|trend``: answered by the metrics service over rpc."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter

from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.fields import ApiDate, FromDate, ToDate
from shared.contracts.metrics import (
    GET,
    STRENGTH,
    TREND,
    HabitMetricsOut,
    MetricsQuery,
    RangeQuery,
    StrengthOut,
    TrendOut,
    TrendQuery,
)
from shared.rpc import call

router = APIRouter(prefix="/v1/habits", tags=["metrics"], responses=ERROR_RESPONSES)
From = FromDate
To = ToDate


@router.get(
    "/{habit_id}/metrics",
    description="Streaks, completion rates, strength and totals as of `as_of` (default: your "
    "today). Logs after `as_of` are ignored. See docs/metrics.md for the exact semantics.",
)
async def habit_metrics(
    habit_id: uuid.UUID, caller: CallerId, rt: RuntimeDep, as_of: ApiDate | None = None
) -> HabitMetricsOut:
    query = MetricsQuery(user_id=caller, habit_id=habit_id, as_of=as_of)
    return HabitMetricsOut.model_validate(await call(rt.broker, GET, query))


@router.get(
    "/{habit_id}/strength",
    description="The daily strength score (0..1); default range: the last 90 days.",
)
async def habit_strength(
    habit_id: uuid.UUID, caller: CallerId, rt: RuntimeDep, from_: From = None, to: To = None
) -> StrengthOut:
    query = RangeQuery(user_id=caller, habit_id=habit_id, start=from_, end=to)
    return StrengthOut.model_validate(await call(rt.broker, STRENGTH, query))


@router.get(
    "/{habit_id}/trend",
    description="Per ISO week or calendar month: average, minimum, maximum and total of daily "
    "sums, and the number of logged days. Quantity habits only; default: the last 12 months.",
)
async def habit_trend(
    habit_id: uuid.UUID,
    caller: CallerId,
    rt: RuntimeDep,
    granularity: Literal["week", "month"] = "week",
    from_: From = None,
    to: To = None,
) -> TrendOut:
    query = TrendQuery(
        user_id=caller, habit_id=habit_id, start=from_, end=to, granularity=granularity
    )
    return TrendOut.model_validate(await call(rt.broker, TREND, query))
