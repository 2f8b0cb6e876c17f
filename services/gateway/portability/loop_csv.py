"""Loop Habit Tracker's CSV export, read and written. Pure: text in, plans and text out.

Loop (``iSoron/uhabits``, ``HabitsCSVExporter`` and ``HabitList.writeCSV``) writes a zip holding
``Habits.csv`` (``Position, Name, Question, Description, NumRepetitions, Interval, Color``; later
builds add the type, unit and target) and, per habit, a folder ``"NNN Name/"`` (``NNN`` = the
habit's position) with ``Checkmarks.csv`` (``Date, Value[, Notes]``) and ``Scores.csv``.

A checkmark's value is Loop's entry code: 2 = done by hand (YES_MANUAL), 1 = implied by the
frequency (YES_AUTO, not a log of anything), 0 = not done, -1 = unknown, 3 = skipped. A numerical
habit stores its amount in thousandths (``1500`` is 1.5), with 3 still meaning skipped. Some
builds print the entry names instead of numbers; both are read.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

HABITS_COLUMNS: tuple[str, ...] = (
    "Position",
    "Name",
    "Type",
    "Question",
    "Description",
    "NumRepetitions",
    "Interval",
    "FrequencyNumerator",
    "FrequencyDenominator",
    "Color",
    "Unit",
    "Target Type",
    "Target Value",
    "Archived?",
)
CHECKMARKS_COLUMNS: tuple[str, ...] = ("Date", "Value", "Notes")
# What Habyss writes: Loop's seven columns first, in Loop's order, then the numeric ones.
EXPORT_HABITS_COLUMNS: tuple[str, ...] = (
    "Position",
    "Name",
    "Question",
    "Description",
    "NumRepetitions",
    "Interval",
    "Color",
    "Type",
    "Unit",
    "Target Type",
    "Target Value",
    "Archived?",
)
YES_MANUAL, YES_AUTO, NO, UNKNOWN, SKIP = 2, 1, 0, -1, 3
_CODES = {"YES_MANUAL": YES_MANUAL, "YES_AUTO": YES_AUTO, "NO": NO, "UNKNOWN": UNKNOWN}
_CODES["SKIP"] = SKIP
_TRUE = {"1", "true", "yes", "y"}
_NOTE_LIMIT = 2000
_TITLE_LIMIT = 200


class LoopFormatError(Exception):
    """The file is not Loop's layout (columns, dates, values); ``details`` says where."""

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class LoopHabit:
    """One row of ``Habits.csv``, already mapped to a Habyss habit body (or a reason not to)."""

    row: int
    position: int | None
    name: str
    body: dict[str, Any] | None
    archived: bool
    numeric: bool
    skip_reason: str | None = None


@dataclass(frozen=True)
class Checkmark:
    """One row of a ``Checkmarks.csv``: its date, Loop's raw value and notes."""

    row: int
    day: date
    value: str
    notes: str


@dataclass(frozen=True)
class LogPlan:
    """A log to write: done with an optional value, or skip."""

    day: date
    status: Literal["done", "skip"]
    value: float | None
    note: str | None


@dataclass
class HabitPlan:
    """A habit to create (or find) and its logs, with what was left out and why."""

    habit: LoopHabit
    logs: list[LogPlan] = field(default_factory=list)
    implicit: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _records(
    text: str, file: str, known: tuple[str, ...], required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file as (line number, column → cell), after checking its header."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(rows, [])]
    while header and header[-1] == "":
        header.pop()  # Loop's wide files end each line with a delimiter
    unknown = [h for h in header if h not in known]
    missing = [h for h in required if h not in header]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
        if missing:
            parts.append(f"missing column(s) {', '.join(map(repr, missing))}")
        raise LoopFormatError(
            f"{file} is not Loop's layout: {'; '.join(parts)}.",
            [{"file": file, "unknown": unknown, "missing": missing, "expected": list(known)}],
        )
    out = []
    for number, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
            out.append((number, cells))
    return out


def schedule_of(numerator: int, denominator: int) -> dict[str, Any]:
    """Map Loop's frequency (``numerator`` times every ``denominator`` days) to a schedule."""
    if numerator < 1 or denominator < 1 or numerator > denominator:
        raise ValueError(f"frequency {numerator}/{denominator} is not one Loop writes")
    if denominator in (30, 31):
        return {"type": "interval", "every": 1, "unit": "month", "times": numerator}
    if denominator == 365:
        return {"type": "interval", "every": 1, "unit": "year", "times": numerator}
    if denominator % 7 == 0:
        return {"type": "interval", "every": denominator // 7, "unit": "week", "times": numerator}
    return {"type": "interval", "every": denominator, "unit": "day", "times": numerator}


def frequency_of(schedule: dict[str, Any]) -> tuple[int, int]:
    """Map a Habyss schedule back to Loop's (numerator, denominator); weekdays become n per 7."""
    if schedule.get("type") == "weekdays":
        return len(schedule["days"]), 7
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[schedule.get("unit", "day")]
    return int(schedule.get("times", 1)), days * int(schedule.get("every", 1))


def _int(value: str) -> int:
    return int(float(value))


def _habit(number: int, rec: dict[str, str]) -> LoopHabit:
    name = rec.get("Name", "")
    position = int(rec["Position"]) if rec.get("Position", "").isdigit() else None
    archived = rec.get("Archived?", "").lower() in _TRUE
    kind_text = rec.get("Type", "").strip().upper()
    numeric = (
        kind_text in ("1", "NUMERICAL", "NUMBER")
        if kind_text
        else bool(rec.get("Unit") or rec.get("Target Value"))
    )

    def skipped(reason: str) -> LoopHabit:
        return LoopHabit(number, position, name, None, archived, numeric, reason)

    if not name:
        return skipped("the habit has no name")
    num_text = rec.get("NumRepetitions") or rec.get("FrequencyNumerator") or ""
    den_text = rec.get("Interval") or rec.get("FrequencyDenominator") or ""
    try:
        schedule = schedule_of(_int(num_text), _int(den_text))
    except ValueError:
        return skipped(f"frequency {num_text!r}/{den_text!r} is not understood")
    question, description = rec.get("Question", ""), rec.get("Description", "")
    body: dict[str, Any] = {
        "title": name[:_TITLE_LIMIT],
        "description": "\n\n".join(p for p in (question, description) if p)[:5000] or None,
        "kind": "quantity" if numeric else "boolean",
        "schedule": schedule,
    }
    if numeric:
        try:
            target = float(rec.get("Target Value") or "0")
        except ValueError:
            target = 0.0
        if not target > 0:
            return skipped("a numerical habit without a positive target value")
        at_most = rec.get("Target Type", "").strip().upper() in ("1", "AT_MOST")
        body["target"] = {
            "value": target,
            "unit": (rec.get("Unit") or "units")[:32],
            "direction": "at_most" if at_most else "at_least",
        }
    return LoopHabit(number, position, name, body, archived, numeric)


def read_habits(text: str, file: str = "Habits.csv") -> list[LoopHabit]:
    """Parse ``Habits.csv``; raise :class:`LoopFormatError` on unknown or missing columns."""
    records = _records(text, file, HABITS_COLUMNS, ("Position", "Name"))
    if records and not any(k in records[0][1] for k in ("NumRepetitions", "FrequencyNumerator")):
        raise LoopFormatError(
            f"{file} has no frequency: Loop writes NumRepetitions and Interval.",
            [{"file": file, "missing": ["NumRepetitions", "Interval"]}],
        )
    return [_habit(number, rec) for number, rec in records]


def read_checkmarks(text: str, file: str) -> list[Checkmark]:
    """Parse a ``Checkmarks.csv``; raise :class:`LoopFormatError` on a bad column or date."""
    out = []
    for number, rec in _records(text, file, CHECKMARKS_COLUMNS, ("Date", "Value")):
        try:
            day = date.fromisoformat(rec["Date"])
        except ValueError:
            raise LoopFormatError(
                f"{file} line {number}: {rec['Date']!r} is not a date (YYYY-MM-DD).",
                [{"file": file, "line": number, "column": "Date", "value": rec["Date"][:40]}],
            ) from None
        out.append(Checkmark(number, day, rec["Value"], rec.get("Notes", "")))
    return out


Meaning = tuple[
    Literal["done", "skip", "none", "implicit", "invalid", "yes_on_numeric"], float | None
]


def interpret(raw: str, numeric: bool) -> Meaning:
    """What a checkmark value means: a done (with an amount), a skip, nothing, or an error."""
    text = raw.strip().upper()
    if text in ("", "?"):
        return "none", None
    code = _CODES.get(text)
    if code is None:
        try:
            number = float(text)
        except ValueError:
            return "invalid", None
        if numeric:
            if "." in text:  # an amount written out, not Loop's thousandths
                return ("done", number) if number > 0 else ("none", None)
            if number == SKIP:
                return "skip", None
            return ("done", number / 1000) if number > 0 else ("none", None)
        if not number.is_integer():
            return "invalid", None
        code = int(number)
    if code == YES_MANUAL:
        return ("yes_on_numeric", None) if numeric else ("done", None)
    if code in (SKIP, -3):  # -3 is SKIP in builds before 2.1
        return "skip", None
    if code == YES_AUTO:
        return "implicit", None
    return ("none", None) if code in (NO, UNKNOWN) else ("invalid", None)


def plan_logs(habit: LoopHabit, checkmarks: list[Checkmark], file: str, today: date) -> HabitPlan:
    """Turn a habit's checkmarks into logs; raise :class:`LoopFormatError` on a bad value."""
    plan = HabitPlan(habit)
    seen: set[date] = set()
    for mark in sorted(checkmarks, key=lambda c: c.day):
        where = {"file": file, "line": mark.row, "date": mark.day.isoformat()}
        meaning, value = interpret(mark.value, habit.numeric)
        if meaning == "invalid":
            raise LoopFormatError(
                f"{file} line {mark.row}: {mark.value[:40]!r} is not a checkmark value.",
                [{**where, "column": "Value", "value": mark.value[:40]}],
            )
        if meaning == "implicit":
            plan.implicit += 1
            continue
        if meaning == "none":
            continue
        if meaning == "yes_on_numeric":
            plan.skipped.append({**where, "reason": "a yes/no mark on a numerical habit"})
            continue
        if mark.day > today:
            plan.skipped.append({**where, "reason": f"after your today ({today})"})
            continue
        if mark.day in seen:
            plan.skipped.append({**where, "reason": "a second checkmark on the same date"})
            continue
        seen.add(mark.day)
        status: Literal["done", "skip"] = "done" if meaning == "done" else "skip"
        plan.logs.append(LogPlan(mark.day, status, value, mark.notes[:_NOTE_LIMIT] or None))
    return plan


_FOLDER = re.compile(r"^(\d+) ")


def folder_position(path: str) -> int | None:
    """The habit position a ``"NNN Name/Checkmarks.csv"`` path belongs to, if it is one."""
    parts = path.replace("\\", "/").split("/")
    if len(parts) != 2 or parts[1] != "Checkmarks.csv":
        return None
    match = _FOLDER.match(parts[0])
    return int(match.group(1)) if match else None


def folder_name(position: int, name: str) -> str:
    """Loop's folder name for a habit: its 3-digit position and its name's safe characters."""
    safe = re.sub(r"[^ a-zA-Z0-9._-]+", "", name)[:100]
    return f"{position:03d} {safe}".strip()


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def write_habits(habits: list[dict[str, Any]]) -> str:
    """``Habits.csv`` in Loop's layout; ``habits`` are API habit bodies plus ``archived``."""
    rows = [list(EXPORT_HABITS_COLUMNS)]
    for position, habit in enumerate(habits, start=1):
        numerator, denominator = frequency_of(habit["schedule"])
        target = habit.get("target") or {}
        rows.append(
            [
                f"{position:03d}",
                habit["title"],
                "",
                habit.get("description") or "",
                str(numerator),
                str(denominator),
                "",
                "1" if habit["kind"] == "quantity" else "0",
                target.get("unit", ""),
                ("1" if target.get("direction") == "at_most" else "0") if target else "",
                f"{target['value']:g}" if target else "",
                "true" if habit.get("archived") else "false",
            ]
        )
    return _csv(rows)


def write_checkmarks(kind: str, logs: list[tuple[date, str, float | None, str | None]]) -> str:
    """A habit's ``Checkmarks.csv``: one row per logged date, newest first, as Loop writes it.

    Several logs of a quantity on one date add up; a done log outweighs a skip on the same date.
    """
    done: dict[date, float] = {}
    skipped: set[date] = set()
    notes: dict[date, str] = {}
    for day, status, value, note in logs:
        if status == "done":
            done[day] = done.get(day, 0.0) + (value or 0.0)
        else:
            skipped.add(day)
        if note and day not in notes:
            notes[day] = note
    rows = [list(CHECKMARKS_COLUMNS)]
    for day in sorted(done.keys() | skipped, reverse=True):
        if day not in done:
            code = SKIP
        else:
            code = round(done[day] * 1000) if kind == "quantity" else YES_MANUAL
        rows.append([day.isoformat(), str(code), notes.get(day, "")])
    return _csv(rows)
