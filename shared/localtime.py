"""A user's calendar: what "today" is for someone, given their zone and when their day starts.

Log dates are local calendar dates. A user's today is the calendar date of (now in the user's IANA
zone − ``day_start``), so a night owl with ``day_start`` 04:00 who logs at 01:30 logs for the day
before. DST never moves a date: the subtraction happens on the local wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def is_valid_zone(name: str) -> bool:
    """Tell whether ``name`` is an IANA time zone this machine knows (``UTC`` included)."""
    if name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


_ZONES: frozenset[str] | None = None


def local_today(now: datetime, zone: str, day_start: time = time(0, 0)) -> date:
    """Return the user's calendar date at the instant ``now``.

    Args:
        now: An aware instant (any zone); naive values are taken as UTC.
        zone: The user's IANA time zone.
        day_start: The wall-clock time at which the user's day begins.

    Returns:
        The date of (``now`` on the user's wall clock − ``day_start``).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    wall = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    shifted = wall - timedelta(hours=day_start.hour, minutes=day_start.minute)
    return shifted.date()


def parse_day_start(value: str) -> time:
    """Parse ``"HH:MM"`` (00:00–23:59) into a time; raise ``ValueError`` otherwise."""
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError("day_start must look like HH:MM")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError("day_start must be between 00:00 and 23:59")
    return time(hour, minute)


def weekday_index(name: str) -> int:
    """Return 0 for ``monday`` through 6 for ``sunday``; raise ``ValueError`` for other names."""
    try:
        return WEEKDAYS.index(name.lower())
    except ValueError:
        raise ValueError(f"unknown weekday {name!r}") from None
