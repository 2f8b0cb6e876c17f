"""Request and response bodies of the health-integration endpoints (``/v1/integrations``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.integrations import DataTypeName, IntegrationName

JobStatus = Literal["queued", "running", "succeeded", "failed"]


class LinkIn(BaseModel):
    """Log ``habit_id`` on days when ``data_type`` reaches ``threshold``."""

    model_config = ConfigDict(extra="forbid")
    habit_id: uuid.UUID
    data_type: DataTypeName
    threshold: float = Field(ge=0, le=1_000_000)
    direction: Literal["at_least", "at_most"] = "at_least"
    integration: IntegrationName | None = Field(
        None, description="Only this integration's data; null takes the largest of any"
    )
    workout_type: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="For workouts: one activity type (e.g. running); null for all workouts",
    )

    @model_validator(mode="after")
    def _workout_type_only_for_workouts(self) -> LinkIn:
        if self.workout_type is not None and self.data_type != "workouts":
            raise ValueError("workout_type applies only to data_type workouts")
        return self


class LinkOut(BaseModel):
    id: uuid.UUID
    habit_id: uuid.UUID
    data_type: DataTypeName
    threshold: float
    direction: Literal["at_least", "at_most"]
    integration: IntegrationName | None
    workout_type: str | None
    unit: str
    created_at: datetime
    logged_days: int = Field(0, description="Days auto-logged from data already imported")


class JobOut(BaseModel):
    """An import and how far it is; ``processed``/``total`` count bytes of the export read."""

    id: uuid.UUID
    integration: IntegrationName
    status: JobStatus
    processed: int
    total: int
    unit: Literal["bytes"] = "bytes"
    records: int
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
