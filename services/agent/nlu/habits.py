"""Habit references, routines, new habit titles, constraints and schedule hints."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from rapidfuzz import fuzz, process

from services.agent.nlu.schema import ScheduleHint
from services.agent.nlu.text import WEEKDAY_NAMES, WEEKDAY_RE, WEEKDAYS

# Constraints, habits, sub-habits, schedule
# --------------------------------------------------------------------------------------------

BODY_PARTS = (
    r"knees?|back|ankles?|shoulders?|hips?|wrists?|neck|foot|feet|elbows?|hamstrings?|achilles"
    r"|joints?|lower back|spine"
)
_CONSTRAINT_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        r"\bno gym\b|\bdon'?t have (?:a |any )?gym\b|\bwithout (?:a |going to the )?gym\b"
        r"|\bno gym membership\b|\bcan'?t (?:afford|get to) (?:a|the) gym\b"
        r"|\bcan'?t go to (?:a|the) "
        r"gym\b",
        "no gym",
    ),
    (
        r"\bno equipment\b|\bwithout (?:any )?equipment\b|\bdon'?t have (?:any )?equipment\b"
        r"|\bno weights\b",
        "no equipment",
    ),
    (
        r"\b(?:work|working|on) (?:the )?night shifts?\b|\bnight shifts?\b|\bwork nights\b"
        r"|\bgraveyard shift\b",
        "works night shifts",
    ),
    (r"\bshift work\b|\brotating shifts\b|\bwork shifts\b", "shift work"),
    (
        r"\b(?:my|have|got|with|two|\d+) (?:young |little |small )?(?:kids|children|toddlers?|"
        r"newborn|baby|infant|twins)\b",
        "young children",
    ),
    (
        r"\btravel (?:a lot|often|for work|frequently|constantly)\b|\bon the road a lot\b"
        r"|\bfrequent travel",
        "travels often",
    ),
    (
        r"\btight budget\b|\bon a budget\b|\bno money\b|\bcan'?t afford\b|\bi'?m broke\b"
        r"|\blimited budget\b|\blow income\b",
        "tight budget",
    ),
    (
        r"\bbusy\b|\bfull[- ]time job\b|\blong hours\b|\bhectic\b|\bpacked schedule\b|\bno time\b"
        r"|\blimited time\b|\bnot much time\b|\bonly have \d+ ?(?:min|minutes|hour)",
        "limited time",
    ),
    (r"\bsmall apartment\b|\bno space\b|\btiny apartment\b|\bsmall flat\b", "small space"),
    (r"\bvegetarian\b", "vegetarian"),
    (r"\bvegan\b", "vegan"),
    (r"\bgluten[- ]free\b|\bceliac\b|\bcoeliac\b", "gluten-free"),
    (r"\blactose\b", "lactose intolerant"),
    (
        r"\b(?:complete |total |absolute )?beginner\b|\bnever (?:run|ran|exercised|worked out|"
        r"lifted|been active)\b|\bout of shape\b|\bcouch potato\b|\bhaven'?t exercised\b"
        r"|\bstarting from (?:scratch|zero)\b|\bfrom zero\b|\bnovice\b",
        "beginner",
    ),
    (r"\bdesk job\b|\bsit all day\b|\bsedentary\b|\bsitting all day\b", "sedentary job"),
    (r"\badhd\b", "ADHD"),
    (r"\blong commute\b|\bcommut\w+ (?:\d+|two|an) hours?\b", "long commute"),
    (r"\bwheelchair\b", "uses a wheelchair"),
    (r"\basthma\b", "asthma"),
    (r"\barthritis\b", "arthritis"),
    (r"\bdiabet\w+", "diabetes"),
    (r"\bpregnan\w+", "pregnancy"),
    (r"\bheart condition\b|\bhigh blood pressure\b|\bhypertension\b", "heart condition"),
    (r"\bplantar fasciitis\b", "plantar fasciitis"),
    (r"\bchronic pain\b", "chronic pain"),
    (r"\bmigraines?\b", "migraines"),
    (r"\binsomnia\b", "insomnia"),
    (r"\boverweight\b|\bobese\b", "high body weight"),
    (r"\bcan'?t run\b|\bno (?:running|jumping)\b|\blow[- ]impact\b", "low impact only"),
    (r"\bintrovert\w*\b|\bsocial anxiety\b", "prefers solo activities"),
)


def _singular(part: str) -> str:
    return {"feet": "foot", "knees": "knee"}.get(part, part[:-1] if part.endswith("s") else part)


def find_constraints(text: str) -> tuple[str, ...]:
    """Physical limitations, equipment, time and life circumstances that shape a plan."""
    found: list[str] = []
    for m in re.finditer(
        r"\b(?:bad|injured|hurt|sore|weak|broken|busted|dodgy|bum|torn|sprained|twisted|"
        r"recovering|fragile|painful|stiff)\s+(?:left |right )?(" + BODY_PARTS + r")\b",
        text,
    ):
        found.append(f"bad {_singular(m.group(1))}")
    for m in re.finditer(
        r"\b(" + BODY_PARTS + r")\s+(pain|injury|injuries|problems?|issues?|surgery)\b", text
    ):
        kind = {"injuries": "injury", "problems": "problem", "issues": "issue"}.get(
            m.group(2), m.group(2)
        )
        found.append(f"{_singular(m.group(1))} {kind}")
    for m in re.finditer(
        r"\b(?:hurt|injured|broke|tore|sprained) my (" + BODY_PARTS + r")\b", text
    ):
        found.append(f"bad {_singular(m.group(1))}")
    for pattern, label in _CONSTRAINT_PATTERNS:
        if re.search(pattern, text):
            found.append(label)
    return tuple(dict.fromkeys(found))


_STOPWORDS: frozenset[str] = frozenset(
    {"a", "an", "the", "my", "of", "to", "and", "for", "in", "on", "at", "daily", "habit"}
)


def _stem(word: str) -> str:
    """A crude stem: enough to match "meditation" with "meditate", "workouts" with "workout"."""
    for suffix in (
        "ations",
        "ation",
        "ating",
        "ated",
        "ate",
        "ings",
        "ing",
        "ers",
        "er",
        "es",
        "ed",
        "s",
        "e",
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z]+", text) if w not in _STOPWORDS}


_FUZZY_AT = 85  # rapidfuzz ratio for a misspelt word of a title ("meditaton", "jounaling")
_FUZZY_MIN = 5  # shorter words must match exactly: "run" is not "rum"


def _has_stem(stem: str, stems: set[str]) -> bool:
    if stem in stems:
        return True
    if len(stem) < _FUZZY_MIN:
        return False
    return process.extractOne(stem, stems, scorer=fuzz.ratio, score_cutoff=_FUZZY_AT) is not None


def match_habits(text: str, known_habits: Sequence[str]) -> tuple[str, ...]:
    """The known habit titles a (normalised, lower-case) text refers to, longest first.

    A title matches when each of its word stems is in the text, exactly or, for longer words, by
    a fuzzy match (rapidfuzz), so typos still find the habit.
    """
    stems = _stems(text)
    matched: list[str] = []
    for title in sorted(known_habits, key=len, reverse=True):
        title_stems = _stems(title.lower())
        if title_stems and all(_has_stem(s, stems) for s in title_stems):
            matched.append(title)
    return tuple(matched)


def mentioned_habits(text: str, known_habits: Sequence[str]) -> tuple[str, ...]:
    names = list(match_habits(text, known_habits))
    known_stems = [_stems(n.lower()) for n in names]
    for m in re.finditer(
        r"\bmy ((?:[a-z-]+ ){0,2}?[a-z-]+?) (?:habit|streak|routine|goal)s?\b", text
    ):
        name = m.group(1)
        if name in ("new", "daily", "weekly", "morning", "evening", "all", "other", "good", "bad"):
            if not m.group(0).endswith("routine"):
                continue
            name = f"{name} routine"
        if any(_stems(name) <= s for s in known_stems):
            continue
        names.append(name[0].upper() + name[1:])
    return tuple(dict.fromkeys(names))


_LIST_SPLIT = re.compile(
    r"\s*,\s*(?:and |then |& )?|\s+and then\s+|\s+and\s+|\s*&\s*|\s*\+\s*"
    r"|\s+then\s+|\s*;\s*"
)


def _split_list(text: str) -> tuple[str, ...]:
    items = []
    for raw in _LIST_SPLIT.split(text):
        item = re.sub(r"^(?:a|an|the|some|to|also|and|then)\s+", "", raw.strip(" .!?\"'"))
        item = re.sub(r"\s+(?:every|each|daily|in the|at|on)\b.*$", "", item)
        if item and len(item) <= 40:
            items.append(item[0].upper() + item[1:])
    return tuple(items)


def find_sub_habits(text: str) -> tuple[str, ...]:
    """Items of a routine: "morning routine with meditate, journal, and stretch"."""
    m = re.search(
        r"\b(?:routine|habit|stack|checklist|ritual)s?\s*(?:with|of|including|that includes|"
        r"consisting of|made of|:|-)\s+(?P<items>[^.?!]+)",
        text,
    )
    if m and re.search(r",| and |&|\+", m.group("items")):
        return _split_list(m.group("items"))
    m = re.search(
        r"\badd\s+(?P<items>.+?)\s+(?:to|into)\s+(?:my|the)\s+(?:[a-z-]+\s+){0,3}?"
        r"(?:routine|habit|stack|checklist|ritual)\b",
        text,
    )
    if m and not re.search(r"\btags?\b|\blabels?\b", m.group("items")):
        return _split_list(m.group("items"))
    m = re.search(
        r"\badd\s+(?P<items>.+?)\s+as\s+(?:the\s+)?(?:steps?|parts?|sub-?habits?)\s+(?:of|to|in)\b",
        text,
    )
    if m:
        return _split_list(m.group("items"))
    m = re.search(r"\bsub-?habits?\s*(?::|of|like|such as)?\s+(?P<items>[^.?!]+)", text)
    if m:
        return _split_list(m.group("items"))
    return ()


_TITLE_END = (
    r"(?= every| each| daily| weekly| nightly| on | at | in the | tomorrow| today| tonight"
    r"| this | before | after |$|[.,!?])"
)
_TITLE_PATTERNS: tuple[str, ...] = (
    r"\btrack (?:when|whether|if|how often|each time|every time) i (?P<act>.+?)" + _TITLE_END,
    r"\b(?:habit|routine) (?:of|to|for) (?P<act>.+?)" + _TITLE_END,
    r"\bremind me to (?P<act>.+?)" + _TITLE_END,
    r"\b(?:track|log|add|create|start|set up|make) (?:my |a |an )?(?:new )?(?P<act>[a-z][a-z ]*?)"
    r" (?:habit|tracker)\b",
    r"\btrack(?:ing)? (?:my |the )?(?P<act>[a-z][a-z ]*?)" + _TITLE_END,
    r"^(?:please )?(?P<act>[a-z][a-z ]+?) (?:every|each|daily|weekly|on " + WEEKDAY_RE + r")\b",
)


def habit_title(text: str, routine: bool) -> str | None:
    """The title a create-habit request implies ("Track when I call my mom" → "Call my mom")."""
    if routine:
        m = re.search(r"\b((?:[a-z-]+ )?)routine\b", text)
        if m:
            head = m.group(1).strip()
            if head in ("", "a", "new", "my", "the", "create", "make", "add", "start", "build"):
                return "Routine"
            return f"{head[0].upper()}{head[1:]} routine"
    for pattern in _TITLE_PATTERNS:
        m = re.search(pattern, text)
        if m:
            act = m.group("act").strip()
            act = re.sub(
                r"^(?:i (?:want|need|would like|'d like|plan) to |i wanna |help me |please )",
                "",
                act,
            )
            act = re.sub(r"^(?:to |a |an |the )", "", act)
            if act and len(act) <= 50 and act not in ("a", "new", "habit"):
                return act[0].upper() + act[1:]
    return None


def find_schedule(text: str) -> ScheduleHint | None:
    """Weekdays, times per period and time of day named in the message."""
    days: list[str] = []
    for m in re.finditer(r"\b(" + WEEKDAY_RE + r"|tues|weds|thurs)\b", text):
        word = m.group(1).rstrip("s") if m.group(1).endswith("days") else m.group(1)
        code = WEEKDAY_NAMES.get(word) or WEEKDAY_NAMES.get(word.rstrip("s"))
        if code:
            days.append(code)
    abbreviations = re.findall(r"\b(mon|tue|wed|thu|fri|sat|sun)\b", text)
    if len(abbreviations) >= 2:
        days.extend(abbreviations)
    if re.search(r"\bweekdays\b|\bevery weekday\b|\bmonday (?:to|through|-) friday\b", text):
        days.extend(WEEKDAYS[:5])
    if re.search(r"\bweekends?\b", text):
        days.extend(("sat", "sun"))
    ordered = tuple(d for d in WEEKDAYS if d in days)

    times: int | None = None
    every = 1
    unit: Literal["day", "week", "month", "year"] | None = None
    count = re.search(
        r"\b(\d+) ?(?:times|x|sessions|days)(?: a| per| each| every)? (day|week|month)\b", text
    )
    per_x = re.search(r"\b(\d+)x (?:weekly|daily)\b", text)
    every_n = re.search(r"\bevery (\d+) (day|week)s\b", text)
    if count:
        times, unit_word = int(count.group(1)), count.group(2)
        unit = "day" if unit_word == "day" else "week" if unit_word == "week" else "month"
    elif per_x:
        times, unit = int(per_x.group(1)), "week" if "week" in per_x.group() else "day"
    elif re.search(r"\bevery other day\b", text):
        times, every, unit = 1, 2, "day"
    elif every_n:
        times, every = 1, int(every_n.group(1))
        unit = "day" if every_n.group(2) == "day" else "week"
    elif re.search(r"\bbi-?weekly\b|\bevery 2 weeks\b", text):
        times, every, unit = 1, 2, "week"
    elif re.search(
        r"\b(?:every|each) (?:single )?(?:day|morning|evening|night)\b|\bdaily\b"
        r"|\bnightly\b|\b(?:a|per) day\b",
        text,
    ):
        times, unit = 1, "day"
    elif re.search(r"\bweekly\b|\b(?:every|each|once a|1 time a|per) week\b", text) and not ordered:
        times, unit = 1, "week"
    elif re.search(r"\bmonthly\b|\b(?:every|each|once a|1 time a|per) month\b", text):
        times, unit = 1, "month"
    if ordered and times is None:
        times, unit = len(ordered), "week"

    time_of_day: str | None = None
    clock = re.search(r"\b(?:at|by|around) (\d{1,2})(?::(\d{2}))? ?(am|pm|a\.m\.|p\.m\.)?\b", text)
    if clock and (clock.group(3) or clock.group(2)):
        hour = int(clock.group(1)) % 12 if clock.group(3) else int(clock.group(1))
        if clock.group(3) and clock.group(3).startswith("p"):
            hour += 12
        if hour < 24:
            time_of_day = f"{hour:02d}:{clock.group(2) or '00'}"
    if time_of_day is None:
        for pattern, label in (
            (r"\bmornings?\b|\bbefore work\b|\bwhen i wake\b|\bafter waking\b", "morning"),
            (r"\bafternoons?\b|\blunch\b|\bmidday\b", "afternoon"),
            (r"\bevenings?\b|\bafter work\b|\bafter dinner\b|\btonight\b", "evening"),
            (r"\bat night\b|\bbefore bed\b|\bbedtime\b|\bnights\b", "night"),
        ):
            if re.search(pattern, text):
                time_of_day = label
                break
    if not ordered and times is None and time_of_day is None:
        return None
    return ScheduleHint(days=ordered, times=times, every=every, unit=unit, time_of_day=time_of_day)


# --------------------------------------------------------------------------------------------
