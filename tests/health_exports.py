"""Realistic health exports generated in code (no fixture is downloaded), with expected totals.

:func:`write_apple_export` writes an Apple Health ``export.xml`` as the Health app does: the
DTD-bearing prolog, ``ExportDate``, ``Me``, then records grouped by type. Per local day it has
hourly iPhone steps plus watch steps in ten-minute samples (the larger source wins), one sample
across midnight, active energy in kJ from one source, exercise minutes, a night's sleep in stages
across midnight (with an "in bed" envelope), a mindful session, workouts (one across midnight on
Saturdays), heart-rate noise and a correlation whose nested records must not count. The expected
daily totals are computed here from the same plan, independently of the parser.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

Expected = dict[tuple[str, str, date], float]

PROLOG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate value CDATA #REQUIRED>
<!ELEMENT Me EMPTY>
<!ATTLIST Me HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED
  sourceName CDATA #REQUIRED sourceVersion CDATA #IMPLIED device CDATA #IMPLIED
  creationDate CDATA #IMPLIED startDate CDATA #REQUIRED endDate CDATA #REQUIRED>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutStatistics|WorkoutRoute)*)>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry key CDATA #REQUIRED value CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="{export}"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-04-02"
  HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
_DEVICE = (
    "&lt;&lt;HKDevice: 0x283f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch&gt;"
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def _record(kind: str, source: str, unit: str, value: Any, start: datetime, end: datetime) -> str:
    return (
        f' <Record type="{kind}" sourceName="{source}" sourceVersion="10.1" device="{_DEVICE}" '
        f'unit="{unit}" creationDate="{_stamp(end)}" startDate="{_stamp(start)}" '
        f'endDate="{_stamp(end)}" value="{value}"/>\n'
    )


def _category(kind: str, source: str, value: str, start: datetime, end: datetime) -> str:
    return (
        f' <Record type="{kind}" sourceName="{source}" sourceVersion="10.1" '
        f'creationDate="{_stamp(end)}" startDate="{_stamp(start)}" endDate="{_stamp(end)}" '
        f'value="{value}">\n  <MetadataEntry key="HKTimeZone" value="Europe/Berlin"/>\n </Record>\n'
    )


def _workout(activity: str, start: datetime, end: datetime) -> str:
    minutes = (end.timestamp() - start.timestamp()) / 60
    return (
        f' <Workout workoutActivityType="HKWorkoutActivityType{activity}" duration="{minutes}" '
        f'durationUnit="min" sourceName="Apple Watch" sourceVersion="10.1" '
        f'creationDate="{_stamp(end)}" startDate="{_stamp(start)}" endDate="{_stamp(end)}">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" '
        f'startDate="{_stamp(start)}" endDate="{_stamp(end)}" sum="310" unit="kcal"/>\n'
        " </Workout>\n"
    )


def _days(first: date, count: int) -> Iterator[date]:
    for offset in range(count):
        yield first + timedelta(days=offset)


def apple_export_lines(
    first: date, days: int, zone: str, *, heart_rate_per_day: int = 0
) -> tuple[list[str], Expected]:
    """The lines of an export and the daily totals it should give (user day starts at 00:00)."""
    tz = ZoneInfo(zone)
    expected: defaultdict[tuple[str, str, date], float] = defaultdict(float)

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)

    lines = [PROLOG.replace("{export}", _stamp(at(first + timedelta(days=days), 9)))]
    steps_phone: list[str] = []
    steps_watch: list[str] = []
    energy: list[str] = []
    exercise: list[str] = []
    heart: list[str] = []
    sleep: list[str] = []
    mindful: list[str] = []
    workouts: list[str] = []
    for index, day in enumerate(_days(first, days)):
        phone = watch = 0.0
        # iPhone: hourly samples 08:00-20:00 of 300 steps.
        for hour in range(8, 21):
            steps_phone.append(
                _record(
                    "HKQuantityTypeIdentifierStepCount",
                    "iPhone",
                    "count",
                    300,
                    at(day, hour),
                    at(day, hour, 59),
                )
            )
            phone += 300
        # Watch: ten-minute samples 07:00-20:00 of 100 + day index % 7 * 10 steps.
        per = 100 + (index % 7) * 10
        for slot in range(78):
            start = at(day, 7) + timedelta(minutes=10 * slot)
            steps_watch.append(
                _record(
                    "HKQuantityTypeIdentifierStepCount",
                    "Apple Watch",
                    "count",
                    per,
                    start,
                    start + timedelta(minutes=10),
                )
            )
            watch += per
        # A walk home across midnight: 23:50-00:10, 200 steps, half on each day.
        steps_watch.append(
            _record(
                "HKQuantityTypeIdentifierStepCount",
                "Apple Watch",
                "count",
                200,
                at(day, 23, 50),
                at(day + timedelta(days=1), 0, 10),
            )
        )
        watch += 100
        expected[("steps", "", day + timedelta(days=1))] += 100  # carried into the next day
        expected[("steps", "", day)] += max(phone, watch)
        # Active energy: 4 samples of 418.4 kJ (100 kcal) each.
        for hour in (9, 12, 15, 18):
            energy.append(
                _record(
                    "HKQuantityTypeIdentifierActiveEnergyBurned",
                    "Apple Watch",
                    "kJ",
                    418.4,
                    at(day, hour),
                    at(day, hour, 30),
                )
            )
        expected[("active_energy", "", day)] += 400
        exercise.append(
            _record(
                "HKQuantityTypeIdentifierAppleExerciseTime",
                "Apple Watch",
                "min",
                25,
                at(day, 18),
                at(day, 18, 25),
            )
        )
        expected[("exercise_minutes", "", day)] += 25
        for k in range(heart_rate_per_day):
            moment = at(day, 0) + timedelta(seconds=(86000 * k) // max(1, heart_rate_per_day))
            heart.append(
                _record(
                    "HKQuantityTypeIdentifierHeartRate",
                    "Apple Watch",
                    "count/min",
                    60 + k % 40,
                    moment,
                    moment,
                )
            )
        # Sleep the night after `day`: in bed 22:30-06:45, asleep in stages 23:00-06:30,
        # an awake spell 03:00-03:10; it belongs to the next morning.
        night = day + timedelta(days=1)
        sleep.append(
            _category(
                "HKCategoryTypeIdentifierSleepAnalysis",
                "iPhone",
                "HKCategoryValueSleepAnalysisInBed",
                at(day, 22, 30),
                at(night, 6, 45),
            )
        )
        stages = [
            ("AsleepCore", at(day, 23, 0), at(night, 1, 0)),
            ("AsleepDeep", at(night, 1, 0), at(night, 3, 0)),
            ("Awake", at(night, 3, 0), at(night, 3, 10)),
            ("AsleepREM", at(night, 3, 10), at(night, 6, 30)),
        ]
        asleep = 0.0
        for stage, start, end in stages:
            sleep.append(
                _category(
                    "HKCategoryTypeIdentifierSleepAnalysis",
                    "Apple Watch",
                    f"HKCategoryValueSleepAnalysis{stage}",
                    start,
                    end,
                )
            )
            if stage != "Awake":
                # Real elapsed time: aware datetimes of one zone subtract on the wall clock.
                asleep += (end.timestamp() - start.timestamp()) / 60
        expected[("sleep_minutes", "", night)] += asleep
        if index % 2 == 0:
            mindful.append(
                _category(
                    "HKCategoryTypeIdentifierMindfulSession",
                    "Breathe",
                    "HKCategoryValueNotApplicable",
                    at(day, 7, 0),
                    at(day, 7, 10),
                )
            )
            expected[("mindful_minutes", "", day)] += 10
        weekday = day.weekday()
        if weekday in (0, 2, 4):
            workouts.append(_workout("Running", at(day, 18), at(day, 18, 30)))
            expected[("workouts", "running", day)] += 30
            expected[("workouts", "", day)] += 30
        if weekday == 5:
            # A late dance class: 23:30-00:30, split half and half.
            workouts.append(
                _workout("SocialDance", at(day, 23, 30), at(day + timedelta(days=1), 0, 30))
            )
            for d in (day, day + timedelta(days=1)):
                expected[("workouts", "social_dance", d)] += 30
                expected[("workouts", "", d)] += 30
    # The last day's midnight walk and night are cut by the export's end: drop what falls
    # after the last day (a later export will bring it).
    correlation = (
        ' <Correlation type="HKCorrelationTypeIdentifierFood" sourceName="MyFitnessPal" '
        f'creationDate="{_stamp(at(first, 12))}" startDate="{_stamp(at(first, 12))}" '
        f'endDate="{_stamp(at(first, 12))}">\n'
        + _record(
            "HKQuantityTypeIdentifierStepCount",
            "MyFitnessPal",
            "count",
            99999,
            at(first, 12),
            at(first, 12, 1),
        )
        + " </Correlation>\n"
    )
    summaries = [
        f' <ActivitySummary dateComponents="{d.isoformat()}" activeEnergyBurned="400" '
        'activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="kcal" appleExerciseTime="25"/>\n'
        for d in _days(first, days)
    ]
    lines += steps_phone + steps_watch + energy + exercise + heart + sleep + mindful
    lines += [correlation, *workouts, *summaries, "</HealthData>\n"]
    return lines, dict(expected)


def apple_export(first: date, days: int, zone: str, **kw: Any) -> tuple[bytes, Expected]:
    """An ``export.xml`` as bytes, and its expected daily totals."""
    lines, expected = apple_export_lines(first, days, zone, **kw)
    return "".join(lines).encode(), expected


def apple_zip(xml: bytes) -> bytes:
    """The ``export.zip`` the Health app shares: the XML under ``apple_health_export/``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", xml)
        archive.writestr("apple_health_export/export_cda.xml", b"<ClinicalDocument/>")
        archive.writestr("apple_health_export/workout-routes/route_1.gpx", b"<gpx/>")
    return out.getvalue()


def write_large_apple_export(out: IO[bytes], target_bytes: int, zone: str) -> int:
    """Write an export of about ``target_bytes`` (heart-rate heavy, like a watch wearer's)."""
    written = 0
    first = date(2019, 1, 1)
    lines, _ = apple_export_lines(first, 1, zone)
    out.write(lines[0].encode())
    body_end = b"</HealthData>\n"
    day = first
    records = 0
    while written < target_bytes:
        chunk, _ = apple_export_lines(day, 7, zone, heart_rate_per_day=400)
        # Drop the prolog and the closing tag of each week's block.
        payload = "".join(chunk[1:-1]).encode()
        out.write(payload)
        written += len(payload)
        records += sum(1 for line in chunk[1:-1] if line.startswith((" <Record", " <Workout")))
        day += timedelta(days=7)
    out.write(body_end)
    return records


def health_connect_export(first: date, days: int, zone: str) -> tuple[bytes, Expected]:
    """A Health Connect JSON export (see docs/integrations.md) and its expected totals."""
    tz = ZoneInfo(zone)
    records: list[dict[str, Any]] = []
    expected: defaultdict[tuple[str, str, date], float] = defaultdict(float)

    def iso(day: date, hour: int, minute: int = 0) -> tuple[str, str]:
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        offset = moment.strftime("%z")
        return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"), (
            f"{offset[:3]}:{offset[3:]}"
        )

    for index, day in enumerate(_days(first, days)):
        for hour in range(8, 20):
            start, off = iso(day, hour)
            end, _ = iso(day, hour, 59)
            count = 500 + 10 * index
            records.append(
                {
                    "type": "Steps",
                    "startTime": start,
                    "startZoneOffset": off,
                    "endTime": end,
                    "endZoneOffset": off,
                    "count": count,
                    "metadata": {
                        "dataOrigin": "com.sec.android.app.shealth",
                        "id": f"s{index}{hour}",
                    },
                }
            )
            expected[("steps", "", day)] += count
        start, off = iso(day, 17)
        end, _ = iso(day, 17, 45)
        records.append(
            {
                "type": "ActiveCaloriesBurned",
                "startTime": start,
                "endTime": end,
                "energy": {"inKilocalories": 250.0},
                "metadata": {"dataOrigin": "com.google.android.apps.fitness"},
            }
        )
        expected[("active_energy", "", day)] += 250
        if day.weekday() in (1, 3):
            records.append(
                {
                    "type": "ExerciseSession",
                    "exerciseType": "BIKING",
                    "startTime": start,
                    "endTime": end,
                    "title": "Commute",
                    "metadata": {"dataOrigin": "com.strava"},
                }
            )
            expected[("workouts", "biking", day)] += 45
            expected[("workouts", "", day)] += 45
            expected[("exercise_minutes", "", day)] += 45
        bed, off = iso(day, 23)
        night = day + timedelta(days=1)
        deep_start, _ = iso(night, 1)
        wake, _ = iso(night, 7)
        records.append(
            {
                "type": "SleepSession",
                "startTime": bed,
                "endTime": wake,
                "stages": [
                    {"startTime": bed, "endTime": deep_start, "stage": "LIGHT"},
                    {"startTime": deep_start, "endTime": wake, "stage": "DEEP"},
                ],
                "metadata": {"dataOrigin": "com.google.android.apps.fitness"},
            }
        )
        asleep = datetime.fromisoformat(wake) - datetime.fromisoformat(bed)
        expected[("sleep_minutes", "", night)] += asleep.total_seconds() / 60
        start, _ = iso(day, 7)
        end, _ = iso(day, 7, 15)
        records.append({"type": "MindfulnessSession", "startTime": start, "endTime": end})
        expected[("mindful_minutes", "", day)] += 15
    doc = {"format": "health_connect", "version": 1, "zone": zone, "records": records}
    return json.dumps(doc).encode(), dict(expected)


def fitbit_zip(first: date, days: int) -> tuple[bytes, Expected]:
    """A Fitbit Takeout zip (``Global Export Data`` files) and its expected totals."""
    expected: defaultdict[tuple[str, str, date], float] = defaultdict(float)
    steps: list[dict[str, str]] = []
    very: list[dict[str, str]] = []
    moderate: list[dict[str, str]] = []
    sleep: list[dict[str, Any]] = []
    exercise: list[dict[str, Any]] = []
    for index, day in enumerate(_days(first, days)):
        stamp = day.strftime("%m/%d/%y")
        for hour in range(7, 21):
            for minute in (0, 15, 30, 45):
                value = 20 + index % 5
                steps.append(
                    {"dateTime": f"{stamp} {hour:02d}:{minute:02d}:00", "value": str(value)}
                )
                expected[("steps", "", day)] += value
        very.append({"dateTime": f"{stamp} 00:00:00", "value": "20"})
        moderate.append({"dateTime": f"{stamp} 00:00:00", "value": str(10 + index % 3)})
        expected[("exercise_minutes", "", day)] += 30 + index % 3
        night = day + timedelta(days=1)
        sleep.append(
            {
                "logId": 1000 + index,
                "dateOfSleep": night.isoformat(),
                "startTime": f"{day.isoformat()}T23:15:00.000",
                "endTime": f"{night.isoformat()}T06:45:00.000",
                "duration": 27000000,
                "minutesAsleep": 410,
                "minutesAwake": 40,
                "timeInBed": 450,
                "type": "stages",
                "mainSleep": True,
            }
        )
        expected[("sleep_minutes", "", night)] += 410
        if day.weekday() == 6:
            exercise.append(
                {
                    "logId": 5000 + index,
                    "activityName": "Run",
                    "activityTypeId": 90009,
                    "startTime": f"{stamp} 09:00:00",
                    "duration": 2700000,
                    "activeDuration": 2700000,
                    "calories": 420,
                    "logType": "auto_detected",
                }
            )
            expected[("workouts", "run", day)] += 45
            expected[("workouts", "", day)] += 45
    out = io.BytesIO()
    base = "Takeout/Fitbit/Global Export Data/"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{base}steps-{first.isoformat()}.json", json.dumps(steps))
        archive.writestr(f"{base}very_active_minutes-{first.isoformat()}.json", json.dumps(very))
        archive.writestr(
            f"{base}moderately_active_minutes-{first.isoformat()}.json", json.dumps(moderate)
        )
        archive.writestr(f"{base}sleep-{first.isoformat()}.json", json.dumps(sleep))
        archive.writestr(f"{base}exercise-0.json", json.dumps(exercise))
        archive.writestr(f"{base}heart_rate-{first.isoformat()}.json", json.dumps([]))
        archive.writestr("Takeout/archive_browser.html", "<html></html>")
    return out.getvalue(), dict(expected)
