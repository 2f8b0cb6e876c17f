"""Time frames and look-back windows: "by June", "in six months", "this week"."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

from services.agent.nlu.text import MONTH_RE, MONTHS, WEEKDAY_NAMES, WEEKDAY_RE, WEEKDAYS

# Time frame
# --------------------------------------------------------------------------------------------

_SEASONS: dict[str, tuple[int, int]] = {
    "spring": (3, 20),
    "summer": (6, 21),
    "fall": (9, 22),
    "autumn": (9, 22),
    "winter": (12, 21),
}
_SEASON_ENDS: dict[str, tuple[int, int]] = {
    "spring": (6, 20),
    "summer": (9, 22),
    "fall": (12, 20),
    "autumn": (12, 20),
    "winter": (3, 19),
}
_HOLIDAYS: dict[str, tuple[int, int]] = {
    "christmas": (12, 25),
    "xmas": (12, 25),
    "new year": (1, 1),
    "new years": (1, 1),
    "new year's": (1, 1),
    "halloween": (10, 31),
    "valentine's": (2, 14),
    "valentines": (2, 14),
}


def add_months(start: date, months: int) -> date:
    """Return ``start`` moved by whole calendar months, clamping the day to the month's length."""
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def _next_date(today: date, month: int, day: int) -> date:
    """The next ``month``/``day`` strictly after today."""
    day = min(day, calendar.monthrange(today.year, month)[1])
    candidate = date(today.year, month, day)
    if candidate <= today:
        day = min(day, calendar.monthrange(today.year + 1, month)[1])
        candidate = date(today.year + 1, month, day)
    return candidate


def _span(today: date, amount: float, unit: str) -> date:
    """Today moved forward by ``amount`` units (calendar months and years when whole)."""
    unit = unit.rstrip("s")
    if unit in ("day",):
        return today + timedelta(days=round(amount))
    if unit in ("week",):
        return today + timedelta(days=round(amount * 7))
    if unit in ("fortnight",):
        return today + timedelta(days=round(amount * 14))
    if unit == "quarter":
        amount, unit = amount * 3, "month"
    if unit in ("year", "yr"):
        amount, unit = amount * 12, "month"
    if amount == int(amount):
        return add_months(today, int(amount))
    return today + timedelta(days=round(amount * 30.44))


def _period_end(today: date, period: str, offset: int = 0) -> date:
    """The last day of the current (or ``offset``-th next) week, month, quarter or year."""
    if period == "week":
        return today + timedelta(days=6 - today.weekday() + 7 * offset)
    if period == "month":
        first = add_months(today.replace(day=1), offset)
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if period == "quarter":
        first = add_months(today.replace(day=1), 3 * offset)
        last_month = ((first.month - 1) // 3 + 1) * 3
        return date(first.year, last_month, calendar.monthrange(first.year, last_month)[1])
    return date(today.year + offset, 12, 31)


_AMOUNT = r"(?P<num>\d+(?:\.\d+)?|an?)"
_UNIT = r"(?P<unit>days?|weeks?|months?|years?|yrs?|quarters?)"
_RELATIVE_RE = re.compile(
    r"\b(?P<prep>in|within|over|for|inside|under|after|during)(?: the)?"
    r"(?: next| coming| following)?"
    r"(?: about| around| roughly| approximately| just| ~)? " + _AMOUNT + r"[ -]?" + _UNIT + r"\b"
)
_NEXT_RE = re.compile(r"\b(?:the )?(?:next|coming) " + _AMOUNT + r"[ -]?" + _UNIT + r"\b")
_NEXT_ONE_RE = re.compile(
    r"\b(?:in|within|over|during) the (?:next|coming) (?P<unit>week|month|year|quarter)\b"
)
_COMPOUND_RE = re.compile(
    r"\b(?P<num>\d+(?:\.\d+)?)[ -](?P<unit>day|week|month|year)[ -](?:plan|program|programme"
    r"|challenge|goal|sequence|journey|course|bootcamp|sprint|target|timeline|training)\b"
)
_BARE_RE = re.compile(r"\b(?P<num>\d+(?:\.\d+)?) (?P<unit>weeks|months|years)\b")
_BY = r"(?:by|before|until|till|til|in time for|for|ahead of|no later than)"


def find_deadline(text: str, today: date) -> date | None:
    """Resolve the goal's time frame to a deadline, or None when the message gives none."""
    for match in _RELATIVE_RE.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        after = text[match.end() : match.end() + 15]
        if match.group("prep") in ("for", "over") and re.search(
            r"\b(?:been|past|last|already|was|were|had|did)\b", before
        ):
            continue
        if re.match(r" (?:ago|in a row|straight|streak|old)\b", after):
            continue
        num = match.group("num")
        amount = 1.0 if num in ("a", "an") else float(num)
        if amount <= 0:
            continue
        return _span(today, amount, match.group("unit"))
    for pattern in (_NEXT_RE, _COMPOUND_RE):
        found = pattern.search(text)
        if found:
            num = found.group("num")
            return _span(today, 1.0 if num in ("a", "an") else float(num), found.group("unit"))
    found_one = _NEXT_ONE_RE.search(text)
    if found_one:
        return _span(today, 1.0, found_one.group("unit"))

    anchored = _anchored_deadline(text, today)
    if anchored is not None:
        return anchored

    for match in _BARE_RE.finditer(text):
        before = text[max(0, match.start() - 25) : match.start()]
        after = text[match.end() : match.end() + 12]
        if re.search(r"\b(?:been|past|last|already|ago|for the)\b", before):
            continue
        if re.match(r" (?:ago|old|in a row|straight)\b", after):
            continue
        return _span(today, float(match.group("num")), match.group("unit"))
    return None


def _anchored_deadline(text: str, today: date) -> date | None:
    """Deadlines named by a calendar anchor: seasons, months, holidays, weekdays, period ends."""
    season = re.search(
        r"\b(?P<pre>" + _BY + r"|this|next|over|in|during)(?: the)?(?P<end> end of(?: the)?)? "
        r"(?P<season>spring|summer|fall|autumn|winter)\b",
        text,
    )
    if season:
        name = season.group("season")
        pre = season.group("pre")
        month, day = (
            _SEASON_ENDS[name]
            if season.group("end") or pre in ("over", "during")
            else _SEASONS[name]
        )
        deadline = _next_date(today, month, day)
        if pre == "next" and (deadline - today).days < 180:
            deadline = add_months(deadline, 12)
        return deadline

    year = re.search(
        r"\b(?P<pre>in|by|before|until|during|for|end of|within) (?P<year>20\d\d)\b", text
    )
    if year and int(year.group("year")) >= today.year:
        target = int(year.group("year"))
        if year.group("pre") in ("by", "before", "until") and target > today.year:
            return date(target, 1, 1)
        return date(target, 12, 31)

    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text)
    if iso:
        try:
            candidate = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            candidate = None
        if candidate is not None and candidate > today:
            return candidate

    month_match = re.search(
        r"\b(?P<pre>" + _BY + r"|in|on)(?: the)?(?P<end> end of)?(?: the (?P<d1>\d{1,2})"
        r"(?:st|nd|rd|th)? of)? (?P<month>"
        + MONTH_RE
        + r")\b(?: (?P<d2>\d{1,2})(?:st|nd|rd|th)?)?",
        text,
    )
    if month_match:
        month = MONTHS[month_match.group("month")]
        day_text = month_match.group("d1") or month_match.group("d2")
        if month_match.group("end"):
            day = 31
        elif day_text:
            day = int(day_text)
        else:
            day = 1
        if 1 <= day <= 31:
            return _next_date(today, month, day)

    for name, (month, day) in _HOLIDAYS.items():
        if re.search(r"\b" + _BY + r" (?:the )?" + re.escape(name) + r"\b", text):
            return _next_date(today, month, day)

    weekday = re.search(r"\b" + _BY + r" (?:next |this )?(?P<day>" + WEEKDAY_RE + r")\b", text)
    if weekday:
        target = WEEKDAYS.index(WEEKDAY_NAMES.get(weekday.group("day").rstrip("s"), "mon"))
        days = (target - today.weekday()) % 7 or 7
        return today + timedelta(days=days)

    period = re.search(
        r"\b(?:(?:" + _BY + r") )?(?:the )?(?:end of )?(?:the )?(?P<which>this|next|current)"
        r" (?P<period>week|month|quarter|year)\b|\b(?:by|before|until|till) (?:the )?end of the"
        r" (?P<period2>week|month|quarter|year)\b|\bby (?P<period3>year|quarter|month)[- ]end\b",
        text,
    )
    if period:
        which = period.group("which")
        unit = period.group("period") or period.group("period2") or period.group("period3")
        if which == "next":
            if "end of" in period.group():
                return _period_end(today, unit, 1)
            if re.search(r"\b(?:by|before|until|till) next\b", period.group()):
                return _period_end(today, unit) + timedelta(days=1)
            # "Run a half marathon next year": some time within the coming year.
            return _span(today, 1.0, unit)
        return _period_end(today, unit)
    return None


def find_lookback(text: str) -> int | None:
    """How far back a progress or insight question looks, in days."""
    match = re.search(r"\b(?:past|last|previous) (\d+) (day|week|month|year)s?\b", text)
    if match:
        return int(match.group(1)) * {"day": 1, "week": 7, "month": 30, "year": 365}[match.group(2)]
    for pattern, days in (
        (r"\b(?:this|last|past|the) week\b|\bweekly\b", 7),
        (r"\b(?:this|last|past|the) month\b|\bmonthly\b", 30),
        (r"\b(?:this|last|past|the) quarter\b", 90),
        (r"\b(?:this|last|past|the) year\b|\byearly\b", 365),
        (r"\btoday\b", 1),
        (r"\byesterday\b", 2),
        (r"\blately\b|\brecently\b|\bthese days\b", 14),
        (r"\b(?:all time|ever|overall|since i started)\b", 3650),
    ):
        if re.search(pattern, text):
            return days
    return None


# --------------------------------------------------------------------------------------------


# "en dos meses", "dans deux semaines", "in zwei Wochen", "within a year": a preposition and two
# words, handed to dateparser, which reads relative dates in many languages. Only that short
# phrase is parsed (a whole message makes dateparser slow and inventive).
_RELATIVE_PHRASE = re.compile(
    r"\b(?:en|dans|in|innerhalb von|within|d'ici|d'ici à)\s+[^\W\d_]+\s+[^\W\d_]+", re.IGNORECASE
)
_DATEPARSER_LANGUAGES = ["en", "es", "de", "fr"]


def parsed_deadline(message: str, today: date) -> date | None:
    """A future deadline dateparser finds in a relative phrase of ``message``, if any."""
    import dateparser  # imported on first use: it takes a while to load its language data

    base = datetime(today.year, today.month, today.day)
    for match in _RELATIVE_PHRASE.finditer(message):
        found = dateparser.parse(
            match.group(),
            languages=_DATEPARSER_LANGUAGES,
            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"},
        )
        if isinstance(found, datetime) and found.date() > today:
            return date(found.year, found.month, found.day)
    return None
