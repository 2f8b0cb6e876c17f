"""Cutting timed health samples into the user's local days, and summing them per day.

Pure: no I/O. A sample (steps over ten minutes, a night's sleep stage, a workout) is an interval
of UTC instants with a value. :class:`DayCutter` splits an interval at the user's local day
boundaries and gives each day its share of the value in proportion to the time inside it, on the
real clock, so a 25-hour autumn day or a 23-hour spring day needs nothing special. Sleep uses a
boundary at 18:00 instead of the day start: a night belongs to the morning it ends on, as the
health apps show it.

:class:`DailyTotals` keeps one running total per data type, key (a workout type), local date and
source (the device or app that recorded it), then combines sources per data type: where the
phone and the watch both count the same steps the larger total wins (Apple Health de-duplicates
the same way, by preferring one source), while distinct sessions (mindful minutes, workouts) add.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DataType = Literal[
    "steps",
    "active_energy",
    "exercise_minutes",
    "sleep_minutes",
    "mindful_minutes",
    "workouts",
]
DATA_TYPES: tuple[DataType, ...] = (
    "steps",
    "active_energy",
    "exercise_minutes",
    "sleep_minutes",
    "mindful_minutes",
    "workouts",
)
UNITS: dict[str, str] = {
    "steps": "steps",
    "active_energy": "kcal",
    "exercise_minutes": "min",
    "sleep_minutes": "min",
    "mindful_minutes": "min",
    "workouts": "min",
}
# Several sources measuring the same thing (phone and watch steps): keep the largest total.
_MAX_OVER_SOURCES = frozenset({"steps", "active_energy", "exercise_minutes", "sleep_minutes"})
SLEEP_DAY_BOUNDARY = time(18, 0)


class DayCutter:
    """Splits UTC intervals at local day boundaries of one zone.

    A day ``d`` starts at the wall-clock instant ``d + boundary`` where ``boundary`` is the
    user's ``day_start`` (``00:00`` for most), or ``d - 1 + 18:00`` for sleep. A boundary that
    falls in a DST gap moves forward with the clock; one that occurs twice is taken once (the
    first).
    """

    def __init__(self, zone: str, boundary: time = time(0, 0), *, previous_day: bool = False):
        self._zone = ZoneInfo(zone)
        # Wall-clock offset from the date's midnight to the instant that starts the day.
        self._offset = timedelta(hours=boundary.hour, minutes=boundary.minute)
        if previous_day:
            self._offset -= timedelta(days=1)
        self._starts: dict[date, float] = {}
        self._last: tuple[date, float, float] = (date.min, math.inf, -math.inf)

    def day_start(self, day: date) -> float:
        """The UTC timestamp at which local ``day`` begins."""
        start = self._starts.get(day)
        if start is None:
            wall = datetime.combine(day, time(0, 0)) + self._offset
            start = wall.replace(tzinfo=self._zone).timestamp()
            self._starts[day] = start
        return start

    def window(self, instant: float) -> tuple[date, float, float]:
        """The local day holding ``instant`` and its UTC bounds ``[start, end)``."""
        _, lo, hi = self._last
        if lo <= instant < hi:
            return self._last
        wall = datetime.fromtimestamp(instant, self._zone).replace(tzinfo=None)
        day = (wall - self._offset).date()
        # The wall clock and the boundary instants can disagree by the DST shift; settle on the
        # boundaries, which are what splitting uses.
        while instant < self.day_start(day):
            day -= timedelta(days=1)
        while instant >= self.day_start(day + timedelta(days=1)):
            day += timedelta(days=1)
        self._last = (day, self.day_start(day), self.day_start(day + timedelta(days=1)))
        return self._last

    def day_of(self, instant: float) -> date:
        """The local day holding ``instant``."""
        return self.window(instant)[0]

    def split(self, start: float, end: float) -> Iterator[tuple[date, float]]:
        """Yield ``(day, fraction)`` for each local day the interval touches.

        The fractions add up to 1. An empty or inverted interval belongs wholly to its start's
        day.
        """
        day, _, hi = self.window(start)
        if end <= hi or end <= start:
            yield day, 1.0
            return
        length = end - start
        cursor = start
        while True:
            stop = min(end, hi)
            yield day, (stop - cursor) / length
            if stop >= end:
                return
            cursor = stop
            day, _, hi = self.window(cursor)


@dataclass(frozen=True)
class DailyRow:
    """One day's aggregate of one data type (and key) from one integration."""

    data_type: str
    key: str
    day: date
    value: float
    count: int


class DailyTotals:
    """Running per-day totals of an import, combined across sources at the end."""

    def __init__(self) -> None:
        # (data_type, key, day) -> source -> [value, count]
        self._cells: dict[tuple[str, str, date], dict[str, list[float]]] = {}
        self.records = 0

    def add(
        self, data_type: str, day: date, value: float, source: str, *, key: str = "", count: int = 0
    ) -> None:
        """Add ``value`` (and ``count`` sessions) to a day's total for one source."""
        cell = self._cells.setdefault((data_type, key, day), {})
        slot = cell.get(source)
        if slot is None:
            cell[source] = [value, float(count)]
        else:
            slot[0] += value
            slot[1] += count

    def add_interval(
        self,
        cutter: DayCutter,
        data_type: str,
        start: float,
        end: float,
        value: float,
        source: str,
        *,
        key: str = "",
        counts: bool = False,
    ) -> None:
        """Spread ``value`` over the local days of ``[start, end)``.

        With ``counts``, the interval is one session, counted on the day it starts.
        """
        first = True
        for day, share in cutter.split(start, end):
            self.add(data_type, day, value * share, source, key=key, count=int(counts and first))
            first = False

    def rows(self) -> list[DailyRow]:
        """The combined rows, sorted by data type, key and day."""
        out: list[DailyRow] = []
        for (data_type, key, day), sources in self._cells.items():
            if data_type in _MAX_OVER_SOURCES:
                value, count = max(sources.values(), key=lambda vc: vc[0])
            else:
                value = sum(v for v, _ in sources.values())
                count = sum(c for _, c in sources.values())
            out.append(DailyRow(data_type, key, day, round(value, 3), int(count)))
        out.sort(key=lambda r: (r.data_type, r.key, r.day))
        return out

    def workout_totals(self) -> list[DailyRow]:
        """Rows of all workouts per day (key ``""``), next to the per-type ones."""
        per_day: dict[date, list[float]] = {}
        for row in self.rows():
            if row.data_type == "workouts" and row.key:
                slot = per_day.setdefault(row.day, [0.0, 0.0])
                slot[0] += row.value
                slot[1] += row.count
        return [
            DailyRow("workouts", "", day, round(v, 3), int(c))
            for day, (v, c) in sorted(per_day.items())
        ]

    def all_rows(self) -> list[DailyRow]:
        """Every row, per-type workouts and the all-workouts total included."""
        rows = self.rows()
        if any(r.data_type == "workouts" and r.key == "" for r in rows):
            return rows
        return sorted([*rows, *self.workout_totals()], key=lambda r: (r.data_type, r.key, r.day))
