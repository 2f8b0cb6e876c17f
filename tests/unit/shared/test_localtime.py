from datetime import UTC, date, datetime, time

import pytest

from shared.localtime import is_valid_zone, local_today, parse_day_start, weekday_index


@pytest.mark.parametrize(
    ("instant", "zone", "day_start", "expected"),
    [
        # Plain midnight boundary in UTC.
        (datetime(2026, 5, 1, 23, 59, tzinfo=UTC), "UTC", time(0, 0), date(2026, 5, 1)),
        (datetime(2026, 5, 2, 0, 0, tzinfo=UTC), "UTC", time(0, 0), date(2026, 5, 2)),
        # A night owl whose day starts at 04:00 still logs for "yesterday" at 03:59.
        (datetime(2026, 5, 2, 3, 59, tzinfo=UTC), "UTC", time(4, 0), date(2026, 5, 1)),
        (datetime(2026, 5, 2, 4, 0, tzinfo=UTC), "UTC", time(4, 0), date(2026, 5, 2)),
        # Kiritimati (UTC+14) is already on the next date when UTC is at 10:00.
        (
            datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
            "Pacific/Kiritimati",
            time(0, 0),
            date(2026, 5, 2),
        ),
        (
            datetime(2026, 5, 1, 9, 59, tzinfo=UTC),
            "Pacific/Kiritimati",
            time(0, 0),
            date(2026, 5, 1),
        ),
        # New York: the night clocks spring forward (8 March 2026, 02:00 EST → 03:00 EDT).
        (datetime(2026, 3, 8, 4, 59, tzinfo=UTC), "America/New_York", time(0, 0), date(2026, 3, 7)),
        (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "America/New_York", time(0, 0), date(2026, 3, 8)),
        (datetime(2026, 3, 9, 3, 59, tzinfo=UTC), "America/New_York", time(0, 0), date(2026, 3, 8)),
        (datetime(2026, 3, 9, 4, 0, tzinfo=UTC), "America/New_York", time(0, 0), date(2026, 3, 9)),
        # ...and fall back (1 November 2026, 02:00 EDT → 01:00 EST); the day is 25 hours long.
        (
            datetime(2026, 11, 1, 3, 59, tzinfo=UTC),
            "America/New_York",
            time(0, 0),
            date(2026, 10, 31),
        ),
        (
            datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
            "America/New_York",
            time(0, 0),
            date(2026, 11, 1),
        ),
        (
            datetime(2026, 11, 2, 4, 59, tzinfo=UTC),
            "America/New_York",
            time(0, 0),
            date(2026, 11, 1),
        ),
        (
            datetime(2026, 11, 2, 5, 0, tzinfo=UTC),
            "America/New_York",
            time(0, 0),
            date(2026, 11, 2),
        ),
        # day_start 04:00 on the DST night: 04:00 local is 08:00 UTC after springing forward.
        (datetime(2026, 3, 8, 7, 59, tzinfo=UTC), "America/New_York", time(4, 0), date(2026, 3, 7)),
        (datetime(2026, 3, 8, 8, 0, tzinfo=UTC), "America/New_York", time(4, 0), date(2026, 3, 8)),
    ],
)
def test_local_today(instant: datetime, zone: str, day_start: time, expected: date) -> None:
    assert local_today(instant, zone, day_start) == expected


def test_naive_instants_are_utc() -> None:
    assert local_today(datetime(2026, 1, 1, 23, 30), "Europe/Paris") == date(2026, 1, 2)


@pytest.mark.parametrize(
    ("zone", "valid"),
    [("Europe/Paris", True), ("UTC", True), ("Pacific/Kiritimati", True),
     ("Mars/Base", False), ("", False), ("../etc/passwd", False), ("europe/paris", False)],
)  # fmt: skip
def test_zone_names(zone: str, valid: bool) -> None:
    assert is_valid_zone(zone) is valid


@pytest.mark.parametrize("text", ["24:00", "4:00", "04:60", "0400", "", "aa:bb"])
def test_day_start_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day_start(text)


def test_day_start_and_weekdays_parse() -> None:
    assert parse_day_start("04:30") == time(4, 30)
    assert weekday_index("Sunday") == 6
    with pytest.raises(ValueError):
        weekday_index("funday")
