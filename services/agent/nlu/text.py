"""Normalisation of a message (number words, typos) and vocabulary shared by the extractors."""

from __future__ import annotations

import calendar
import difflib
import re

# --------------------------------------------------------------------------------------------

_TYPOS: dict[str, str] = {
    "excercise": "exercise",
    "excercising": "exercising",
    "exercize": "exercise",
    "excersize": "exercise",
    "exersize": "exercise",
    "exercies": "exercise",
    "excercises": "exercises",
    "wieght": "weight",
    "weigth": "weight",
    "meditaion": "meditation",
    "meditiation": "meditation",
    "medidate": "meditate",
    "mediate": "meditate",
    "mediating": "meditating",
    "buget": "budget",
    "budjet": "budget",
    "habbit": "habit",
    "habbits": "habits",
    "tommorow": "tomorrow",
    "tomorow": "tomorrow",
    "tommorrow": "tomorrow",
    "marathan": "marathon",
    "marthon": "marathon",
    "spansih": "spanish",
    "spainsh": "spanish",
    "spansh": "spanish",
    "frustated": "frustrated",
    "frusterated": "frustrated",
    "frustating": "frustrating",
    "motivaton": "motivation",
    "unmotivted": "unmotivated",
    "progess": "progress",
    "progres": "progress",
    "schedual": "schedule",
    "shedule": "schedule",
    "mornig": "morning",
    "evning": "evening",
    "strech": "stretch",
    "streching": "stretching",
    "jurnal": "journal",
    "journel": "journal",
    "guitare": "guitar",
    "pianno": "piano",
    "runing": "running",
    "smokeing": "smoking",
    "productivty": "productivity",
    "procrastinting": "procrastinating",
    "definately": "definitely",
    "loose": "lose",
    "loosing": "losing",
}


def split_words(text: str) -> tuple[str, ...]:
    """Split a space-separated word table; "_" stands for a space inside an entry."""
    return tuple(word.replace("_", " ") for word in text.split())


# Longer domain words only: fuzzy matching short words turns "heading" into "reading".
_FUZZY_VOCABULARY: tuple[str, ...] = split_words(
    "marathon exercise exercising meditation meditating workouts vocabulary conversation "
    "conversational smoking hydration procrastinating procrastination productivity productive "
    "stretching strength journaling mindfulness frustrated frustrating unmotivated motivation "
    "emergency retirement investing budgeting spending vegetables nutrition calories japanese "
    "portuguese mandarin italian german french spanish"
)

_SMALL_NUMBERS: dict[str, int] = {
    word: value
    for value, word in enumerate(
        split_words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen"
            " fourteen fifteen sixteen seventeen eighteen nineteen"
        )
    )
}
_TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = {**_SMALL_NUMBERS, **_TENS, **_SCALES}

_PHRASE_NUMBERS: tuple[tuple[str, str], ...] = (
    (r"\ban hour and a half\b", "90 minutes"),
    (r"\ba year and a half\b", "18 months"),
    (r"\bhalf an hour\b", "30 minutes"),
    (r"\bhalf a year\b", "6 months"),
    (r"\bhalf a day\b", "12 hours"),
    (r"\b(?:a|an|one) quarter of an hour\b", "15 minutes"),
    (r"\ba quarter hour\b", "15 minutes"),
    (r"\b(?:a|an) hour\b", "1 hour"),
    (r"\b(lose|drop|shed|lost) a (stone|pound|kilo)\b", r"\1 1 \2"),
    (r"\ba couple(?: of)?\b", "2"),
    (r"\ba few\b", "3"),
    (r"\bseveral\b", "3"),
    (r"\ba dozen\b", "12"),
    (r"\bdozen\b", "12"),
    (r"\btwice\b", "2 times"),
    (r"\bthrice\b", "3 times"),
    (r"\bonce\b(?= (?:a|an|per|every|each) )", "1 time"),
    (r"\ba fortnight\b", "2 weeks"),
    (r"\bfortnight\b", "2 weeks"),
)


def _digitize(text: str) -> str:
    """Replace runs of number words ("twenty-four", "ten thousand") with digits."""
    out: list[str] = []
    pos = 0
    words = list(re.finditer(r"[a-z]+", text))
    i = 0
    while i < len(words):
        if words[i].group() not in _NUMBER_WORDS:
            i += 1
            continue
        start = words[i].start()
        j = i
        total = current = 0
        last_end = words[i].end()
        while j < len(words):
            word = words[j].group()
            gap = text[last_end : words[j].start()] if j > i else ""
            if j > i and gap.strip(" -") != "":
                break
            if word == "and" and j + 1 < len(words) and words[j + 1].group() in _NUMBER_WORDS:
                last_end = words[j].end()
                j += 1
                continue
            if word in _SMALL_NUMBERS or word in _TENS:
                current += _SMALL_NUMBERS.get(word, 0) + _TENS.get(word, 0)
            elif word == "hundred":
                current = max(current, 1) * 100
            elif word in _SCALES:
                total += max(current, 1) * _SCALES[word]
                current = 0
            else:
                break
            last_end = words[j].end()
            j += 1
        out.append(text[pos:start])
        out.append(str(total + current))
        pos = last_end
        i = j
    out.append(text[pos:])
    return "".join(out)


# Spanish, German and French words that carry a goal's domain or time unit, in English, so the
# domain cues and time-frame rules read those messages too. The classifier heads read the
# original text; this table only serves the extractors.
_FOREIGN: dict[str, str] = {
    "correr": "run",
    "corro": "run",
    "laufen": "run",
    "courir": "run",
    "maratón": "marathon",
    "maraton": "marathon",
    "marathon": "marathon",
    "aprender": "learn",
    "lernen": "learn",
    "apprendre": "learn",
    "ahorrar": "save",
    "sparen": "save",
    "économiser": "save",
    "epargner": "save",
    "dormir": "sleep",
    "schlafen": "sleep",
    "meditar": "meditate",
    "meditieren": "meditate",
    "méditer": "meditate",
    "fumar": "smoking",
    "rauchen": "smoking",
    "fumer": "smoking",
    "abnehmen": "lose weight",
    "adelgazar": "lose weight",
    "maigrir": "lose weight",
    "leer": "read",
    "lesen": "read",
    "lire": "read",
    "libros": "books",
    "bücher": "books",
    "livres": "books",
    "agua": "water",
    "wasser": "water",
    "eau": "water",
    "inglés": "english",
    "francés": "french",
    "alemán": "german",
    "englisch": "english",
    "französisch": "french",
    "spanisch": "spanish",
    "anglais": "english",
    "espagnol": "spanish",
    "italien": "italian",
    "italiano": "italian",
    "días": "days",
    "dias": "days",
    "tagen": "days",
    "jours": "days",
    "semanas": "weeks",
    "wochen": "weeks",
    "semaines": "weeks",
    "meses": "months",
    "monaten": "months",
    "mois": "months",
    "años": "years",
    "jahren": "years",
    "ans": "years",
}
_FOREIGN_PREPOSITION = re.compile(
    r"\b(?:en|dans|innerhalb von) (?=\d+ (?:days|weeks|months|years)\b)"
)


def normalize(message: str) -> str:
    """Lower-case, fix typos, turn number words into digits and strip thousands separators."""
    text = message.lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\u2013", "-").replace("\u2014", " - ")

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        if word in _TYPOS:
            return _TYPOS[word]
        if len(word) >= 8 and word not in _FUZZY_VOCABULARY:
            close = difflib.get_close_matches(word, _FUZZY_VOCABULARY, n=1, cutoff=0.87)
            # A longer word that merely contains a vocabulary word ("reschedule") is real.
            if close and close[0] not in word and word not in close[0]:
                return close[0]
        return word

    text = re.sub(r"[^\W\d_]+", lambda m: _FOREIGN.get(m.group(), m.group()), text)
    text = _FOREIGN_PREPOSITION.sub("in ", text)
    text = re.sub(r"[a-z]+", fix, text)
    for pattern, replacement in _PHRASE_NUMBERS:
        text = re.sub(pattern, replacement, text)
    text = _digitize(text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return re.sub(r"\s+", " ", text).strip()


WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES: dict[str, str] = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "tues": "tue",
    "weds": "wed",
    "thur": "thu",
    "thurs": "thu",
}
WEEKDAY_RE = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?"
MONTHS: dict[str, int] = {
    name.lower(): number for number, name in enumerate(calendar.month_name) if name
} | {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
MONTH_RE = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)

FIRST_PERSON = re.compile(r"\b(?:i|me|my|i'm|im|i've|i'd|i'll|myself|mine|we|our|us)\b")
RECURRENCE = re.compile(
    r"\b(?:(?:every|each) (?:single )?(?:day|morning|evening|night|week|weekday|weekend|month|year"
    r"|hour|other day|" + WEEKDAY_RE + r"|\d+ (?:hours|days|weeks|minutes))"
    r"|daily|nightly|weekly|monthly|regularly|routinely|more often|consistently"
    r"|on (?:mon|tues|wednes|thurs|fri|satur|sun)days|weekdays|weekends"
    r"|\d+ (?:times|x) (?:a|per|each|every) "
    r"(?:day|week|month)|\d+x (?:a |per )?(?:day|week|weekly|daily)|habits?|routines?)\b"
)
HABIT_MARKERS = re.compile(
    r"\b(?:habits?|routines?|streaks?|track(?:ing|er)?|goals?|sub-?habits?)\b|" + RECURRENCE.pattern
)
HABIT_ACTIVITY = re.compile(
    r"\b(?:meditat\w*|run|running|jog\w*|walk\w*|exercis\w*|work ?out\w*|stretch\w*|read|reading"
    r"|journal\w*|study\w*|practi[cs]\w*|drink (?:more )?water|water|sleep\w*|floss\w*|pray\w*"
    r"|yoga|lift\w*|swim\w*|cycl\w*|breath\w*|vitamins?|meds|medication|pills|gym|train\w*"
    r"|push-?ups?|pull-?ups?|squats?|plank)\b"
)


# --------------------------------------------------------------------------------------------
