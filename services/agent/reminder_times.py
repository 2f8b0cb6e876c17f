"""Reminder requests in words: which operation, and what time "7am" or "after lunch" means.

Pure and deterministic: the set_reminder tool and the offline planner use it, and it is tested
without servers. A clock time ("07:30", "7am", "9.30pm", "noon", a bare "7") is taken as said;
a part of the day ("in the morning", "after lunch", "in the evening", "before bed") becomes the
learning service's optimal time for the habit when that falls inside the part of the day, and
otherwise a default for the user's chronotype (a morning person is reminded earlier).

A bare hour without am/pm is read as people say it: 7–11 in the morning, 12 at noon, 1–6 in the
afternoon or evening ("at 6" is 18:00), 13–23 and 0 on the 24-hour clock; "in the evening",
"tonight" or "at night" beside it moves it past noon, "in the morning" keeps it before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Literal

ReminderOp = Literal["set", "move", "stop"]

_STOP = re.compile(
    r"\b(?:stop|quit|cancel|remove|delete|disable|turn off|switch off|no more|don'?t|do not|"
    r"never)\b[^.?!]*\bremind|\bremind(?:ers?|ing)?\b[^.?!]*\b(?:off|anymore|any more)\b|"
    r"\bunsubscribe\b"
)
_MOVE = re.compile(
    r"\b(?:move|change|shift|push|reschedule|switch|update)\b[^.?!]*\breminders?\b"
    r"[^.?!]*\b(?:to|for|at)\b|\breminders?\b[^.?!]*\b(?:later|earlier|instead)\b"
)
_CLOCK = re.compile(
    r"(?<![\d:])(?P<h>[01]?\d|2[0-3])(?:(?::|\.)(?P<m>[0-5]\d))?(?::00)?\s*"
    r"(?P<ampm>a\.?m\.?|p\.?m\.?)?(?![\d:])"
)
_NAMED = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
# A bare hour inside a sentence counts only after one of these ("read 10 pages" is no time).
_LEAD = r"(?:\bat|\bto|\bfor|\baround|\bby|\bfrom|\buntil|@)\s+"
_IN_SENTENCE = re.compile(
    rf"(?:{_LEAD}(?P<a>\d{{1,2}}(?:[:.]\d{{2}})?\s*(?:a\.?m\.?|p\.?m\.?)?)(?![\w:])|"
    r"(?P<b>\b\d{1,2}(?:[:.]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?))(?!\w)|"
    r"(?P<c>\b\d{1,2}:\d{2}\b)|(?P<d>\bnoon\b|\bmidday\b|\bmidnight\b))"
)
_LATE = re.compile(r"\b(?:evening|tonight|night|pm|after dinner|before bed)\b")
_EARLY = re.compile(r"\b(?:morning|am|breakfast)\b")


@dataclass(frozen=True, slots=True)
class PartOfDay:
    """A stretch of the day, and the reminder time each chronotype gets in it by default."""

    name: str
    pattern: re.Pattern[str]
    start: time
    end: time
    morning: time
    intermediate: time
    evening: time

    def default(self, chronotype: str | None) -> time:
        if chronotype == "morning":
            return self.morning
        return self.evening if chronotype == "evening" else self.intermediate

    def holds(self, at: time) -> bool:
        return self.start <= at <= self.end


def _part(
    name: str, pattern: str, span: tuple[str, str], defaults: tuple[str, str, str]
) -> PartOfDay:
    start, end = (time.fromisoformat(x) for x in span)
    early, mid, late = (time.fromisoformat(x) for x in defaults)
    return PartOfDay(name, re.compile(pattern), start, end, early, mid, late)


# Most specific first: "after lunch" before "afternoon", "before bed" before "evening".
PARTS: tuple[PartOfDay, ...] = (
    _part(
        "after_lunch",
        r"\bafter lunch\b|\blunch ?time\b",
        ("12:30", "14:30"),
        ("13:00", "13:30", "13:30"),
    ),
    _part(
        "after_dinner",
        r"\bafter (?:dinner|supper)\b",
        ("19:00", "21:30"),
        ("19:30", "20:00", "20:30"),
    ),
    _part(
        "bedtime",
        r"\bbefore (?:bed|sleep|sleeping)\b|\bbed ?time\b|\bat night\b|\btonight\b|\bnight\b",
        ("20:30", "23:59"),
        ("21:30", "22:00", "23:00"),
    ),
    _part(
        "morning",
        r"\bmornings?\b|\bbefore work\b|\bafter (?:waking|i wake|breakfast)\b|\bbreakfast\b",
        ("05:00", "11:59"),
        ("07:00", "08:00", "09:00"),
    ),
    _part("afternoon", r"\bafternoons?\b", ("12:00", "17:00"), ("15:00", "15:00", "16:00")),
    _part(
        "evening",
        r"\bevenings?\b|\bafter work\b|\bafter school\b",
        ("17:00", "21:59"),
        ("18:30", "19:00", "20:00"),
    ),
)


def _hour(hour: int, minute: int, ampm: str | None, context: str) -> time | None:
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.startswith("p")
        return time(hour % 12 + (12 if pm else 0), minute)
    if hour >= 13 or hour == 0:
        return time(hour, minute)
    if _LATE.search(context) and hour < 12:
        return time(hour + 12, minute)
    if _EARLY.search(context) or 7 <= hour <= 11:
        return time(hour, minute)
    if hour == 12:
        return time(12, minute)
    return time(hour + 12, minute)  # 1–6 with nothing else said: afternoon or evening


def clock_time(text: str) -> time | None:
    """The clock time a time phrase names (``"07:30"``, ``"7am"``, ``"9.30 pm"``, ``"7"``)."""
    lower = text.strip().lower()
    if lower in _NAMED:
        return _NAMED[lower]
    match = _CLOCK.fullmatch(lower.split(" in the ")[0].split(" at night")[0].strip())
    if match is None:
        return None
    return _hour(int(match["h"]), int(match["m"] or 0), match["ampm"], lower)


def part_of_day(text: str) -> PartOfDay | None:
    """The part of the day a phrase names, most specific first."""
    lower = text.lower()
    return next((p for p in PARTS if p.pattern.search(lower)), None)


def time_phrase(message: str) -> str | None:
    """The time expression of a whole message ("at 7am", "after lunch"), as a tool argument."""
    lower = message.lower()
    match = _IN_SENTENCE.search(lower)
    if match is not None:
        said = next(g for g in match.groups() if g)
        tail = lower[match.end() :]
        late = re.match(r"\s*(?:in the (?:evening|morning|afternoon)|at night|tonight)", tail)
        return said.strip() + (late.group(0) if late else "")
    part = part_of_day(lower)
    if part is None:
        return None
    found = part.pattern.search(lower)
    return found.group(0) if found else None


def resolve_time(phrase: str, chronotype: str | None, suggestion: time | None) -> time | None:
    """The reminder time for a phrase.

    Args:
        phrase: What the user said, or ISO ``HH:MM``.
        chronotype: ``morning``, ``intermediate`` or ``evening`` (the user's), or ``None``.
        suggestion: The learning service's optimal time for the habit, if it gave one.

    Returns:
        The local time of day, or ``None`` when the phrase names no time.
    """
    at = clock_time(phrase)
    if at is not None:
        return at
    lower = phrase.lower()
    # "8 in the evening": a clock time with a part of the day after it.
    inner = _CLOCK.search(lower)
    if inner is not None and inner.group(0).strip():
        at = _hour(int(inner["h"]), int(inner["m"] or 0), inner["ampm"], lower)
        if at is not None:
            return at
    part = part_of_day(lower)
    if part is None:
        return None
    if suggestion is not None and part.holds(suggestion):
        return suggestion
    return part.default(chronotype)


def reminder_op(message: str) -> ReminderOp:
    """Whether a reminder request sets one, moves one or stops reminders."""
    lower = message.lower()
    if _STOP.search(lower):
        return "stop"
    return "move" if _MOVE.search(lower) else "set"
