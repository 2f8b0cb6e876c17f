"""Apple Health ``export.xml``, streamed: the records Habyss keeps, cut into local days.

The file (hundreds of MB for a few years of an Apple Watch) is read with
``lxml.etree.iterparse`` and each top-level ``Record`` or ``Workout`` is dropped once read, so
memory stays flat whatever the size. Entities are never expanded and no DTD or network resource
is loaded; a document whose prolog declares an entity is refused before parsing (the export's
own DTD declares none), which stops "billion laughs" bombs outright.

Kept: step count, active energy (kcal; kJ converted), Apple exercise time, sleep analysis
(asleep stages; "in bed" only on a night no source recorded asleep time), mindful
sessions and workouts by activity type. Records nested in a ``Correlation`` repeat top-level
ones and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from typing import IO

from lxml import etree

from services.gateway.health.daily import SLEEP_DAY_BOUNDARY, DailyTotals, DayCutter
from services.gateway.health.errors import InvalidExport, MalformedExport

ROOT = b"<HealthData"
PROLOG_LIMIT = 4 * 1024 * 1024
_QUANTITIES = {
    "HKQuantityTypeIdentifierStepCount": "steps",
    "HKQuantityTypeIdentifierActiveEnergyBurned": "active_energy",
    "HKQuantityTypeIdentifierAppleExerciseTime": "exercise_minutes",
}
_SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
_MINDFUL = "HKCategoryTypeIdentifierMindfulSession"
_ASLEEP = frozenset(
    {
        "HKCategoryValueSleepAnalysisAsleep",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
    }
)
_IN_BED = "HKCategoryValueSleepAnalysisInBed"
_ENERGY_FACTORS = {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184, "cal": 0.001}
_DURATION_FACTORS = {"min": 1.0, "s": 1 / 60, "h": 60.0, "hr": 60.0}
_ACTIVITY_PREFIX = "HKWorkoutActivityType"


def check_prolog(head: bytes) -> None:
    """Refuse what is not an Apple Health export, or declares entities, from its first bytes.

    Args:
        head: The start of the document, through the root element's start if it is there.

    Raises:
        InvalidExport: No ``<HealthData`` root in the first bytes, or an ``<!ENTITY``
            declaration before it.
    """
    at = head.find(ROOT)
    prolog = head if at < 0 else head[:at]
    if b"<!ENTITY" in prolog.upper():
        raise InvalidExport(
            "The XML declares entities; Apple Health exports declare none, and entity "
            "expansion is refused.",
            details=[{"loc": ["body"], "reason": "entity_declaration"}],
        )
    if at < 0:
        raise InvalidExport(
            "This is not an Apple Health export (no <HealthData> root element).",
            details=[{"loc": ["body"], "reason": "unknown_format"}],
        )


def workout_key(activity: str) -> str:
    """``HKWorkoutActivityTypeTraditionalStrengthTraining`` → ``traditional_strength_training``."""
    name = activity.removeprefix(_ACTIVITY_PREFIX) or "other"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()[:64]


def _instant(text: str | None) -> float:
    if not text:
        raise ValueError("missing date")
    # "2024-03-10 07:00:00 -0800": fromisoformat reads it (3.11+), offset and all.
    return datetime.fromisoformat(text).timestamp()


class _Sleep:
    """Asleep and in-bed minutes per source and night, combined when the file is read."""

    def __init__(self) -> None:
        self.asleep = DailyTotals()
        self.in_bed = DailyTotals()

    def merge_into(self, totals: DailyTotals) -> None:
        """Per night: asleep minutes where any source recorded them, else in-bed minutes."""
        nights = {r.day for r in self.asleep.rows()}
        for row in self.asleep.rows():
            totals.add("sleep_minutes", row.day, row.value, row.key)
        for row in self.in_bed.rows():
            if row.day not in nights:
                totals.add("sleep_minutes", row.day, row.value, row.key)


def parse_export(
    stream: IO[bytes],
    zone: str,
    day_start: time,
    progress: Callable[[int], None] | None = None,
    *,
    every: int = 20000,
) -> DailyTotals:
    """Read an ``export.xml`` stream into daily totals in the user's zone.

    Args:
        stream: The document, positioned at its start (a file, or a zip member).
        zone: The user's IANA time zone.
        day_start: When the user's day begins.
        progress: Called with the number of records read so far, every ``every`` records.
        every: How often ``progress`` is called.

    Returns:
        The totals (``records`` counts the top-level records and workouts read).

    Raises:
        MalformedExport: The XML is not well formed (a truncated file, say).
        InvalidExport: A kept record has unreadable dates or values.
    """
    cutter = DayCutter(zone, day_start)
    sleep_cutter = DayCutter(zone, SLEEP_DAY_BOUNDARY, previous_day=True)
    totals = DailyTotals()
    sleep = _Sleep()
    # Mindful sessions and workouts add across sources; the same session written by two apps
    # (same type and interval) counts once.
    seen_sessions: set[tuple[str, float, float]] = set()
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=("Record", "Workout"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    records = 0
    try:
        for _, elem in parser:
            parent = elem.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # nested in a Correlation: a copy of a top-level record
            records += 1
            try:
                _read(elem, cutter, sleep_cutter, totals, sleep, seen_sessions)
            except (ValueError, TypeError) as exc:
                raise InvalidExport(
                    f"Record {records} ({elem.get('type') or elem.tag}) is unreadable: {exc}.",
                    details=[{"loc": ["body", "record", records], "reason": "bad_record"}],
                ) from None
            elem.clear()
            while elem.getprevious() is not None:
                del parent[0]
            if progress is not None and records % every == 0:
                progress(records)
    except etree.XMLSyntaxError as exc:
        if progress is not None:
            progress(records)
        raise MalformedExport(
            f"The XML is not well formed ({exc.msg}); is the file complete?",
            details=[{"loc": ["body"], "line": exc.lineno, "reason": "xml_syntax"}],
        ) from None
    sleep.merge_into(totals)
    totals.records = records
    if progress is not None:
        progress(records)
    return totals


def _read(
    elem: etree._Element,
    cutter: DayCutter,
    sleep_cutter: DayCutter,
    totals: DailyTotals,
    sleep: _Sleep,
    seen: set[tuple[str, float, float]],
) -> None:
    get = elem.get
    if elem.tag == "Workout":
        start, end = _instant(get("startDate")), _instant(get("endDate"))
        activity = workout_key(get("workoutActivityType") or "")
        raw = get("duration")
        minutes = (
            float(raw) * _DURATION_FACTORS.get(get("durationUnit") or "min", 1.0)
            if raw
            else (end - start) / 60
        )
        if (activity, start, end) in seen:
            return
        seen.add((activity, start, end))
        source = get("sourceName") or ""
        totals.add_interval(
            cutter, "workouts", start, end, minutes, source, key=activity, counts=True
        )
        return
    kind = get("type")
    data_type = _QUANTITIES.get(kind or "")
    if data_type is not None:
        value = float(get("value") or "nan")
        if value != value:
            raise ValueError("missing value")
        if data_type == "active_energy":
            value *= _ENERGY_FACTORS.get(get("unit") or "kcal", 1.0)
        elif data_type == "exercise_minutes":
            value *= _DURATION_FACTORS.get(get("unit") or "min", 1.0)
        start, end = _instant(get("startDate")), _instant(get("endDate"))
        totals.add_interval(cutter, data_type, start, end, value, get("sourceName") or "")
    elif kind == _SLEEP:
        stage = get("value")
        start, end = _instant(get("startDate")), _instant(get("endDate"))
        minutes = max(0.0, end - start) / 60
        source = get("sourceName") or ""
        if stage in _ASLEEP:
            sleep.asleep.add_interval(sleep_cutter, "sleep", start, end, minutes, "", key=source)
        elif stage == _IN_BED:
            sleep.in_bed.add_interval(sleep_cutter, "sleep", start, end, minutes, "", key=source)
    elif kind == _MINDFUL:
        start, end = _instant(get("startDate")), _instant(get("endDate"))
        if ("mindful", start, end) in seen:
            return
        seen.add(("mindful", start, end))
        totals.add_interval(
            cutter,
            "mindful_minutes",
            start,
            end,
            max(0.0, end - start) / 60,
            get("sourceName") or "",
            counts=True,
        )
