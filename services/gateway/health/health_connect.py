"""Health Connect (Android) exports as JSON: the records of the Health Connect API, serialised.

Health Connect has no JSON export of its own (the app backs up a database); phones send Habyss
the records the Jetpack client returns, one object per record with the API's field names:

```json
{"format": "health_connect", "version": 1, "records": [
  {"type": "Steps", "startTime": "2024-03-10T15:00:00Z", "endTime": "2024-03-10T15:59:00Z",
   "count": 523, "metadata": {"dataOrigin": "com.google.android.apps.fitness"}},
  {"type": "ActiveCaloriesBurned", "startTime": "…", "endTime": "…",
   "energy": {"inKilocalories": 250.0}},
  {"type": "ExerciseSession", "exerciseType": "RUNNING", "startTime": "…", "endTime": "…"},
  {"type": "SleepSession", "startTime": "…", "endTime": "…",
   "stages": [{"startTime": "…", "endTime": "…", "stage": "DEEP"}]},
  {"type": "MindfulnessSession", "startTime": "…", "endTime": "…"}]}
```

Other record types are skipped. Exercise sessions give both workouts (by type) and exercise
minutes. A sleep session without stages counts whole; with stages, only the asleep ones.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.gateway.health.daily import SLEEP_DAY_BOUNDARY, DailyTotals, DayCutter
from services.gateway.health.errors import InvalidExport

_ASLEEP = frozenset({"SLEEPING", "LIGHT", "DEEP", "REM", "STAGE_TYPE_SLEEPING"})
_LOOSE = ConfigDict(extra="allow", populate_by_name=True)


class _Energy(BaseModel):
    model_config = _LOOSE
    in_kilocalories: float = Field(alias="inKilocalories", ge=0)


class _Stage(BaseModel):
    model_config = _LOOSE
    start_time: datetime = Field(alias="startTime")
    end_time: datetime = Field(alias="endTime")
    stage: str | int


class _Record(BaseModel):
    model_config = _LOOSE
    type: str
    start_time: datetime = Field(alias="startTime")
    end_time: datetime = Field(alias="endTime")
    count: float | None = Field(None, ge=0)
    energy: _Energy | None = None
    exercise_type: str | int | None = Field(None, alias="exerciseType")
    stages: list[_Stage] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class HealthConnectExport(BaseModel):
    """The document's envelope."""

    model_config = ConfigDict(extra="allow")
    format: Literal["health_connect"]
    version: int = 1
    records: list[dict[str, Any]]


def _stamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("times need a zone (Z or an offset)")
    return moment.timestamp()


def _key(exercise_type: str | int | None) -> str:
    if exercise_type is None:
        return "other"
    if isinstance(exercise_type, int):
        return f"type_{exercise_type}"
    return exercise_type.removeprefix("EXERCISE_TYPE_").lower()[:64] or "other"


def parse_document(doc: Any, zone: str, day_start: time) -> DailyTotals:
    """Aggregate a parsed Health Connect document into the user's local days.

    Raises:
        InvalidExport: The envelope or a kept record does not have the documented shape.
    """
    try:
        export = HealthConnectExport.model_validate(doc)
    except ValidationError as exc:
        raise InvalidExport(
            'This is not a Health Connect export ({"format": "health_connect", "records": [...]}).',
            details=exc.errors(include_url=False, include_input=False),
        ) from None
    cutter = DayCutter(zone, day_start)
    sleep_cutter = DayCutter(zone, SLEEP_DAY_BOUNDARY, previous_day=True)
    totals = DailyTotals()
    for index, raw in enumerate(export.records):
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind not in ("Steps", "ActiveCaloriesBurned", "ExerciseSession", "SleepSession",
                        "MindfulnessSession"):  # fmt: skip
            continue
        try:
            record = _Record.model_validate(raw)
            _add(record, cutter, sleep_cutter, totals)
        except (ValidationError, ValueError) as exc:
            raise InvalidExport(
                f"Record {index} ({kind}) is unreadable: {exc}".splitlines()[0],
                details=[{"loc": ["body", "records", index], "reason": "bad_record"}],
            ) from None
        totals.records += 1
    return totals


def _add(record: _Record, cutter: DayCutter, sleep_cutter: DayCutter, totals: DailyTotals) -> None:
    start, end = _stamp(record.start_time), _stamp(record.end_time)
    source = str(record.metadata.get("dataOrigin") or "")
    minutes = max(0.0, end - start) / 60
    if record.type == "Steps":
        if record.count is None:
            raise ValueError("a Steps record needs a count")
        totals.add_interval(cutter, "steps", start, end, record.count, source)
    elif record.type == "ActiveCaloriesBurned":
        if record.energy is None:
            raise ValueError("an ActiveCaloriesBurned record needs energy")
        totals.add_interval(
            cutter, "active_energy", start, end, record.energy.in_kilocalories, source
        )
    elif record.type == "ExerciseSession":
        key = _key(record.exercise_type)
        totals.add_interval(cutter, "workouts", start, end, minutes, source, key=key, counts=True)
        totals.add_interval(cutter, "exercise_minutes", start, end, minutes, source)
    elif record.type == "MindfulnessSession":
        totals.add_interval(cutter, "mindful_minutes", start, end, minutes, source, counts=True)
    elif record.type == "SleepSession":
        if not record.stages:
            totals.add_interval(sleep_cutter, "sleep_minutes", start, end, minutes, source)
        for stage in record.stages:
            if str(stage.stage).upper() in _ASLEEP:
                s, e = _stamp(stage.start_time), _stamp(stage.end_time)
                totals.add_interval(
                    sleep_cutter, "sleep_minutes", s, e, max(0.0, e - s) / 60, source
                )
