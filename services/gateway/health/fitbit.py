"""Fitbit exports: the ``Global Export Data`` JSON files of a Google Takeout (or fitbit.com) zip.

Files are recognised by name, wherever they sit in the zip; the rest (heart rate, distance,
``archive_browser.html``…) is skipped:

- ``steps-YYYY-MM-DD.json``: ``[{"dateTime": "03/01/24 07:05:00", "value": "12"}, …]``, per minute;
- ``very_active_minutes-*.json``, ``moderately_active_minutes-*.json``: one value per day, whose
  sum is the day's exercise minutes (Fitbit's "active zone" minutes of the older exports);
- ``sleep-*.json``: sessions with ``dateOfSleep`` and ``minutesAsleep`` (Fitbit already assigns a
  night to the morning it ends on, as Habyss does);
- ``exercise-*.json``: activities with ``activityName``, ``startTime`` and ``activeDuration``
  (else ``duration``) in milliseconds.

Fitbit writes times on the device's local clock without a zone; they are read in the user's
zone. Fitbit's calorie files count total, not active, energy, and mindfulness comes as CSV: both
are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from services.gateway.health.daily import DailyTotals, DayCutter
from services.gateway.health.errors import InvalidExport, MalformedExport

_FILES = re.compile(
    r"(?:^|/)(steps|very_active_minutes|moderately_active_minutes|sleep|exercise)-[\w-]*\.json$"
)


def kind_of(name: str) -> str | None:
    """The kind of a zip member by its name (``steps``, ``sleep``…), or None to skip it."""
    found = _FILES.search(name)
    return found.group(1) if found else None


def _wall(text: str) -> datetime:
    for fmt in ("%m/%d/%y %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unreadable time {text!r}")


def _workout_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:64] or "other"


class FitbitReader:
    """Adds Fitbit files, one at a time, to the daily totals of one user."""

    def __init__(self, zone: str, day_start: time) -> None:
        self.totals = DailyTotals()
        self._zone = ZoneInfo(zone)
        self._shift = timedelta(hours=day_start.hour, minutes=day_start.minute)
        self._cutter = DayCutter(zone, day_start)

    def _day(self, wall: datetime) -> date:
        return (wall - self._shift).date()

    def add_file(self, name: str, stream: IO[bytes]) -> None:
        """Read one member; skip it when its name is not a kept kind.

        Raises:
            MalformedExport: The JSON does not parse.
            InvalidExport: It parses but entries lack the documented fields.
        """
        kind = kind_of(name)
        if kind is None:
            return
        try:
            entries = json.load(stream)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedExport(
                f"{name} is not valid JSON ({exc}).", details=[{"loc": ["body", name]}]
            ) from None
        if not isinstance(entries, list):
            raise InvalidExport(f"{name} should hold a JSON array.", details=[{"loc": [name]}])
        for index, entry in enumerate(entries):
            try:
                self._entry(kind, entry)
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidExport(
                    f"{name}, entry {index}, is unreadable ({exc!s}).",
                    details=[{"loc": ["body", name, index], "reason": "bad_record"}],
                ) from None
            self.totals.records += 1

    def _entry(self, kind: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise TypeError("an entry is a JSON object")
        add = self.totals.add
        if kind == "steps":
            add("steps", self._day(_wall(entry["dateTime"])), float(entry["value"]), "fitbit")
        elif kind in ("very_active_minutes", "moderately_active_minutes"):
            day = _wall(entry["dateTime"]).date()
            add("exercise_minutes", day, float(entry["value"]), "fitbit")
        elif kind == "sleep":
            day = date.fromisoformat(entry["dateOfSleep"])
            add("sleep_minutes", day, float(entry["minutesAsleep"]), "fitbit")
        elif kind == "exercise":
            start = _wall(entry["startTime"]).replace(tzinfo=self._zone).timestamp()
            millis = entry.get("activeDuration") or entry["duration"]
            minutes = float(millis) / 60000
            self.totals.add_interval(
                self._cutter,
                "workouts",
                start,
                start + minutes * 60,
                minutes,
                "fitbit",
                key=_workout_key(str(entry.get("activityName") or "other")),
                counts=True,
            )

    def members(self, names: list[str]) -> Iterator[str]:
        """The members of a zip this reader keeps, in a stable order."""
        yield from sorted(n for n in names if kind_of(n) is not None)
