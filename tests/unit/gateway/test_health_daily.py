"""The pure health aggregation: local days, DST, midnight splits, sources, links, analysis."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.gateway.health.analysis import compare_with_habits, summarize
from services.gateway.health.apple import check_prolog, parse_export, workout_key
from services.gateway.health.daily import SLEEP_DAY_BOUNDARY, DailyTotals, DayCutter
from services.gateway.health.errors import InvalidExport, MalformedExport
from services.gateway.health.links import LinkRule, combine_integrations, days_to_log
from tests.health_exports import apple_export, health_connect_export

BERLIN = ZoneInfo("Europe/Berlin")


def ts(y: int, m: int, d: int, h: int, mi: int = 0, zone: ZoneInfo = BERLIN) -> float:
    return datetime(y, m, d, h, mi, tzinfo=zone).timestamp()


def test_an_interval_across_midnight_splits_by_time_inside_each_day() -> None:
    cutter = DayCutter("Europe/Berlin")
    parts = list(cutter.split(ts(2026, 5, 1, 23, 30), ts(2026, 5, 2, 0, 30)))
    assert parts == [(date(2026, 5, 1), 0.5), (date(2026, 5, 2), 0.5)]
    assert list(cutter.split(ts(2026, 5, 1, 10), ts(2026, 5, 1, 10))) == [(date(2026, 5, 1), 1.0)]


def test_dst_days_are_23_and_25_hours_long() -> None:
    cutter = DayCutter("Europe/Berlin")
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    for day, hours in ((spring, 23), (autumn, 25)):
        length = cutter.day_start(date.fromordinal(day.toordinal() + 1)) - cutter.day_start(day)
        assert length == hours * 3600
    # 01:30-03:30 wall on the spring day is one real hour, all on that day.
    assert list(cutter.split(ts(2026, 3, 29, 1, 30), ts(2026, 3, 29, 3, 30))) == [(spring, 1.0)]


def test_the_day_start_and_the_sleep_boundary_move_the_cut() -> None:
    owl = DayCutter("UTC", time(4, 0))
    moment = datetime(2026, 5, 2, 3, 0, tzinfo=UTC).timestamp()
    assert owl.day_of(moment) == date(2026, 5, 1)
    night = DayCutter("Europe/Berlin", SLEEP_DAY_BOUNDARY, previous_day=True)
    assert night.day_of(ts(2026, 5, 1, 23)) == date(2026, 5, 2)
    assert night.day_of(ts(2026, 5, 2, 7)) == date(2026, 5, 2)
    assert night.day_of(ts(2026, 5, 2, 19)) == date(2026, 5, 3)


def test_sources_measuring_the_same_steps_do_not_add_but_sessions_do() -> None:
    totals = DailyTotals()
    day = date(2026, 5, 1)
    totals.add("steps", day, 4000, "iPhone")
    totals.add("steps", day, 6000, "Watch")
    totals.add("mindful_minutes", day, 10, "Breathe", count=1)
    totals.add("mindful_minutes", day, 5, "Calm", count=1)
    totals.add("workouts", day, 30, "Watch", key="running", count=1)
    totals.add("workouts", day, 20, "Strava", key="cycling", count=1)
    rows = {(r.data_type, r.key): (r.value, r.count) for r in totals.all_rows()}
    assert rows[("steps", "")] == (6000, 0)
    assert rows[("mindful_minutes", "")] == (15, 2)
    assert rows[("workouts", "")] == (50, 2)
    assert rows[("workouts", "running")] == (30, 1)


@pytest.mark.parametrize(
    ("zone", "first"),
    [("Europe/Berlin", date(2026, 3, 25)), ("America/New_York", date(2026, 10, 28))],
)
def test_a_generated_apple_export_gives_the_planned_totals(zone: str, first: date) -> None:
    xml, expected = apple_export(first, 12, zone, heart_rate_per_day=30)
    seen: list[int] = []
    totals = parse_export(io.BytesIO(xml), zone, time(0, 0), seen.append, every=500)
    got = {(r.data_type, r.key, r.day): r.value for r in totals.all_rows()}
    assert set(got) == set(expected)
    assert {k: v for k, v in got.items() if abs(v - expected[k]) > 0.01} == {}
    assert totals.records == seen[-1] and seen == sorted(seen) and len(seen) > 3
    # The 99,999 steps nested in a food correlation were not counted.
    assert max(v for (t, _, _), v in got.items() if t == "steps") < 20_000


def test_sleep_in_bed_counts_only_on_nights_without_asleep_stages() -> None:
    head = '<?xml version="1.0"?><HealthData>'
    rec = (
        '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{s}" value="{v}" '
        'startDate="{a}" endDate="{b}"/>'
    )
    body = head + "".join(
        rec.format(s=s, v=f"HKCategoryValueSleepAnalysis{v}", a=a, b=b)
        for s, v, a, b in [
            ("iPhone", "InBed", "2026-05-01 22:00:00 +0000", "2026-05-02 07:00:00 +0000"),
            ("Watch", "AsleepCore", "2026-05-01 23:00:00 +0000", "2026-05-02 06:00:00 +0000"),
            ("iPhone", "InBed", "2026-05-02 23:00:00 +0000", "2026-05-03 06:00:00 +0000"),
        ]
    )
    totals = parse_export(io.BytesIO((body + "</HealthData>").encode()), "UTC", time(0, 0))
    got = {r.day: r.value for r in totals.all_rows()}
    assert got == {date(2026, 5, 2): 420.0, date(2026, 5, 3): 420.0}


def test_entities_and_broken_xml_are_refused() -> None:
    with pytest.raises(InvalidExport):
        check_prolog(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><HealthData>')
    with pytest.raises(InvalidExport):
        check_prolog(b"<?xml version='1.0'?><svg></svg>")
    check_prolog(b'<?xml version="1.0"?><!DOCTYPE HealthData [<!ELEMENT a EMPTY>]><HealthData>')
    xml, _ = apple_export(date(2026, 1, 1), 2, "UTC")
    with pytest.raises(MalformedExport):
        parse_export(io.BytesIO(xml[: len(xml) // 2]), "UTC", time(0, 0))


def test_workout_keys_are_snake_case() -> None:
    assert workout_key("HKWorkoutActivityTypeTraditionalStrengthTraining") == (
        "traditional_strength_training"
    )
    assert workout_key("HKWorkoutActivityTypeHIIT") == "hiit"


def test_health_connect_document_totals() -> None:
    from services.gateway.health.health_connect import parse_document

    doc, expected = health_connect_export(date(2026, 10, 28), 10, "America/New_York")
    import json

    totals = parse_document(json.loads(doc), "America/New_York", time(0, 0))
    got = {(r.data_type, r.key, r.day): r.value for r in totals.all_rows()}
    assert {k: v for k, v in got.items() if abs(v - expected[k]) > 0.01} == {}
    assert set(got) == set(expected)


def test_links_log_days_that_meet_the_rule_and_have_no_log() -> None:
    values = {date(2026, 5, d): v for d, v in [(1, 9000), (2, 7000), (3, 8000), (4, 12000)]}
    days = days_to_log(
        values,
        LinkRule(8000),
        start=date(2026, 5, 1),
        today=date(2026, 5, 3),
        logged={date(2026, 5, 1)},
    )
    assert days == [date(2026, 5, 3)]
    assert LinkRule(60, "at_most").met(45) and not LinkRule(60, "at_most").met(61)
    assert combine_integrations([(date(2026, 5, 1), 5), (date(2026, 5, 1), 7)]) == {
        date(2026, 5, 1): 7
    }


def test_summary_and_the_comparison_with_a_habit() -> None:
    values = {date(2026, 5, d): float(v) for d, v in enumerate([13, 10, 13, 10, 13, 10], 1)}
    summary = summarize(values)
    assert (summary.days_with_data, summary.total, summary.average) == (6, 69.0, 11.5)
    assert summary.best_day == date(2026, 5, 5)
    run_days = {date(2026, 5, 1), date(2026, 5, 3), date(2026, 5, 5)}
    (comparison,) = compare_with_habits(values, [("h1", "Run", run_days), ("h2", "Read", set())])
    assert comparison.difference_percent == 30.0
    assert summarize({}).average is None
