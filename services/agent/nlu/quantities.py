"""Numbers with units: the goal metric and the free time a user says they have."""

from __future__ import annotations

import re

from services.agent.nlu.schema import Metric
from services.agent.nlu.text import split_words

# Metric, free time, chronotype
# --------------------------------------------------------------------------------------------

_AVAILABILITY_RE = re.compile(
    r"\b(?:have|got|spare|find|free|available|can (?:do|spend|give|commit|manage|dedicate|afford|"
    r"set aside|squeeze in|fit in)|at most|max(?:imum)?|up to|no more than|limited to|"
    r"only|just|with)\b(?: (?:about|around|like|roughly|maybe|only|just|got|have|a|do|spend"
    r"|give|manage|up to|realistically)){0,2}"
    r" (?P<num>\d+(?:\.\d+)?)(?:\s?(?:-|to)\s?(?P<upper>\d+))?"
    r" ?(?P<unit>minutes?|mins?|hours?|hrs?|h)\b"
    r"(?: (?:of )?(?:free )?(?:time )?(?:a|per|each|every|in the|in a)"
    r" (?P<per>day|night|morning|evening|week|weekday|session))?"
)
_AVAILABILITY_AFTER_RE = re.compile(
    r"\b(?P<num>\d+(?:\.\d+)?) ?(?P<unit>minutes?|mins?|hours?|hrs?)(?: (?:a|per|each) "
    r"(?P<per>day|night|week))? (?:max|maximum|tops|at most|is all i have|free|to spare|spare)\b"
)


def find_minutes_available(text: str) -> tuple[int | None, tuple[int, int] | None]:
    """Free time per day the user says they have, and the span of text that said it."""
    match = _AVAILABILITY_RE.search(text) or _AVAILABILITY_AFTER_RE.search(text)
    if not match:
        return None, None
    # "5-10 minutes" is a cap of ten: the plan may use up to the most they said they can give.
    value = float(match.groupdict().get("upper") or match.group("num"))
    if match.group("unit").startswith("h"):
        value *= 60
    if match.group("per") == "week":
        value /= 7
    minutes = max(1, round(value))
    if minutes > 24 * 60:
        return None, None
    return minutes, match.span()


_CURRENCY_WORDS: dict[str, str] = {
    "dollar": "usd",
    "dollars": "usd",
    "bucks": "usd",
    "usd": "usd",
    "grand": "usd",
    "euro": "eur",
    "euros": "eur",
    "eur": "eur",
    "quid": "gbp",
    "gbp": "gbp",
    "sterling": "gbp",
}
_SYMBOLS: dict[str, str] = {"$": "usd", "€": "eur", "£": "gbp"}
_MULTIPLIERS: dict[str, int] = {
    "k": 1000,
    "thousand": 1000,
    "grand": 1000,
    "m": 1_000_000,
    "million": 1_000_000,
    "mil": 1_000_000,
}
_MONEY_CONTEXT = re.compile(
    r"\b(?:sav\w*|debt|pay\w*|budget\w*|spend\w*|earn\w*|invest\w*|fund|owe|loan|cost|money"
    r"|salary|income|bank|afford|price)\b|£"
)
_WEIGHT_CONTEXT = re.compile(
    r"\b(?:lose|losing|lost|gain|gaining|weigh\w*|weight|lighter|heavier|drop|shed|fat|slim)\b"
)
_COUNT_STOP: frozenset[str] = frozenset(
    split_words(
        "day days week weeks month months year years time times x am pm percent of a an to and or "
        "in per at for more less hour hours minute minutes mins min seconds sec secs k km mi kg lb "
        "lbs am. pm. o'clock oclock th st nd rd people nights night mornings evenings new "
        "day-streak in-a-row weekly daily with by from is it this that i my tonight today tomorrow "
        "step steps glass glasses pound pounds dollars euros miles mile kilometers kilometres cups "
        "cup liters litres bucks kilos stone grand quid pull push sit chin thousand million kids "
        "children people friends family young little small big extra short long easy hard good bad "
        "great different other separate solid healthy"
    )
)


_COUNTABLES = (
    r"words?|books?|pages?|chapters?|lessons?|sessions?|workouts?|runs?|songs?|recipes?|meals?"
    r"|articles?|poems?|essays?|problems?|courses?|hikes?|classes|calls?|laps?|sets?|reps?"
    r"|cigarettes?|drinks?|coffees?|sodas?|episodes?|podcasts?|flashcards?|cards?|kata"
)


def _plural(noun: str) -> str:
    """Plural form of a counted noun ("book" → "books", "pull-up" → "pull-ups")."""
    if noun.endswith("s"):
        return noun
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    if re.search(r"(?:x|ch|sh)$", noun):
        return noun + "es"
    return noun + "s"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _tidy(value: float) -> int | float:
    """Whole numbers as int, so 20.0 pounds compares and prints as 20."""
    return int(value) if value == int(value) else round(value, 2)


def _period_after(text: str) -> str | None:
    found = re.match(r" ?(?:a|per|each|every) (day|night|week|month|year|session)\b", text)
    return found.group(1) if found else None


_NUM = r"(?P<num>\d+(?:\.\d+)?)"
_MONEY_SYMBOL_RE = re.compile(
    r"(?P<sym>[$€£])\s?" + _NUM + r"\s?(?P<mult>k|m|mil|thousand|million|grand)?\b"
)
_MONEY_WORD_RE = re.compile(
    r"\b" + _NUM + r"\s?(?P<mult>k|m|mil|thousand|million)?\s?"
    r"(?P<cur>dollars?|bucks|usd|euros?|eur|quid|gbp|sterling|grand|pounds? sterling)\b"
)
_WEIGHT_RE = re.compile(
    r"\b" + _NUM + r"\s?(?P<mult>k|thousand)?\s?(?P<unit>pounds?|lbs?|kgs?|kilos?|kilograms?"
    r"|stones?|st)\b"
)
_STEPS_RE = re.compile(r"\b" + _NUM + r"\s?(?P<mult>k|thousand)?\s?steps?\b")
_DISTANCE_RE = re.compile(
    r"\b" + _NUM + r"\s?(?P<unit>km|kms|kilometers?|kilometres?|k|mi|miles?)\b"
    r"(?! steps)(?! (?:dollars|bucks|euros|usd|in savings|saved))"
)
_GLASSES_RE = re.compile(r"\b" + _NUM + r"\s?(?P<unit>glass(?:es)?|cups?)(?P<water> of water)?\b")
_LITERS_RE = re.compile(r"\b" + _NUM + r"\s?(?:l|liters?|litres?)\b")
_HOURS_RE = re.compile(r"\b" + _NUM + r"\s?(?:hours?|hrs?|h)\b(?! ago| streak| in a row)")
_EXERCISE_COUNT_RE = re.compile(
    r"\b(?P<num>\d+)[ -]?(?P<noun>(?:pull|push|chin|sit)[ -]?ups?|pullups?|pushups?|situps?"
    r"|chinups?)\b"
)
_KNOWN_COUNT_RE = re.compile(r"\b" + _NUM + r" (?:[a-z]+ ){0,2}?(?P<noun>" + _COUNTABLES + r")\b")
_ANY_COUNT_RE = re.compile(r"\b" + _NUM + r" (?:new |more |whole |full )?(?P<noun>[a-z]+)\b")
_MINUTES_RE = re.compile(r"\b" + _NUM + r"\s?(?:minutes?|mins?)\b")


def find_metric(text: str, exclude: tuple[int, int] | None) -> Metric | None:
    """The most goal-like quantity in the message, with a canonical unit.

    Kinds are ranked (money, weight, steps, distance, water, sleep hours, counted things,
    minutes) and the first of the best kind wins; the free-time phrase ("only 15 minutes a
    day") is not a metric.
    """
    candidates: list[tuple[int, int, Metric]] = []
    money_context = bool(_MONEY_CONTEXT.search(text))
    weight_context = bool(_WEIGHT_CONTEXT.search(text))

    def add(rank: int, match: re.Match[str], value: float, unit: str) -> None:
        if exclude is not None and match.start() < exclude[1] and match.end() > exclude[0]:
            return
        metric = Metric(value=_tidy(value), unit=unit, per=_period_after(text[match.end() :]))
        candidates.append((rank, match.start(), metric))

    def amount(match: re.Match[str]) -> float:
        return _number(match.group("num")) * _MULTIPLIERS.get(match.group("mult") or "", 1)

    for m in _MONEY_SYMBOL_RE.finditer(text):
        add(0, m, amount(m), _SYMBOLS[m.group("sym")])
    for m in _MONEY_WORD_RE.finditer(text):
        value = _number(m.group("num")) * 1000 if m.group("cur") == "grand" else amount(m)
        add(0, m, value, _CURRENCY_WORDS.get(m.group("cur").split()[-1], "gbp"))
    for m in _WEIGHT_RE.finditer(text):
        raw = m.group("unit")
        if raw.startswith("pound"):
            # "Save 2000 pounds" is money, "lose 20 pounds" is weight.
            add(1, m, amount(m), "gbp" if money_context and not weight_context else "lb")
        elif raw.startswith("lb"):
            add(1, m, amount(m), "lb")
        elif raw.startswith("st"):
            if raw != "st" or weight_context:
                add(1, m, amount(m) * 14, "lb")
        else:
            add(1, m, amount(m), "kg")
    for m in _STEPS_RE.finditer(text):
        add(2, m, amount(m), "steps")
    for m in _DISTANCE_RE.finditer(text):
        if m.group("unit") == "k" and money_context and not re.search(r"\b(?:run|race)", text):
            continue  # "$10k" was money
        add(3, m, _number(m.group("num")), "mi" if m.group("unit").startswith("mi") else "km")
    for m in _GLASSES_RE.finditer(text):
        if m.group("unit").startswith("glass") or m.group("water"):
            add(4, m, _number(m.group("num")), "glasses")
    for m in _LITERS_RE.finditer(text):
        add(4, m, _number(m.group("num")), "liters")
    for m in _HOURS_RE.finditer(text):
        add(5, m, _number(m.group("num")), "hours")
    for m in _EXERCISE_COUNT_RE.finditer(text):
        add(6, m, _number(m.group("num")), re.sub(r"[ -]?ups?$", "-ups", m.group("noun")))
    for m in _KNOWN_COUNT_RE.finditer(text):
        # "500 Japanese words", "3 long runs": a known counted noun after an adjective or two.
        add(6, m, _number(m.group("num")), _plural(m.group("noun")))
    for m in _ANY_COUNT_RE.finditer(text):
        noun = m.group("noun")
        if noun not in _COUNT_STOP and not noun.startswith(("minute", "hour", "min")):
            add(7, m, _number(m.group("num")), _plural(noun))
    for m in _MINUTES_RE.finditer(text):
        add(8, m, _number(m.group("num")), "minutes")
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1]))[2]
