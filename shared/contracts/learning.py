"""The learning service's rpc subjects, requests and replies (``rpc.learning.*.v1``).

Every request carries the ``user_id`` of the authenticated caller (the gateway or the agent sets
it, never a model); a habit id that is not that user's answers ``not_found``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PREDICT = "rpc.learning.predict.v1"
OPTIMAL_TIME = "rpc.learning.optimal_time.v1"
PREFERENCES = "rpc.learning.preferences.v1"
ASSIGN = "rpc.learning.assign.v1"
DEFINE_EXPERIMENT = "rpc.learning.define_experiment.v1"
CONVERT = "rpc.learning.convert.v1"
EXPERIMENT_REPORT = "rpc.learning.experiment_report.v1"
INSIGHTS = "rpc.learning.insights.v1"
NOTIFICATIONS = "rpc.learning.notifications.v1"
SWEEP = "rpc.learning.sweep.v1"

Flexibility = Literal["low", "medium", "high"]
ExperimentKey = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]


def live_notifications(user_id: uuid.UUID | str) -> str:
    """Return the core-NATS subject on which a user's new nudges are pushed live (not stored).

    Args:
        user_id: The user.

    Returns:
        ``live.notifications.<user_id>``; the gateway's SSE stream subscribes to it.
    """
    return f"live.notifications.{user_id}"


class Query(BaseModel):
    """Base of the requests: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class UserQuery(Query):
    """A request about one user."""

    user_id: uuid.UUID


# --- prediction -----------------------------------------------------------------------------


class HabitDraft(Query):
    """A proposed habit, or facts that override what is derived for an existing one.

    Everything is optional: an existing habit's title, schedule and logs supply the rest, and a
    proposed habit falls back to typical values (10 minutes, daily, moderate difficulty).
    """

    title: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=50)
    difficulty: float | None = Field(default=None, ge=0, le=1)
    duration_minutes: float | None = Field(default=None, gt=0, le=720)
    times_per_week: float | None = Field(default=None, gt=0, le=14)
    schedule: dict[str, Any] | None = None
    scheduled_time: time | None = None
    outdoor: bool | None = None
    has_stack_trigger: bool | None = None


class PredictQuery(UserQuery):
    """Ask how likely a habit is to happen on a day (the user's next day by default)."""

    habit_id: uuid.UUID | None = None
    habit: HabitDraft | None = None
    on: date | None = None

    @model_validator(mode="after")
    def _some_habit(self) -> PredictQuery:
        if self.habit_id is None and self.habit is None:
            raise ValueError("give habit_id (an existing habit) or habit (a proposed one)")
        return self


class FactorOut(BaseModel):
    """One term of the prediction's log-odds: positive helps, negative hurts."""

    name: str
    label: str
    contribution: float


class RecommendationOut(BaseModel):
    """A concrete change answering one risk factor."""

    code: str
    factor: str
    message: str


class PredictionOut(BaseModel):
    """The chance of success, how much data stands behind it, and why."""

    habit_id: uuid.UUID | None
    on: date
    probability: float
    confidence: float
    top_success_factors: list[FactorOut]
    top_risk_factors: list[FactorOut]
    recommendations: list[RecommendationOut]


# --- timing ---------------------------------------------------------------------------------


class OptimalTimeQuery(UserQuery):
    """Ask for the best time windows of an existing habit or of a habit type."""

    habit_id: uuid.UUID | None = None
    habit_type: str | None = Field(default=None, min_length=1, max_length=200)
    duration_minutes: float | None = Field(default=None, gt=0, le=720)
    flexibility: Flexibility = "medium"
    limit: int = Field(default=3, ge=1, le=5)

    @model_validator(mode="after")
    def _some_habit(self) -> OptimalTimeQuery:
        if self.habit_id is None and self.habit_type is None:
            raise ValueError("give habit_id or habit_type")
        return self


class TimeWindowOut(BaseModel):
    """A suggested window on the user's wall clock (``end`` may be past midnight)."""

    start: str
    end: str
    score: float
    reason: str


class OptimalTimeOut(BaseModel):
    """Ranked windows, best first, and what they rest on."""

    habit_type: str
    zone: str
    windows: list[TimeWindowOut]
    explanation: str
    source: Literal["history", "blended", "defaults"]
    completions_used: int


# --- preferences ----------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    """The assistant preferences in effect, and per field where each came from."""

    communication_style: str
    detail_level: str
    emoji_preference: str
    notification_frequency: str
    proactive_suggestions: bool
    sources: dict[str, Literal["explicit", "inferred", "default"]]
    reasons: dict[str, str]


# --- experiments ----------------------------------------------------------------------------


class VariantIn(BaseModel):
    """One arm of an experiment and its share of traffic."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: ExperimentKey
    weight: float = Field(default=1.0, gt=0, le=1000)


class ExperimentIn(Query):
    """Define an experiment (idempotent for an identical definition; 409 for a different one)."""

    key: ExperimentKey
    variants: list[VariantIn] = Field(min_length=2, max_length=10)
    metric: str = Field(min_length=1, max_length=100)
    control: str | None = None


class ExperimentOut(BaseModel):
    """A stored experiment definition."""

    key: str
    variants: list[VariantIn]
    metric: str
    control: str


class AssignQuery(UserQuery):
    """Ask which variant a user sees; records the exposure."""

    experiment: ExperimentKey


class AssignmentOut(BaseModel):
    """The variant of one user in one experiment (always the same)."""

    experiment: str
    variant: str
    metric: str


class ConversionIn(UserQuery):
    """Record that a user reached an experiment's metric (counted once per user)."""

    experiment: ExperimentKey


class ConversionOut(BaseModel):
    """Whether the conversion counts: the user was exposed and had not converted before."""

    experiment: str
    variant: str | None
    recorded: bool


class ReportQuery(Query):
    """Ask for an experiment's report."""

    experiment: ExperimentKey


class VariantResultOut(BaseModel):
    """One variant's rate and its difference from the control, with the 95 % interval."""

    variant: str
    exposures: int
    conversions: int
    rate: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool | None


class ExperimentReportOut(BaseModel):
    """Every variant compared with the control (Newcombe's hybrid score interval)."""

    experiment: str
    metric: str
    control: str
    method: str
    variants: list[VariantResultOut]


# --- nudges, notifications, insights --------------------------------------------------------


class NudgeOut(BaseModel):
    """A proposed change to a habit that shows early signs of being dropped."""

    id: uuid.UUID
    habit_id: uuid.UUID
    reason: str
    message: str
    modification: dict[str, Any]
    signals: list[str]
    local_date: date
    tone: str
    timing: str
    created_at: datetime


class NotificationsOut(BaseModel):
    """Nudges delivered and not yet answered (newest first), and the "new suggestion" dot."""

    nudges: list[NudgeOut]
    has_new_suggestion: bool


class SweepOut(BaseModel):
    """What one churn sweep of a user did."""

    user_id: uuid.UUID
    learned: int
    verdict: str
    nudge: NudgeOut | None
    retry_at: datetime | None


class InsightOut(BaseModel):
    """An observation about the user's habits."""

    kind: str
    habit_id: uuid.UUID | None
    message: str
    priority: int


class SuggestionOut(BaseModel):
    """A change the user can accept."""

    kind: str
    habit_id: uuid.UUID
    message: str
    details: dict[str, Any]
    priority: int


class PredictionItemOut(BaseModel):
    """One habit's outlook for its next scheduled day."""

    habit_id: uuid.UUID
    title: str
    probability: float
    confidence: float
    success_factors: list[str]
    risk_factors: list[str]


class InsightsOut(BaseModel):
    """The ``GET /v1/insights`` body."""

    insights: list[InsightOut]
    suggestions: list[SuggestionOut]
    predictions: list[PredictionItemOut]
