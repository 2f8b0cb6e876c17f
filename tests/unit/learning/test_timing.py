from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.learning.rhythm import rhythm_of
from services.learning.timing import (
    TimedOutcome,
    TimeWindow,
    find_optimal_windows,
    habit_kind,
)


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def length(w: TimeWindow) -> int:
    return (minutes(w.end) - minutes(w.start)) % 1440


def within(w: TimeWindow, lo: str, hi: str) -> bool:
    return minutes(lo) <= minutes(w.start) and minutes(w.start) + length(w) <= minutes(hi)


def covers(w: TimeWindow, moment: int) -> bool:
    return (moment - minutes(w.start)) % 1440 < length(w)


def completions(hour: int, minute: int, count: int, zone: str, success: bool = True):
    tz = ZoneInfo(zone)
    first = date(2025, 5, 1)
    return [
        TimedOutcome(datetime.combine(first + timedelta(days=i), time(hour, minute), tz), success)
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("kind", "chronotype", "lo", "hi"),
    [
        ("exercise", "morning", "06:00", "08:00"),
        ("exercise", "evening", "17:00", "19:00"),
        ("meditation", "morning", "06:00", "07:00"),
        ("meditation", "evening", "08:30", "09:30"),
        ("reading", "neutral", "22:00", "23:00"),
        ("journaling", "morning", "21:00", "22:00"),
        ("learning", "evening", "18:00", "20:00"),
    ],
)
def test_defaults_follow_habit_type_and_chronotype(kind, chronotype, lo, hi):
    advice = find_optimal_windows(kind, 30, "low", chronotype)
    assert advice.source == "defaults"
    assert within(advice.windows[0], lo, hi), advice.windows[0]
    assert "isn't enough" in advice.explanation


def test_habit_kinds_from_free_text():
    assert habit_kind("Morning run") == "exercise"
    assert habit_kind("read 10 pages") == "reading"
    assert habit_kind("Gratitude_journal") == "journaling"
    assert habit_kind("water the plants") == "general"


@pytest.mark.parametrize(
    ("duration", "flexibility", "expected"),
    [(45, "low", 45), (10, "low", 15), (10, "medium", 60), (10, "high", 120), (90, "medium", 90)],
)
def test_windows_honour_duration_and_flexibility(duration, flexibility, expected):
    advice = find_optimal_windows("exercise", duration, flexibility, "morning")
    assert {length(w) for w in advice.windows} == {expected}


@pytest.mark.parametrize("chronotype", ["morning", "evening", "neutral", None])
@pytest.mark.parametrize(
    "kind", ["exercise", "meditation", "reading", "journaling", "learning", "x"]
)
def test_windows_are_ranked_apart_and_never_suggest_sleeping_hours_first(kind, chronotype):
    advice = find_optimal_windows(kind, 20, "medium", chronotype, limit=4)
    windows = advice.windows
    assert 1 <= len(windows) <= 4
    scores = [w.score for w in windows]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    for a in windows:
        for b in windows:
            if a is not b:
                gap = (minutes(b.start) - minutes(a.start)) % 1440
                assert length(a) + 60 <= gap <= 1440 - length(b) - 60
    r = rhythm_of(chronotype)
    asleep = range(r.sleep, r.wake + 1440)
    top = windows[0]
    start = minutes(top.start)
    assert start not in asleep and start + 1440 not in asleep


def test_own_history_outweighs_the_defaults():
    history = completions(19, 10, 20, "Europe/Berlin")
    advice = find_optimal_windows("exercise", 30, "medium", "morning", history, "Europe/Berlin")
    assert advice.source == "history"
    assert covers(advice.windows[0], 19 * 60 + 10)
    assert "20 times" in advice.windows[0].reason
    assert advice.explanation.startswith("Based on 20 completions")


def test_instants_are_read_on_the_users_clock():
    history = completions(19, 10, 20, "Europe/Berlin")  # 17:10 UTC in May
    tokyo = find_optimal_windows("exercise", 30, "medium", None, history, "Asia/Tokyo")
    assert covers(tokyo.windows[0], 2 * 60 + 10)  # 02:10 the next day in Tokyo
    utc = find_optimal_windows("exercise", 30, "medium", None, history, "UTC")
    assert covers(utc.windows[0], 17 * 60 + 10)


def test_a_local_habit_stays_put_across_a_dst_change():
    tz = ZoneInfo("Europe/Berlin")
    days = [date(2025, 3, 20) + timedelta(days=i) for i in range(20)]  # DST starts 30 March
    history = [TimedOutcome(datetime.combine(d, time(7, 0), tz)) for d in days]
    advice = find_optimal_windows("meditation", 10, "low", None, history, "Europe/Berlin")
    assert advice.windows[0].start in ("06:45", "07:00")


def test_misses_count_against_a_time():
    zone = "UTC"
    history = (
        completions(7, 0, 10, zone)
        + completions(7, 0, 30, zone, success=False)
        + completions(18, 0, 10, zone)
    )
    advice = find_optimal_windows("general", 30, "medium", None, history, zone)
    assert covers(advice.windows[0], 18 * 60)
    morning = next(w for w in advice.windows if covers(w, 7 * 60))
    assert "missed it 30 times" in morning.reason


def test_a_little_history_blends_with_the_defaults():
    history = completions(12, 0, 4, "UTC")
    advice = find_optimal_windows("exercise", 30, "medium", "morning", history, "UTC")
    assert advice.source == "blended"
    assert "4 completions" in advice.explanation


def test_limit_is_respected():
    assert len(find_optimal_windows("reading", 20, "low", "evening", limit=1).windows) == 1


def test_naive_instants_are_utc():
    aware = completions(7, 0, 12, "UTC")
    naive = [TimedOutcome(o.at.replace(tzinfo=None)) for o in aware]
    for zone in ("UTC", "Asia/Tokyo"):
        assert find_optimal_windows("reading", 20, "low", None, naive, zone) == (
            find_optimal_windows("reading", 20, "low", None, aware, zone)
        )
