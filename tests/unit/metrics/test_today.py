"""A user's today (``shared.localtime.local_today``) feeding the metrics engine.

Instants are written in UTC, as a server sees them; the expected dates are worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.metrics.engine import HabitSpec, LogEntry, Schedule, compute_metrics
from shared.localtime import local_today

NEW_YORK = "America/New_York"
KIRITIMATI = "Pacific/Kiritimati"
FOUR_AM = time(4, 0)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def daily(start: date) -> HabitSpec:
    return HabitSpec("boolean", Schedule(), start)


# --- day_start ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (utc(2026, 2, 10, 0, 30), date(2026, 2, 9)),  # 01:30 in Paris: still the 9th
        (utc(2026, 2, 10, 2, 59), date(2026, 2, 9)),  # 03:59
        (utc(2026, 2, 10, 3, 0), date(2026, 2, 10)),  # 04:00: the 10th begins
    ],
)
def test_day_start_four_am(now: datetime, today: date) -> None:
    assert local_today(now, "Europe/Paris", FOUR_AM) == today


def test_a_night_owl_keeps_the_streak_with_day_start_four_am() -> None:
    habit = daily(date(2026, 2, 2))
    logs = [LogEntry(date(2026, 2, d)) for d in range(2, 9)]
    # Logged at 01:30 Paris time on the 10th, which is still the 9th for this user.
    late = utc(2026, 2, 10, 0, 30)
    logs.append(LogEntry(local_today(late, "Europe/Paris", FOUR_AM)))
    assert logs[-1].date == date(2026, 2, 9)
    assert (
        compute_metrics(habit, logs, local_today(late, "Europe/Paris", FOUR_AM)).current_streak == 8
    )
    # At 04:00 the 10th begins and is pending: the streak holds.
    dawn = local_today(utc(2026, 2, 10, 3, 0), "Europe/Paris", FOUR_AM)
    assert compute_metrics(habit, logs, dawn).current_streak == 8
    # A full day later without a log, the 10th is missed.
    next_dawn = local_today(utc(2026, 2, 11, 3, 0), "Europe/Paris", FOUR_AM)
    assert compute_metrics(habit, logs, next_dawn).current_streak == 0


# --- UTC+14 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (utc(2026, 2, 9, 9, 59), date(2026, 2, 9)),  # 23:59 on the 9th in Kiritimati
        (utc(2026, 2, 9, 10, 0), date(2026, 2, 10)),  # midnight: the 10th, while UTC is the 9th
        (utc(2026, 2, 9, 23, 30), date(2026, 2, 10)),
    ],
)
def test_kiritimati_is_a_day_ahead_of_utc(now: datetime, today: date) -> None:
    assert local_today(now, KIRITIMATI) == today


def test_kiritimati_streak_counts_the_local_date() -> None:
    habit = daily(date(2026, 2, 2))
    logs = [LogEntry(date(2026, 2, d)) for d in range(2, 10)]
    now = utc(2026, 2, 9, 10, 30)  # 00:30 on the 10th locally
    today = local_today(now, KIRITIMATI)
    assert today == date(2026, 2, 10)
    before = compute_metrics(habit, logs, today)
    assert (before.current_streak, before.completion_rate_week) == (8, 1.0)  # 10th pending
    logs.append(LogEntry(today))
    after = compute_metrics(habit, logs, today)
    assert (after.current_streak, after.last_completed_on) == (9, date(2026, 2, 10))


# --- New York across both DST changes of 2026 ------------------------------------------------


@pytest.mark.parametrize(
    ("now", "day_start", "today"),
    [
        # 8 March: clocks jump from 02:00 EST (07:00 UTC) to 03:00 EDT.
        (utc(2026, 3, 8, 6, 59), time(0, 0), date(2026, 3, 8)),  # 01:59 EST
        (utc(2026, 3, 8, 7, 30), FOUR_AM, date(2026, 3, 7)),  # 03:30 EDT, before 04:00
        (utc(2026, 3, 8, 8, 0), FOUR_AM, date(2026, 3, 8)),  # 04:00 EDT
        (utc(2026, 3, 9, 3, 59), time(0, 0), date(2026, 3, 8)),  # 23:59 EDT
        (utc(2026, 3, 9, 4, 0), time(0, 0), date(2026, 3, 9)),  # midnight EDT, not 23:00
        # 1 November: 01:30 happens twice, at 05:30 UTC (EDT) and 06:30 UTC (EST).
        (utc(2026, 11, 1, 5, 30), time(0, 0), date(2026, 11, 1)),
        (utc(2026, 11, 1, 6, 30), time(0, 0), date(2026, 11, 1)),
        (utc(2026, 11, 1, 5, 30), FOUR_AM, date(2026, 10, 31)),
        (utc(2026, 11, 1, 6, 30), FOUR_AM, date(2026, 10, 31)),
        (utc(2026, 11, 1, 9, 0), FOUR_AM, date(2026, 11, 1)),  # 04:00 EST
        (utc(2026, 11, 2, 4, 59), time(0, 0), date(2026, 11, 1)),  # 23:59 EST
        (utc(2026, 11, 2, 5, 0), time(0, 0), date(2026, 11, 2)),
    ],
)
def test_new_york_dates_across_dst(now: datetime, day_start: time, today: date) -> None:
    assert local_today(now, NEW_YORK, day_start) == today


@pytest.mark.parametrize(
    ("first_night", "offsets"),
    [
        # 23:30 each night, 5-11 March: EST (UTC-5) until the 8th's 02:00, then EDT (UTC-4).
        pytest.param(date(2026, 3, 5), [5, 5, 5, 4, 4, 4, 4], id="spring forward"),
        # 23:30 each night, 29 October-4 November: EDT until 1 November's 02:00, then EST.
        pytest.param(date(2026, 10, 29), [4, 4, 4, 5, 5, 5, 5], id="fall back"),
    ],
)
@pytest.mark.parametrize("day_start", [time(0, 0), FOUR_AM])
def test_new_york_nightly_streak_survives_dst(
    first_night: date, offsets: list[int], day_start: time
) -> None:
    habit = daily(first_night)
    logs: list[LogEntry] = []
    for night, offset in enumerate(offsets):
        local = datetime.combine(first_night + timedelta(days=night), time(23, 30))
        now = (local + timedelta(hours=offset)).replace(tzinfo=UTC)
        today = local_today(now, NEW_YORK, day_start)
        assert today == first_night + timedelta(days=night)
        logs.append(LogEntry(today))
        got = compute_metrics(habit, logs, today)
        assert got.current_streak == night + 1
        assert got.completion_rate_week == 1.0
    # The morning after the last night: the new day is pending and the streak holds.
    morning = (
        datetime.combine(first_night + timedelta(days=len(offsets)), time(8, 0))
        + timedelta(hours=offsets[-1])
    ).replace(tzinfo=UTC)
    today = local_today(morning, NEW_YORK, day_start)
    assert today == first_night + timedelta(days=len(offsets))
    assert compute_metrics(habit, logs, today).current_streak == len(offsets)
