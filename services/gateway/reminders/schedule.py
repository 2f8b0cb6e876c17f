"""When a reminder fires: pure wall-clock arithmetic over IANA zones, the clock an argument.

A reminder names a local time of day ("07:30") in the user's zone, optionally some weekdays, and
by default follows its habit's schedule. This module answers two questions without I/O:

- :func:`next_fire_time`: the first instant strictly after a given one at which the reminder
  fires. DST: the wall time is kept on both sides of a change (07:30 stays 07:30 local); a time
  that does not exist that day (the spring-forward gap) fires at the first minute that does; a
  time that occurs twice (fall back) fires once, at its first occurrence.
- :func:`due_on` and :func:`period_met`: whether the habit wants a reminder on a local date —
  not on a day its schedule does not list, not before its start date, not once the target of
  the period that holds the date is met (or the period is excused by skips).
- :func:`plan_fire`: what the scheduler does with a reminder whose stored fire time has come:
  deliver the latest missed fire time once, or drop it when it is more than an hour late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAY_CODES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A reminder more than this late (its service was down) is dropped, not delivered.
MAX_LATENESS = timedelta(hours=1)
# Gaps in the tz database are at most a day long (Samoa skipped 2011-12-30); DST gaps are 30 to
# 120 minutes, so the walk below ends within two hours in practice.
_GAP_MINUTES = 24 * 60
# Catching up after a long outage walks fire times; a reminder fires at most daily, so a year of
# downtime is 366 steps. Past that the walk restarts from ``now`` (see plan_fire).
_MAX_WALK = 400


@dataclass(frozen=True, slots=True)
class FireRule:
    """The wall-clock part of a reminder.

    Attributes:
        at: Local time of day.
        days: Weekdays it may fire on (0 = Monday … 6 = Sunday); empty means every day.
    """

    at: time
    days: frozenset[int] = frozenset()

    def allows(self, day: date) -> bool:
        return not self.days or day.weekday() in self.days


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of wall time ``at`` on ``day`` in ``zone``.

    A wall time inside a DST gap resolves to the first minute after the gap; an ambiguous one
    (it occurs twice) to its first occurrence.
    """
    wall = datetime.combine(day, at.replace(second=0, microsecond=0))
    for minute in range(_GAP_MINUTES):
        candidate = (wall + timedelta(minutes=minute)).replace(tzinfo=zone, fold=0)
        instant = candidate.astimezone(UTC)
        # A wall time that does not exist does not survive the round trip.
        if instant.astimezone(zone).replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return instant
    raise ValueError(f"no valid local time near {wall} in {zone.key}")  # pragma: no cover


def next_fire_time(rule: FireRule, zone: str, after: datetime) -> datetime | None:
    """Return the first instant (UTC) strictly after ``after`` at which ``rule`` fires.

    Args:
        rule: The reminder's time of day and weekdays.
        zone: The user's IANA time zone.
        after: An aware instant (naive values are taken as UTC).

    Returns:
        The next fire time, or ``None`` when the rule allows no weekday at all.
    """
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    tz = ZoneInfo(zone)
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(9):
        day = start + timedelta(days=offset)
        if not rule.allows(day):
            continue
        instant = local_instant(day, rule.at, tz)
        if instant > after:
            return instant
    return None


def local_fire_date(instant: datetime, zone: str) -> date:
    """The wall-clock date on which a fire instant happens in the user's zone."""
    return instant.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True, slots=True)
class FirePlan:
    """What to do with a reminder whose fire time has come.

    Attributes:
        fire_at: The fire time to deliver (the latest one not after ``now``), or ``None``.
        dropped: The fire time dropped for being older than :data:`MAX_LATENESS`, or ``None``.
        skipped: Earlier missed fire times folded into this one (caught up once, not many times).
        next_at: The fire time to store for the next round (strictly after ``now``).
    """

    fire_at: datetime | None
    dropped: datetime | None
    skipped: int
    next_at: datetime | None


def plan_fire(rule: FireRule, zone: str, due_at: datetime, now: datetime) -> FirePlan:
    """Fold every fire time from ``due_at`` through ``now`` into at most one delivery.

    After an outage several fire times may have passed. Only the latest counts: it is delivered
    when it is at most an hour late and dropped otherwise; the earlier ones are skipped.
    """
    latest = due_at
    skipped = 0
    for _ in range(_MAX_WALK):
        following = next_fire_time(rule, zone, latest)
        if following is None or following > now:
            break
        latest, skipped = following, skipped + 1
    else:
        # Down for longer than the walk: nothing recent enough to deliver can be left out.
        return FirePlan(None, latest, skipped, next_fire_time(rule, zone, now))
    next_at = next_fire_time(rule, zone, now)
    if now - latest > MAX_LATENESS:
        return FirePlan(None, latest, skipped, next_at)
    return FirePlan(latest, None, skipped, next_at)


# --- the habit's side: due days and met periods ------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogFact:
    """One log of the habit: its local date, status (``done``/``skip``) and value."""

    date: date
    status: str
    value: float | None = None


def schedule_days(schedule: Mapping[str, Any]) -> frozenset[int]:
    """The weekdays a ``weekdays`` schedule lists; empty for interval schedules (any day)."""
    if schedule.get("type") != "weekdays":
        return frozenset()
    return frozenset(WEEKDAY_CODES.index(str(d)[:3].lower()) for d in schedule.get("days", []))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def period_of(
    schedule: Mapping[str, Any], start_date: date, week_start: int, day: date
) -> tuple[date, date]:
    """Return the first and last date of the schedule's period that holds ``day``.

    Periods follow section 5 of the design: blocks of ``every`` days from ``start_date``; of
    ``every`` weeks aligned to ``week_start``; of ``every`` calendar months or years; a
    ``weekdays`` schedule's period is the day itself.
    """
    if schedule.get("type") != "interval":
        return day, day
    every = int(schedule.get("every", 1))
    unit = schedule.get("unit", "day")
    if unit == "day":
        first = start_date + timedelta(days=(day - start_date).days // every * every)
        return first, first + timedelta(days=every - 1)
    if unit == "week":
        anchor = start_date - timedelta(days=(start_date.weekday() - week_start) % 7)
        weeks = (day - anchor).days // 7 // every * every
        first = anchor + timedelta(weeks=weeks)
        return first, first + timedelta(weeks=every) - timedelta(days=1)
    months = every * (12 if unit == "year" else 1)
    base = start_date.year * 12 if unit == "year" else _month_index(start_date)
    block = (_month_index(day) - base) // months
    first = _month_start(base + block * months)
    return first, _month_start(base + (block + 1) * months) - timedelta(days=1)


def due_on(schedule: Mapping[str, Any], start_date: date, day: date) -> bool:
    """Tell whether the habit is scheduled on ``day`` at all (before its period is judged)."""
    if day < start_date:
        return False
    days = schedule_days(schedule)
    return not days or day.weekday() in days


def period_met(
    kind: str,
    schedule: Mapping[str, Any],
    target: Mapping[str, Any] | None,
    logs: Iterable[LogFact],
) -> bool:
    """Tell whether the logs of one period already meet (or excuse) its target.

    Boolean habits: distinct done dates reach ``times`` less the skipped dates (a fully skipped
    period is excused). Quantity ``at_least``: the period's sum reaches the target. Quantity
    ``at_most`` and negative habits are limits, never "met" early, so their reminders go on.
    """
    facts = list(logs)
    done = {f.date for f in facts if f.status == "done"}
    if kind == "negative":
        return False
    if kind == "quantity":
        target = target or {}
        if target.get("direction", "at_least") != "at_least":
            return False
        total = sum(f.value or 0.0 for f in facts if f.status == "done")
        return total >= float(target.get("value", 0))
    skipped = {f.date for f in facts if f.status == "skip"} - done
    times = int(schedule.get("times", 1)) if schedule.get("type") == "interval" else 1
    return len(done) >= times - len(skipped)


def fire_rule(
    at: time,
    weekdays: Iterable[int],
    habit_schedule: Mapping[str, Any] | None,
    follow_habit: bool,
) -> FireRule | None:
    """Combine a reminder's own weekdays with its habit's (when it follows the habit).

    Returns ``None`` when no weekday is left (say, a Monday reminder of a Tuesday habit): such a
    reminder never fires.
    """
    days = frozenset(weekdays)
    if follow_habit and habit_schedule is not None:
        scheduled = schedule_days(habit_schedule)
        if scheduled:
            days = days & scheduled if days else scheduled
            if not days:
                return None
    return FireRule(at, days)
