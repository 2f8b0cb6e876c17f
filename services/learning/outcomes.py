"""From stored habits and logs to what the learning modules read: outcomes, profiles, histories.

The gateway stores a habit as the API shapes it (title, kind, schedule, target) and its logs as
local dates with the instant they were written. The predictor, the churn detector and the timing
finder want scheduled-day outcomes, a ``HabitProfile`` and a ``UserHistory``; this module builds
them and does no I/O.

Decisions, and why:

- **Outcomes follow the metric semantics.** A one-day period (a daily habit, a listed weekday) is
  ``done`` with a done log (for quantities, when its sum meets the target), ``skipped`` with only
  a skip log, otherwise ``missed``. A longer period (every 2 days, 3 times a week, monthly) gives
  one outcome dated on its last day: done when it got the completions it asked for. A negative
  habit's day is ``done`` when it had no slip. Only closed periods count: today is still pending.
- **A completion's instant is the time the log was written**, but only when it was written on
  the day it is for (a log back-filled on Tuesday for Monday says nothing about *when* Monday's
  session happened).
- **A habit's facts are read from its words where the API has no field yet.** The category comes
  from the title, description and tags ("Morning run" → exercise), the duration from a number of
  minutes or hours in them ("Meditate 10 min"), outdoors from words such as run, walk or hike,
  and a stack trigger from an anchor such as "after coffee". The planned time is the habit's
  usual completion time (the circular median of its completions, to the quarter hour). Anything
  a caller states explicitly (``rpc.learning.predict.v1``'s ``habit``) overrides these guesses.
- **Unknown social support is 0.5**, the prior mean, so it contributes nothing to a prediction
  instead of counting as "no support at all".
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.learning.churn import DayOutcome, Status
from services.learning.features import HabitProfile, UserHistory
from services.learning.rhythm import Chronotype
from services.learning.timing import TimedOutcome, habit_kind
from shared.localtime import local_today

RATE_WINDOW_DAYS = 28
SIMILAR_WINDOW_DAYS = 90
MIN_RATE_DAYS = 5
DEFAULT_MINUTES = 10.0
DEFAULT_DIFFICULTY = 0.5
UNKNOWN_SOCIAL_SUPPORT = 0.5
WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}

_DURATION = re.compile(r"(\d+(?:[.,]\d+)?)\s*(minutes?|mins?|hours?|hrs?|h)\b", flags=re.IGNORECASE)
_OUTDOOR = re.compile(
    r"\b(run|running|jog|jogging|walk|walking|hike|hiking|cycling|cycle|bike|biking|outdoors?|"
    r"outside|garden|gardening)\b",
    flags=re.IGNORECASE,
)
_ANCHOR = re.compile(
    r"\b(after|before|right after|once i|when i)\s+(my\s+)?(coffee|tea|breakfast|lunch|dinner|"
    r"work|waking|wake|shower|brushing|bed|school|the gym|class|meeting)",
    flags=re.IGNORECASE,
)
_SOUTHERN_PREFIXES = ("Australia/", "Antarctica/", "America/Argentina/")
_SOUTHERN_ZONES = frozenset(
    {
        "Pacific/Auckland", "Pacific/Chatham", "Pacific/Fiji", "Pacific/Tongatapu",
        "Pacific/Apia", "Pacific/Noumea", "Pacific/Port_Moresby", "Pacific/Tahiti",
        "America/Sao_Paulo", "America/Santiago", "America/Montevideo", "America/Asuncion",
        "America/La_Paz", "America/Lima", "America/Buenos_Aires", "Africa/Johannesburg",
        "Africa/Maputo", "Africa/Harare", "Africa/Lusaka", "Africa/Windhoek", "Africa/Gaborone",
        "Africa/Maseru", "Africa/Mbabane", "Africa/Luanda", "Africa/Lubumbashi",
        "Africa/Dar_es_Salaam", "Indian/Antananarivo", "Indian/Mauritius", "Indian/Reunion",
        "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Dili",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HabitFacts:
    """A stored habit (read from ``core``), as much as learning needs of it.

    Attributes:
        habit_id: The habit.
        title: Its title.
        description: Its description.
        kind: ``boolean``, ``quantity`` or ``negative``.
        schedule: The API's schedule object.
        target: The API's target object (quantity habits).
        start_date: Its first local date.
        tags: Its tag names.
    """

    habit_id: str
    title: str
    kind: str
    schedule: Mapping[str, Any]
    start_date: date
    description: str | None = None
    target: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogFact:
    """One stored log.

    Attributes:
        on: Its local calendar date.
        status: ``done`` or ``skip``.
        value: The quantity, for quantity habits.
        logged_at: When it was written (aware; naive means UTC).
    """

    on: date
    status: str
    value: float | None = None
    logged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Calendar:
    """A user's calendar settings.

    Attributes:
        zone: IANA zone.
        day_start: When their day begins.
        week_start: 0 = Monday … 6 = Sunday.
    """

    zone: str = "UTC"
    day_start: time = time(0, 0)
    week_start: int = 0


def chronotype_of(value: str | None) -> Chronotype | None:
    """Map the API's chronotype (``morning``, ``intermediate``, ``evening``) to the model's."""
    if value in ("morning", "evening"):
        return value  # type: ignore[return-value]
    if value in ("intermediate", "neutral"):
        return "neutral"
    return None


def in_southern_hemisphere(zone: str) -> bool:
    """Tell whether a zone's seasons are the southern hemisphere's (a best guess by zone name)."""
    return zone in _SOUTHERN_ZONES or zone.startswith(_SOUTHERN_PREFIXES)


def times_per_week(schedule: Mapping[str, Any]) -> float:
    """Scheduled sessions per week of an API schedule (a month is 365.25/12 days)."""
    if schedule.get("type") == "weekdays":
        return float(len(schedule.get("days") or ()))
    every = int(schedule.get("every", 1))
    unit = str(schedule.get("unit", "day"))
    return int(schedule.get("times", 1)) * 7.0 / (every * _UNIT_DAYS.get(unit, 1.0))


def completion_instant(log: LogFact, calendar: Calendar) -> datetime | None:
    """When a done log's session happened: its write time, if written on the day it is for."""
    if log.status != "done" or log.logged_at is None:
        return None
    at = log.logged_at if log.logged_at.tzinfo is not None else log.logged_at.replace(tzinfo=UTC)
    if _local_date(at, calendar.zone, calendar.day_start) != log.on:
        return None
    return at


@lru_cache(maxsize=1 << 16)
def _local_date(at: datetime, zone: str, day_start: time) -> date:
    """``local_today`` of a stored write time, remembered.

    Every event of a user re-reads the same logs (the snapshot is rebuilt each time), and the zone
    conversion was a quarter of the learning service's CPU under a write load (docs/performance.md).
    """
    return local_today(at, zone, day_start)


def _days(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _blocks(
    schedule: Mapping[str, Any], start: date, through: date, week_start: int
) -> Iterable[tuple[date, date]]:
    """Closed multi-day periods (first day, last day) from the block holding ``start``."""
    every = int(schedule.get("every", 1))
    unit = str(schedule.get("unit", "day"))
    if unit in ("day", "week"):
        length = every * (1 if unit == "day" else 7)
        first = (
            start if unit == "day" else start - timedelta(days=(start.weekday() - week_start) % 7)
        )
        while True:
            last = first + timedelta(days=length - 1)
            if last > through:
                return
            yield first, last
            first = last + timedelta(days=1)
    months = every * (12 if unit == "year" else 1)
    first = date(start.year, 1 if unit == "year" else start.month, 1)
    while True:
        following = _add_months(first, months)
        last = following - timedelta(days=1)
        if last > through:
            return
        yield first, last
        first = following


def _target(habit: HabitFacts) -> tuple[float, str]:
    target = habit.target or {}
    return float(target.get("value", 0.0)), str(target.get("direction", "at_least"))


def closed_outcomes(
    habit: HabitFacts, logs: Sequence[LogFact], through: date, calendar: Calendar
) -> list[DayOutcome]:
    """Return the habit's outcomes for every closed period from ``start_date`` to ``through``.

    Args:
        habit: The habit.
        logs: Its logs, any order.
        through: The last closed local date (usually the user's yesterday).
        calendar: The owner's zone, day start and week start.

    Returns:
        One outcome per scheduled day (or per longer period, dated on its last day), oldest
        first; ``completed_at`` is set where a completion's instant is known.
    """
    if through < habit.start_date:
        return []
    by_day: dict[date, list[LogFact]] = {}
    for log in logs:
        if habit.start_date <= log.on <= through:
            by_day.setdefault(log.on, []).append(log)
    if habit.kind == "negative":
        return [
            DayOutcome(d, "missed" if by_day.get(d) else "done")
            for d in _days(habit.start_date, through)
        ]
    schedule = habit.schedule
    if schedule.get("type") == "weekdays":
        listed = {WEEKDAY_NAMES.index(str(d)) for d in schedule.get("days") or ()}
        days = [d for d in _days(habit.start_date, through) if d.weekday() in listed]
        return [_day_outcome(habit, d, by_day.get(d, []), calendar) for d in days]
    if int(schedule.get("every", 1)) == 1 and schedule.get("unit", "day") == "day":
        return [
            _day_outcome(habit, d, by_day.get(d, []), calendar)
            for d in _days(habit.start_date, through)
        ]
    return [
        _block_outcome(habit, first, last, by_day, calendar)
        for first, last in _blocks(schedule, habit.start_date, through, calendar.week_start)
    ]


def _first_instant(logs: Iterable[LogFact], calendar: Calendar) -> datetime | None:
    instants = [i for i in (completion_instant(log, calendar) for log in logs) if i is not None]
    return min(instants) if instants else None


def _day_outcome(
    habit: HabitFacts, on: date, logs: list[LogFact], calendar: Calendar
) -> DayOutcome:
    done = [log for log in logs if log.status == "done"]
    status: Status
    if habit.kind == "quantity":
        value, direction = _target(habit)
        total = sum(log.value or 0.0 for log in done)
        met = total <= value if direction == "at_most" else bool(done) and total >= value
        skipped = not done and any(log.status == "skip" for log in logs)
        status = "skipped" if skipped else ("done" if met else "missed")
    elif done:
        status = "done"
    else:
        status = "skipped" if logs else "missed"
    return DayOutcome(on, status, _first_instant(done, calendar) if status == "done" else None)


def _block_outcome(
    habit: HabitFacts,
    first: date,
    last: date,
    by_day: Mapping[date, list[LogFact]],
    calendar: Calendar,
) -> DayOutcome:
    counted = list(_days(max(first, habit.start_date), last))
    done_days = [d for d in counted if any(log.status == "done" for log in by_day.get(d, []))]
    skipped = [d for d in counted if by_day.get(d) and d not in done_days]
    done_logs = [log for d in done_days for log in by_day[d] if log.status == "done"]
    status: Status
    if habit.kind == "quantity":
        value, direction = _target(habit)
        total = sum(log.value or 0.0 for log in done_logs)
        unskipped = len(counted) - len(skipped)
        if unskipped == 0:
            status = "skipped"
        elif direction == "at_most":
            status = "done" if total <= value else "missed"
        else:
            status = "done" if total >= value * unskipped / len(counted) else "missed"
    else:
        required = int(habit.schedule.get("times", 1)) - len(skipped)
        met = len(done_days) >= required
        status = "skipped" if required <= 0 else ("done" if met else "missed")
    instants = [i for i in (completion_instant(log, calendar) for log in done_logs) if i]
    return DayOutcome(last, status, max(instants) if status == "done" and instants else None)


def timed_outcomes(logs: Sequence[LogFact], calendar: Calendar) -> list[TimedOutcome]:
    """Completions with a known instant, for the timing finder."""
    return [
        TimedOutcome(at)
        for at in (completion_instant(log, calendar) for log in logs)
        if at is not None
    ]


def usual_time(instants: Sequence[datetime], zone: str, minimum: int = 3) -> time | None:
    """The circular median of completion times on the user's wall clock, to the quarter hour.

    Args:
        instants: Completion instants (aware).
        zone: The user's zone.
        minimum: Fewest completions that make a usual time.

    Returns:
        The usual local time, or ``None`` with fewer than ``minimum`` completions.
    """
    if len(instants) < minimum:
        return None
    tz = ZoneInfo(zone)
    minutes = [(local.hour * 60 + local.minute) for local in (i.astimezone(tz) for i in instants)]
    # The circular mean picks the side of midnight; the median around it resists outliers.
    angle = math.atan2(
        sum(math.sin(2 * math.pi * m / 1440) for m in minutes),
        sum(math.cos(2 * math.pi * m / 1440) for m in minutes),
    )
    centre = (angle / (2 * math.pi) * 1440) % 1440
    offsets = [((m - centre + 720) % 1440) - 720 for m in minutes]
    median = (centre + statistics.median(offsets)) % 1440
    quarter = int(round(median / 15) * 15) % 1440
    return time(quarter // 60, quarter % 60)


def _words(habit: HabitFacts) -> str:
    return " ".join([habit.title, habit.description or "", *habit.tags])


def category_of(habit: HabitFacts) -> str:
    """The habit's type (``exercise``, ``meditation``…) from its words, else ``general``."""
    for text in (habit.title, " ".join(habit.tags), habit.description or ""):
        kind = habit_kind(text)
        if kind != "general":
            return kind
    return "general"


def duration_of(habit: HabitFacts) -> float | None:
    """Minutes per session, from the words ("20 min", "1 hour") or a target in minutes."""
    target = habit.target or {}
    unit = str(target.get("unit", "")).lower()
    if habit.kind == "quantity" and unit in ("min", "mins", "minute", "minutes"):
        return float(target["value"])
    if habit.kind == "quantity" and unit in ("h", "hour", "hours"):
        return float(target["value"]) * 60.0
    for text in (habit.title, habit.description or ""):
        match = _DURATION.search(text)
        if match:
            amount = float(match.group(1).replace(",", "."))
            minutes = amount * 60.0 if match.group(2).lower().startswith("h") else amount
            if 0 < minutes <= 720:
                return minutes
    return None


def habit_profile(
    habit: HabitFacts,
    completions: Sequence[datetime] = (),
    zone: str = "UTC",
    overrides: Mapping[str, Any] | None = None,
) -> HabitProfile:
    """Build the predictor's view of a stored habit; explicit ``overrides`` win over guesses.

    Args:
        habit: The stored habit.
        completions: Its completion instants, for the usual time.
        zone: The owner's zone.
        overrides: Facts stated by the caller (``HabitDraft`` fields that are not ``None``).

    Returns:
        The profile.
    """
    profile = HabitProfile(
        difficulty=DEFAULT_DIFFICULTY,
        duration_minutes=duration_of(habit) or DEFAULT_MINUTES,
        times_per_week=times_per_week(habit.schedule),
        scheduled_time=usual_time(completions, zone),
        category=category_of(habit),
        outdoor=bool(_OUTDOOR.search(_words(habit))),
        has_stack_trigger=bool(_ANCHOR.search(_words(habit))),
        habit_id=habit.habit_id,
    )
    return apply_overrides(profile, overrides or {})


def draft_profile(draft: Mapping[str, Any]) -> HabitProfile:
    """Build the profile of a proposed habit from the caller's facts, with typical defaults."""
    title = str(draft.get("title") or "")
    facts = HabitFacts(
        habit_id="",
        title=title,
        kind="boolean",
        schedule=draft.get("schedule") or {"type": "interval", "every": 1, "unit": "day"},
        start_date=date(2000, 1, 1),
    )
    profile = habit_profile(facts)
    return replace(apply_overrides(profile, draft), habit_id=None)


_OVERRIDABLE = (
    "category",
    "difficulty",
    "duration_minutes",
    "times_per_week",
    "scheduled_time",
    "outdoor",
    "has_stack_trigger",
)


def apply_overrides(profile: HabitProfile, overrides: Mapping[str, Any]) -> HabitProfile:
    """Replace profile fields with the caller's stated facts (``None`` leaves a field alone)."""
    changes: dict[str, Any] = {
        k: overrides[k] for k in _OVERRIDABLE if overrides.get(k) is not None
    }
    if overrides.get("category") is not None:
        changes["category"] = habit_kind(str(overrides["category"]))
    if overrides.get("times_per_week") is None and overrides.get("schedule"):
        changes["times_per_week"] = times_per_week(overrides["schedule"])
    return replace(profile, **changes)


def _rate(outcomes: Iterable[DayOutcome]) -> float | None:
    counted = [o.status == "done" for o in outcomes if o.status != "skipped"]
    return sum(counted) / len(counted) if len(counted) >= MIN_RATE_DAYS else None


def streak_before(outcomes: Sequence[DayOutcome], on: date) -> int:
    """Done periods in a row before ``on`` (skipped ones neither count nor break the run)."""
    streak = 0
    for o in reversed(outcomes):
        if o.on >= on or o.status == "skipped":
            continue
        if o.status == "missed":
            break
        streak += 1
    return streak


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What is known of a user beyond their habits.

    Attributes:
        user_id: The user.
        calendar: Zone, day start, week start.
        chronotype: Their chronotype, if set.
        social_support: 0..1 when known.
    """

    user_id: str
    calendar: Calendar
    chronotype: Chronotype | None = None
    social_support: float = UNKNOWN_SOCIAL_SUPPORT


def history_as_of(
    user: UserFacts,
    habit_id: str,
    on: date,
    outcomes: Mapping[str, Sequence[DayOutcome]],
    categories: Mapping[str, str],
) -> UserHistory:
    """The user as the model sees them on the morning of ``on`` (nothing of ``on`` itself).

    Args:
        user: The user.
        habit_id: The habit predicted or learned from.
        on: The local day.
        outcomes: Closed outcomes of each of the user's habits, oldest first.
        categories: Each habit's category.

    Returns:
        The completion rate over the last 28 days across habits (``None`` below 5 days), the
        rate on other habits of the same category over 90 days, the habit's current streak.
    """
    since = on - timedelta(days=RATE_WINDOW_DAYS)
    similar_since = on - timedelta(days=SIMILAR_WINDOW_DAYS)
    category = categories.get(habit_id, "general")
    recent = [o for days in outcomes.values() for o in days if since <= o.on < on]
    similar = [
        o
        for other, days in outcomes.items()
        if other != habit_id and categories.get(other) == category
        for o in days
        if similar_since <= o.on < on
    ]
    return UserHistory(
        user_id=user.user_id,
        completion_rate=_rate(recent),
        similar_habit_rate=_rate(similar),
        current_streak=streak_before(outcomes.get(habit_id, ()), on),
        social_support=user.social_support,
        chronotype=user.chronotype,
        southern_hemisphere=in_southern_hemisphere(user.calendar.zone),
    )


def next_scheduled_day(habit: HabitFacts, today: date) -> date:
    """The first day from ``today`` on which the habit is due (today for interval schedules)."""
    start = max(today, habit.start_date)
    if habit.schedule.get("type") != "weekdays":
        return start
    listed = {WEEKDAY_NAMES.index(str(d)) for d in habit.schedule.get("days") or ()}
    for offset in range(7):
        day = start + timedelta(days=offset)
        if day.weekday() in listed:
            return day
    return start


def done_on(logs: Iterable[LogFact], on: date, as_of: datetime | None = None) -> bool:
    """Whether a done log for the local date ``on`` was written (by ``as_of``, when given)."""
    return any(
        log.on == on
        and log.status == "done"
        and (as_of is None or log.logged_at is None or log.logged_at <= as_of)
        for log in logs
    )


def clamp_start(habit: HabitFacts, earliest: date, week_start: int = 0) -> HabitFacts:
    """Move a habit's start to the first period boundary on or after ``earliest``.

    A service reads only recent logs; without this, the days before the logs it read would look
    missed. The new start stays on a period boundary, so periods keep their alignment.

    Args:
        habit: The habit.
        earliest: The first date whose logs were read.
        week_start: The owner's week start (weekly periods align to it).

    Returns:
        The habit itself when it starts on or after ``earliest``, else a copy starting later.
    """
    if habit.start_date >= earliest:
        return habit
    schedule = habit.schedule
    unit = str(schedule.get("unit", "day"))
    every = int(schedule.get("every", 1))
    if habit.kind == "negative" or schedule.get("type") == "weekdays":
        start = earliest
    elif unit == "day":
        blocks = -(-(earliest - habit.start_date).days // every)
        start = habit.start_date + timedelta(days=blocks * every)
    else:
        start = next(
            (
                first
                for first, _ in _blocks(schedule, habit.start_date, date.max, week_start)
                if first >= earliest
            ),
            earliest,
        )
    return replace(habit, start_date=start)
