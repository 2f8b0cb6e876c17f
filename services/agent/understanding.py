"""Deterministic understanding of one chat message: intent, entities and sentiment.

This is the natural-language front end of the offline planner, and its output is stored with every
user message on the LLM path too, so it must be cheap, predictable and never raise. It is a rule
system over a normalised copy of the message: number words become digits, common misspellings are
corrected, and then scored cue patterns decide the intent while dedicated extractors pull out the
goal domain, time frame, metric, chronotype, free time, constraints, habits and schedule hints.

Everything here is pure: "today" is an argument, so "by summer" or "this year" resolve the same way
in tests as in production.
"""

from __future__ import annotations

import calendar
import difflib
import math
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

Intent = Literal[
    "goal_setting",
    "habit_action",
    "progress_analysis",
    "troubleshooting",
    "motivation",
    "schedule_adjustment",
    "integration",
    "insights",
    "out_of_scope",
]
Domain = Literal["fitness", "learning", "financial", "wellness", "productivity"]
Chronotype = Literal["morning", "evening"]
SentimentLabel = Literal["negative", "neutral", "positive"]
HabitAction = Literal[
    "create", "log", "add_sub_habits", "assign_tags", "suggest_tags", "remind", "update", "delete"
]
HabitIssue = Literal["too_hard", "no_time", "forgot", "unmotivated"]
InsightKind = Literal["visualization", "prediction", "knowledge", "summary"]
RefusalReason = Literal[
    "trivia", "homework", "coding", "creative", "one_time_task", "medical", "other"
]

INTENTS: tuple[Intent, ...] = (
    "goal_setting",
    "habit_action",
    "progress_analysis",
    "troubleshooting",
    "motivation",
    "schedule_adjustment",
    "integration",
    "insights",
    "out_of_scope",
)

_FROZEN = ConfigDict(frozen=True)


class Metric(BaseModel):
    """A measurable quantity named in a message, in a canonical unit.

    Units are ``lb``, ``kg``, ``km``, ``mi``, ``usd``, ``eur``, ``gbp``, ``hours``, ``minutes``,
    ``steps``, ``glasses``, or else the counted noun in lower-case plural (``books``, ``pull-ups``).
    """

    model_config = _FROZEN

    value: int | float
    unit: str
    per: str | None = None


class ScheduleHint(BaseModel):
    """When a habit should happen, as far as the message says.

    ``days`` uses the API's weekday codes (``mon`` … ``sun``); ``times`` per ``every`` ``unit``
    mirrors the API's interval schedule; ``time_of_day`` is ``morning``, ``afternoon``,
    ``evening``, ``night`` or a clock time ``HH:MM``.
    """

    model_config = _FROZEN

    days: tuple[str, ...] = ()
    times: int | None = None
    every: int = 1
    unit: Literal["day", "week", "month", "year"] | None = None
    time_of_day: str | None = None


class Sentiment(BaseModel):
    """The feeling of a message: a label, a score in [-1, 1] and whether the user is frustrated."""

    model_config = _FROZEN

    label: SentimentLabel
    score: float
    frustration: bool


class Understanding(BaseModel):
    """Everything the assistant understood from one message.

    Attributes:
        intent: What the user wants, one of :data:`INTENTS`, with ``confidence`` in [0, 1].
        action: For ``habit_action``, which one: create, log, add_sub_habits, assign_tags,
            suggest_tags, remind, update or delete.
        domain: The goal domain; ``subdomain`` refines it (running, language, saving, sleep…)
            and ``subject`` names what it is about ("Spanish", "guitar", "smoking", "5K").
        timeframe_days: Days from today to ``deadline`` when the message sets one.
        lookback_days: For progress, insight and integration questions, how far back they look.
        metric: The main quantity named, in a canonical unit.
        chronotype: ``morning`` or ``evening`` when the user describes themselves.
        minutes_available: Free minutes per day the user says they have.
        constraints: Limitations that shape a plan ("bad knee", "no gym", "works night shifts").
        habit_names: Existing habits the message refers to (their titles), then other habits
            named as "my … habit".
        new_habit_title: The title a create or remind request implies.
        sub_habits: Items of a routine ("meditate, journal, and stretch").
        schedule: Weekdays, frequency and time of day named.
        achievement: Whether the user reports an achievement (a streak, a milestone).
        refuse: Whether the request is out of scope; ``refusal_reason`` says why.
        tags: Tag names in a tagging request.
        integration: The connected app or device named ("fitbit", "apple_health", "watch").
        issue: For troubleshooting and motivation, what goes wrong, in the terms of the
            ``suggest_habit_modification`` tool: too_hard, no_time, forgot or unmotivated.
        insight_kind: For insights, whether a chart, a prediction, habit-science knowledge or a
            summary is asked for.
    """

    model_config = _FROZEN

    message: str
    intent: Intent
    confidence: float
    action: HabitAction | None = None
    domain: Domain | None = None
    subdomain: str | None = None
    subject: str | None = None
    timeframe_days: int | None = None
    deadline: date | None = None
    lookback_days: int | None = None
    metric: Metric | None = None
    chronotype: Chronotype | None = None
    minutes_available: int | None = None
    constraints: tuple[str, ...] = ()
    habit_names: tuple[str, ...] = ()
    new_habit_title: str | None = None
    sub_habits: tuple[str, ...] = ()
    schedule: ScheduleHint | None = None
    sentiment: Sentiment
    achievement: bool = False
    refuse: bool = False
    refusal_reason: RefusalReason | None = None
    tags: tuple[str, ...] = ()
    integration: str | None = None
    issue: HabitIssue | None = None
    insight_kind: InsightKind | None = None


# --------------------------------------------------------------------------------------------
# Normalisation
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


def _words(text: str) -> tuple[str, ...]:
    """Split a space-separated word table; "_" stands for a space inside an entry."""
    return tuple(word.replace("_", " ") for word in text.split())


# Longer domain words only: fuzzy matching short words turns "heading" into "reading".
_FUZZY_VOCABULARY: tuple[str, ...] = _words(
    "marathon exercise exercising meditation meditating workouts vocabulary conversation "
    "conversational smoking hydration procrastinating procrastination productivity productive "
    "stretching strength journaling mindfulness frustrated frustrating unmotivated motivation "
    "emergency retirement investing budgeting spending vegetables nutrition calories japanese "
    "portuguese mandarin italian german french spanish"
)

_SMALL_NUMBERS: dict[str, int] = {
    word: value
    for value, word in enumerate(
        _words(
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


def _normalize(message: str) -> str:
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

    text = re.sub(r"[a-z]+", fix, text)
    for pattern, replacement in _PHRASE_NUMBERS:
        text = re.sub(pattern, replacement, text)
    text = _digitize(text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------------------------

_WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES: dict[str, str] = {
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
_WEEKDAY_RE = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?"
_MONTHS: dict[str, int] = {
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
_MONTH_RE = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)

_FIRST_PERSON = re.compile(r"\b(?:i|me|my|i'm|im|i've|i'd|i'll|myself|mine|we|our|us)\b")
_RECURRENCE = re.compile(
    r"\b(?:(?:every|each) (?:single )?(?:day|morning|evening|night|week|weekday|weekend|month|year"
    r"|hour|other day|" + _WEEKDAY_RE + r"|\d+ (?:hours|days|weeks|minutes))"
    r"|daily|nightly|weekly|monthly|regularly|routinely|more often|consistently"
    r"|on (?:mon|tues|wednes|thurs|fri|satur|sun)days|weekdays|weekends"
    r"|\d+ (?:times|x) (?:a|per|each|every) "
    r"(?:day|week|month)|\d+x (?:a |per )?(?:day|week|weekly|daily)|habits?|routines?)\b"
)
_HABIT_MARKERS = re.compile(
    r"\b(?:habits?|routines?|streaks?|track(?:ing|er)?|goals?|sub-?habits?)\b|"
    + _RECURRENCE.pattern
)
_HABIT_ACTIVITY = re.compile(
    r"\b(?:meditat\w*|run|running|jog\w*|walk\w*|exercis\w*|work ?out\w*|stretch\w*|read|reading"
    r"|journal\w*|study\w*|practi[cs]\w*|drink (?:more )?water|water|sleep\w*|floss\w*|pray\w*"
    r"|yoga|lift\w*|swim\w*|cycl\w*|breath\w*|vitamins?|meds|medication|pills|gym|train\w*"
    r"|push-?ups?|pull-?ups?|squats?|plank)\b"
)


# --------------------------------------------------------------------------------------------
# Domain
# --------------------------------------------------------------------------------------------

_LANGUAGES: tuple[str, ...] = _words(
    "spanish french german italian portuguese japanese mandarin chinese cantonese korean "
    "arabic russian hindi dutch swedish norwegian danish greek turkish polish hebrew "
    "vietnamese thai indonesian latin english esperanto swahili tagalog ukrainian czech "
    "finnish hungarian irish welsh persian farsi bengali urdu punjabi tamil sign_language "
    "asl"
)
_INSTRUMENTS: tuple[str, ...] = _words(
    "guitar piano violin cello drums bass ukulele flute saxophone sax trumpet clarinet harp "
    "banjo harmonica keyboard singing voice mandolin"
)
_QUIT_SUBJECTS: dict[str, str] = {
    "smok": "smoking",
    "cigarette": "smoking",
    "nicotine": "smoking",
    "tobacco": "smoking",
    "vap": "vaping",
    "alcohol": "drinking",
    "drinking": "drinking",
    "booze": "drinking",
    "beer": "drinking",
    "wine": "drinking",
    "sugar": "sugar",
    "sweets": "sugar",
    "soda": "soda",
    "caffeine": "caffeine",
    "coffee": "caffeine",
    "social media": "social media",
    "doomscroll": "social media",
    "scrolling": "social media",
    "instagram": "social media",
    "tiktok": "social media",
    "phone": "phone use",
    "screen time": "screen time",
    "junk food": "junk food",
    "fast food": "junk food",
    "nail": "nail biting",
    "gambl": "gambling",
    "porn": "porn",
    "weed": "cannabis",
    "cannabis": "cannabis",
    "energy drink": "energy drinks",
}
_QUIT_OBJECT = (
    r"(?:smok\w*|cigarettes?|nicotine|tobacco|vap\w*|alcohol|drinking|booze|beer|wine|sugar|sweets"
    r"|soda|caffeine|coffee|social media|doomscroll\w*|scrolling|instagram|tiktok|(?:my )?phone"
    r"|screen time|junk food|fast food|nail[- ]biting|biting my nails|gambl\w*|porn|weed|cannabis"
    r"|energy drinks?)"
)

_DOMAIN_CUES: tuple[tuple[str, str, float], ...] = (
    # fitness: running
    (
        "running",
        r"\b(?:half[- ]?)?marathons?\b|\bultra(?:marathon)?s?\b|\bc25k\b|\bcouch to 5 ?k\b",
        4,
    ),
    ("running", r"\b\d+(?:\.\d+)? ?k\b(?! steps)(?! (?:dollars|usd|savings|in savings))", 2.5),
    ("running", r"\b(?:run|runs|running|ran|runner|jog\w*|sprint\w*|trail run\w*|mileage)\b", 2.5),
    ("running", r"\brace\b", 1.0),
    # fitness: strength
    (
        "strength",
        r"\b(?:pull|push|chin|sit)[- ]?ups?\b|\bsquats?\b|\bdeadlifts?\b|\bbench(?: press)?\b"
        r"|\blift(?:ing)? weights\b|\bweight ?lifting\b|\bstrength\b|\bmuscles?\b|\bbulk\w*\b"
        r"|\btone up\b|\bbarbells?\b|\bdumbbells?\b|\bkettlebells?\b|\bcalisthenics\b"
        r"|\bplanks?\b|\bstronger\b|\bgain (?:\d+ ?)?(?:lbs?|pounds|kg|kilos) of muscle\b",
        2.5,
    ),
    ("strength", r"\bgym\b", 1.2),
    ("general_fitness", r"\b(?:go|going|get|hit|hitting) (?:to )?the gym\b|\bgym sessions?\b", 2.0),
    # fitness: weight loss
    (
        "weight_loss",
        r"\b(?:lose|losing|lost|drop|dropping|shed|shedding|cut)\b(?: (?:about|around|some|the|my|a"
        r"|\d+(?:\.\d+)?))?(?: ?(?:weight|pounds?|lbs?|kgs?|kilos?|kilograms?|stones?|body fat|fat|"
        r"belly fat|inches))\b",
        4,
    ),
    (
        "weight_loss",
        r"\bweight ?loss\b|\bslim (?:down)?\b|\bget lean\b|\bbody fat\b|\bbelly fat\b|\bbmi\b"
        r"|\boverweight\b|\bcalorie deficit\b|\bweigh[- ]?ins?\b|\bfat loss\b",
        3,
    ),
    # fitness: general
    (
        "general_fitness",
        r"\bexercis\w*|\bwork ?outs?\b|\bworking out\b|\bfit\b|\bfitness\b|\bget in shape\b"
        r"|\bin shape\b|\bcardio\b|\byoga\b|\bpilates\b|\bcycling\b|\bbik(?:e|ing)\b|\bswim\w*"
        r"|\bhik(?:e|ing)\b|\bsports?\b|\bmove more\b|\bmobility\b|\bdanc\w*|\bhiit\b"
        r"|\bactive\b|\bphysical(?:ly)?\b|\bathletic\b",
        2,
    ),
    ("general_fitness", r"\bwalk\w*\b|\bsteps\b|\bstretch\w*", 1.2),
    # learning: language
    ("language", r"\b(?:" + "|".join(_LANGUAGES) + r")\b", 3.5),
    (
        "language",
        r"\b(?:a|new|foreign|second) language\b|\bfluen\w*|\bvocab\w*|\bduolingo\b|\bgrammar\b"
        r"|\bconversational\b|\bbilingual\b|\blanguages?\b",
        2,
    ),
    # learning: reading
    (
        "reading",
        r"\bread\w*|\bbooks\b|\bbook\b(?! (?:a|an|the|me|my|tickets?|flights?|tables?))"
        r"|\bnovels?\b|\bpages?\b|\bchapters?\b|\baudiobooks?\b|\bkindle\b",
        2,
    ),
    # learning: instrument
    ("instrument", r"\b(?:" + "|".join(_INSTRUMENTS) + r")\b", 3),
    ("instrument", r"\binstruments?\b|\bmusic theory\b|\bchords?\b|\bscales\b|\bsing\b", 2),
    # learning: skill
    (
        "skill",
        r"\blearn\w*|\bstudy\w*|\bstudies\b|\bcourses?\b|\bclass(?:es)?\b|\bexams?\b"
        r"|\bcertifica\w*|\bdegree\b|\bskills?\b|\bcod(?:e|ing)\b|\bprogramming\b|\bpython\b"
        r"|\bjavascript\b|\bdrawing\b|\bpainting\b|\bchess\b|\bphotography\b|\bknitting\b"
        r"|\bmath\w*|\bdata science\b|\bmachine learning\b|\bexcel\b|\btyping\b"
        r"|\bpublic speaking\b|\bflashcards?\b|\blsat\b|\bgmat\b|\bgre\b|\bmcat\b|\bbar exam\b",
        1.5,
    ),
    # financial
    (
        "saving",
        r"\bsav(?:e|ing|ings)\b|\bemergency fund\b|\bnest egg\b|\bdown payment\b|\brainy day\b"
        r"|\bput aside\b|\bset aside\b|\bsinking fund\b",
        3,
    ),
    (
        "debt",
        r"\bdebts?\b|\bcredit cards?\b|\bloans?\b|\bmortgage\b|\bpay(?:ing)? off\b|\bowe\b"
        r"|\binterest rate\b",
        3.5,
    ),
    (
        "budgeting",
        r"\bbudget\w*|\bspend\w*(?! (?:\w+ ){0,3}time\b)|\bexpenses?\b|\bfrugal\b"
        r"|\bimpulse (?:buy|purchase|shopping)\w*"
        r"|\bmoney\b|\bfinanc\w*|\bbills\b|\bpaycheck\b|\bsalary\b|\bincome\b",
        2,
    ),
    (
        "investing",
        r"\binvest\w*|\bstocks?\b|\bindex funds?\b|\betfs?\b|\bretire\w*|\b401 ?k\b|\broth\b"
        r"|\bira\b|\bportfolio\b|\bdividends?\b|\bcrypto\w*|\bcompound interest\b",
        3,
    ),
    # wellness
    (
        "sleep",
        r"\bsleep\w*|\bbed ?times?\b|\binsomnia\b|\bnaps?\b|\bgo to bed\b|\bfall asleep\b"
        r"|\bcircadian\b|\bwake up\b|\bwaking up\b|\bhours a night\b"
        r"|\bbecome (?:a|an) (?:morning person|early riser|early bird)\b"
        r"|\b(?:wake|get) up earlier\b",
        3,
    ),
    (
        "meditation",
        r"\bmeditat\w*|\bmindful\w*|\bbreath\w*|\bcalm\w*|\bstress\w*|\banxi\w*|\bgratitude\b"
        r"|\bjournal\w*|\brelax\w*|\bmental health\b",
        2.5,
    ),
    (
        "hydration",
        r"\bwater\b|\bhydrat\w*|\bglasses\b|\bdrink more\b|\bdehydrat\w*|\bfluids\b",
        3,
    ),
    (
        "nutrition",
        r"\beat\w*|\bdiet\b|\bnutrition\w*|\bhealthy food\b|\bvegetables\b|\bveggies\b|\bfruits?\b"
        r"|\bmeal ?prep\w*|\bcook\w*|\bjunk food\b|\bsnack\w*|\bprotein\b|\bcalories\b"
        r"|\bbreakfast\b|\blunch\b|\bdinner\b|\bprocessed food\b|\bsalads?\b|\bmeals?\b",
        2,
    ),
    (
        "quitting",
        r"\b(?:quit\w*|stop\w*|give up|giving up|kick\w*|break\w*|cut(?:ting)? (?:out|back on|down"
        r" on)|reduce|less|limit\w*|cut down|without|sober)\b(?: \w+){0,2} " + _QUIT_OBJECT,
        5,
    ),
    ("quitting", r"\bsmok\w*|\bcigarettes?\b|\bvap(?:e|ing)\b|\bnicotine\b|\bsobe\w*", 3),
    ("quitting", r"\bsocial media\b|\bscreen time\b|\bdoomscroll\w*|\bphone addiction\b", 2.5),
    ("nutrition", r"\bhealth(?:y|ier|iest)\b|\bhealthy lifestyle\b", 1.5),
    # productivity
    (
        "focus",
        r"\bproductiv\w*|\bfocus\w*|\bdeep work\b|\bprocrastinat\w*|\bdistract\w*|\bconcentrat\w*"
        r"|\bpomodoro\b|\befficien\w*|\bget (?:more )?(?:things|stuff) done\b|\bat work\b"
        r"|\binbox\b",
        2.5,
    ),
    (
        "planning",
        r"\bplann(?:ing|er)\b|\borgani[sz]\w*|\bto-?do\b|\bprioriti[sz]\w*|\btime management\b"
        r"|\bmanage my time\b|\bcalendar\b|\bdeclutter\w*|\btidy\w*|\bchores\b|\bplan my\b",
        2,
    ),
    (
        "writing",
        r"\bwrit(?:e|ing)\b|\bblog\w*|\barticles?\b|\bwords\b|\bmanuscript\b|\bthesis\b"
        r"|\bdissertation\b|\bscreenplay\b|\bnewsletter\b",
        2.5,
    ),
)
_DOMAIN_OF: dict[str, Domain] = {
    "running": "fitness",
    "strength": "fitness",
    "weight_loss": "fitness",
    "general_fitness": "fitness",
    "language": "learning",
    "reading": "learning",
    "instrument": "learning",
    "skill": "learning",
    "saving": "financial",
    "debt": "financial",
    "budgeting": "financial",
    "investing": "financial",
    "sleep": "wellness",
    "meditation": "wellness",
    "hydration": "wellness",
    "nutrition": "wellness",
    "quitting": "wellness",
    "focus": "productivity",
    "planning": "productivity",
    "writing": "productivity",
}
_COMPILED_DOMAIN_CUES = tuple((sub, re.compile(p), w) for sub, p, w in _DOMAIN_CUES)


def _detect_domain(
    text: str, metric: Metric | None
) -> tuple[Domain | None, str | None, str | None]:
    """Score every subdomain's cues and return (domain, subdomain, subject)."""
    scores: dict[str, float] = {}
    for sub, pattern, weight in _COMPILED_DOMAIN_CUES:
        hits = len(pattern.findall(text))
        if hits:
            scores[sub] = scores.get(sub, 0.0) + weight * min(hits, 2)
    if metric is not None:
        unit_hint = {
            "lb": "weight_loss",
            "kg": "weight_loss",
            "km": "general_fitness"
            if re.search(r"\b(?:bik|cycl|ride|swim|hik)", text)
            else "running",
            "mi": "general_fitness"
            if re.search(r"\b(?:bik|cycl|ride|swim|hik)", text)
            else "running",
            "steps": "general_fitness",
            "glasses": "hydration",
            "liters": "hydration",
            "books": "reading",
            "pages": "reading",
            "chapters": "reading",
            "words": "language" if scores.get("language") else "writing",
            "pull-ups": "strength",
            "push-ups": "strength",
        }.get(metric.unit)
        if metric.unit in ("usd", "eur", "gbp", "dollars"):
            unit_hint = "debt" if scores.get("debt") else "saving"
        if metric.unit in ("lb", "kg") and scores.get("strength", 0) > scores.get("weight_loss", 0):
            unit_hint = "strength"
        if unit_hint:
            scores[unit_hint] = scores.get(unit_hint, 0.0) + 2.0
    if re.search(r"\bhours?\b.{0,20}\b(?:a|per|each) night\b", text):
        scores["sleep"] = scores.get("sleep", 0.0) + 3
    if scores.get("quitting", 0) >= 5:
        # "stop drinking soda" names a substance that other domains also claim (drink → hydration).
        scores["hydration"] = 0
        scores["nutrition"] = min(scores.get("nutrition", 0.0), 2)
    if not scores:
        return None, None, None
    order = list(_DOMAIN_OF)
    best = max(scores, key=lambda s: (scores[s], -order.index(s)))
    if scores[best] < 1.5:
        return None, None, None
    return _DOMAIN_OF[best], best, _subject(best, text)


def _subject(sub: str, text: str) -> str | None:
    """The thing a goal is about, used to name habits ("Spanish", "guitar", "smoking")."""
    if sub == "language":
        for language in _LANGUAGES:
            if re.search(r"\b" + language + r"\b", text):
                return "ASL" if language == "asl" else language.title()
        return None
    if sub == "instrument":
        for instrument in _INSTRUMENTS:
            if re.search(r"\b" + instrument + r"\b", text):
                return {"sax": "saxophone", "voice": "singing"}.get(instrument, instrument)
        return None
    if sub == "quitting":
        found = [
            (m.start(), name)
            for stem, name in _QUIT_SUBJECTS.items()
            for m in [re.search(r"\b" + stem, text)]
            if m
        ]
        # "Quit drinking soda" is about soda: the substance named last is the object.
        return max(found)[1] if found else None
    if sub == "running":
        if re.search(r"\bhalf[- ]?marathon", text):
            return "half marathon"
        if re.search(r"\bultra", text):
            return "ultramarathon"
        if re.search(r"\bmarathon", text):
            return "marathon"
        race = re.search(r"\b(\d+(?:\.\d+)?) ?k\b(?! steps)", text)
        if race:
            return f"{race.group(1)}K"
        return None
    if sub == "skill":
        known = re.search(
            r"\b(python|javascript|coding|programming|drawing|painting|chess|photography|knitting"
            r"|data science|machine learning|excel|typing|public speaking|math\w*|calculus|sql"
            r"|cooking|statistics|design|sketching|calligraphy|woodworking)\b",
            text,
        )
        if known:
            return known.group(1)
        learn = re.search(r"\blearn(?:ing)? (?:to |how to )?(?:play |speak |do )?([a-z]+)", text)
        if learn and learn.group(1) not in ("a", "the", "more", "new", "something", "about"):
            return learn.group(1)
        return None
    return None


# --------------------------------------------------------------------------------------------
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


def _timeframe(text: str, today: date) -> date | None:
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
        + _MONTH_RE
        + r")\b(?: (?P<d2>\d{1,2})(?:st|nd|rd|th)?)?",
        text,
    )
    if month_match:
        month = _MONTHS[month_match.group("month")]
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

    weekday = re.search(r"\b" + _BY + r" (?:next |this )?(?P<day>" + _WEEKDAY_RE + r")\b", text)
    if weekday:
        target = _WEEKDAYS.index(_WEEKDAY_NAMES.get(weekday.group("day").rstrip("s"), "mon"))
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


def _lookback(text: str) -> int | None:
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


def _minutes_available(text: str) -> tuple[int | None, tuple[int, int] | None]:
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
    _words(
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


def _metric(text: str, exclude: tuple[int, int] | None) -> Metric | None:
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


_EVENING_CUES = re.compile(
    r"\bnight owl\b|\bevening person\b|\bnight person\b|\bnot (?:a|much of a|really a) morning "
    r"person\b|\bhate (?:the )?mornings\b|\blate riser\b|\bstay up late\b|\bnight shifts?\b"
    r"|\bafter work\b|\bafter the kids (?:are|go) (?:in |to )?bed\b|\bin the evenings?\b"
    r"|\bat night\b|\bevenings? (?:are|is|work) (?:best|better)\b|\blate sleeper\b"
    r"|\b(?:more )?(?:productive|energetic|alert|awake) (?:at night|in the evenings?|late)\b"
    r"|\bnot an early (?:bird|riser)\b|\bsleep in\b|\bafter dinner\b|\bevenings?\b(?= only)"
    r"|\bprefer(?:s|red)? (?:to [a-z]+ (?:it |things )?)?(?:in )?(?:the )?(?:evenings?|nights?)\b"
    r"|\b(?:more of )?an? (?:evening|night) (?:type|person)\b"
)
_MORNING_CUES = re.compile(
    r"\bmorning person\b|\bearly bird\b|\bearly riser\b|\brise early\b|\bwake (?:up )?early\b"
    r"|\bup early\b|\bbefore work\b|\bin the mornings?\b|\bfirst thing\b|\bmornings? (?:are|is|"
    r"work) (?:best|better)\b|\bat dawn\b|\b(?:more )?(?:productive|energetic|alert) in the "
    r"mornings?\b|\bmorning lark\b|\bbefore (?:the kids wake|breakfast|school)\b"
    r"|\bto the mornings\b"
    r"|\bprefer(?:s|red)? (?:to [a-z]+ (?:it |things )?)?(?:in )?(?:the )?mornings?\b"
    r"|\b(?:more of )?a morning type\b"
)


def _chronotype(text: str) -> Chronotype | None:
    """Morning or evening person, from self-descriptions and when they say they have time."""
    evening = _EVENING_CUES.search(text)
    morning = _MORNING_CUES.search(text)
    if re.search(r"\bnot (?:a|much of a|really a) morning person\b|\bnot an early", text):
        return "evening"
    if re.search(
        r"\bnot (?:a|much of a|really a) (?:night owl|evening person|night person)\b", text
    ):
        return "morning"
    if evening and morning:
        return "evening" if evening.start() < morning.start() else "morning"
    if evening:
        return "evening"
    if morning:
        return "morning"
    return None


# --------------------------------------------------------------------------------------------
# Constraints, habits, sub-habits, schedule
# --------------------------------------------------------------------------------------------

_BODY_PARTS = (
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


def _constraints(text: str) -> tuple[str, ...]:
    """Physical limitations, equipment, time and life circumstances that shape a plan."""
    found: list[str] = []
    for m in re.finditer(
        r"\b(?:bad|injured|hurt|sore|weak|broken|busted|dodgy|bum|torn|sprained|twisted|"
        r"recovering|fragile|painful|stiff)\s+(?:left |right )?(" + _BODY_PARTS + r")\b",
        text,
    ):
        found.append(f"bad {_singular(m.group(1))}")
    for m in re.finditer(
        r"\b(" + _BODY_PARTS + r")\s+(pain|injury|injuries|problems?|issues?|surgery)\b", text
    ):
        kind = {"injuries": "injury", "problems": "problem", "issues": "issue"}.get(
            m.group(2), m.group(2)
        )
        found.append(f"{_singular(m.group(1))} {kind}")
    for m in re.finditer(
        r"\b(?:hurt|injured|broke|tore|sprained) my (" + _BODY_PARTS + r")\b", text
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


def match_habits(text: str, known_habits: Sequence[str]) -> tuple[str, ...]:
    """The known habit titles a (normalised, lower-case) text refers to, longest first."""
    stems = _stems(text)
    matched: list[str] = []
    for title in sorted(known_habits, key=len, reverse=True):
        title_stems = _stems(title.lower())
        if title_stems and title_stems <= stems:
            matched.append(title)
    return tuple(matched)


def _mentioned_habits(text: str, known_habits: Sequence[str]) -> tuple[str, ...]:
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


def _sub_habits(text: str) -> tuple[str, ...]:
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
    r"^(?:please )?(?P<act>[a-z][a-z ]+?) (?:every|each|daily|weekly|on " + _WEEKDAY_RE + r")\b",
)


def _new_habit_title(text: str, routine: bool) -> str | None:
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


def _schedule(text: str) -> ScheduleHint | None:
    """Weekdays, times per period and time of day named in the message."""
    days: list[str] = []
    for m in re.finditer(r"\b(" + _WEEKDAY_RE + r"|tues|weds|thurs)\b", text):
        word = m.group(1).rstrip("s") if m.group(1).endswith("days") else m.group(1)
        code = _WEEKDAY_NAMES.get(word) or _WEEKDAY_NAMES.get(word.rstrip("s"))
        if code:
            days.append(code)
    abbreviations = re.findall(r"\b(mon|tue|wed|thu|fri|sat|sun)\b", text)
    if len(abbreviations) >= 2:
        days.extend(abbreviations)
    if re.search(r"\bweekdays\b|\bevery weekday\b|\bmonday (?:to|through|-) friday\b", text):
        days.extend(_WEEKDAYS[:5])
    if re.search(r"\bweekends?\b", text):
        days.extend(("sat", "sun"))
    ordered = tuple(d for d in _WEEKDAYS if d in days)

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
# Sentiment
# --------------------------------------------------------------------------------------------

# (pattern, weight, signals frustration, negation flips it)
_SENTIMENT_LEXICON: tuple[tuple[str, float, bool, bool], ...] = (
    (r"\bfrustrat\w*", -2.5, True, False),
    (r"\bannoy\w*", -2.0, True, False),
    (r"\birritat\w*", -2.0, True, False),
    (r"\bugh+\b|\bargh+\b|\bgrr+\b|\bomg\b(?=.*\b(?:again|keep|always)\b)", -1.5, True, False),
    (r"\bfed up\b", -2.5, True, False),
    (r"\b(?:sick|tired) of\b", -2.0, True, False),
    (r"\bhate\b|\bhating\b", -2.0, True, True),
    (r"\bangry\b|\bmad at\b|\bpissed\b|\bfurious\b", -2.0, True, False),
    (r"\bsucks?\b|\bdamn\b|\bwtf\b|\bffs\b", -1.5, True, False),
    (r"\bfail\w*", -1.5, False, True),
    (
        r"\bunmotivated\b|\bdemotivated\b|\bnot motivated\b|\bno motivation\b"
        r"|\black(?:ing)? (?:of )?motivation\b|\blost (?:my |all )?motivation\b",
        -2.0,
        False,
        False,
    ),
    (r"\bdiscourag\w*|\bdisheart\w*|\bdefeated\b", -2.0, False, False),
    (
        r"\bgiv(?:e|ing) up\b(?! (?:smok|drink|alcohol|sugar|caffeine|soda|vap|social|coffee))",
        -2.0,
        False,
        False,
    ),
    (r"\bstruggl\w*", -1.5, False, False),
    (r"\bskip(?:ping|ped|s)?\b", -1.0, False, False),
    (r"\bmiss(?:ed|ing)\b", -0.8, False, False),
    (r"\bbroke\b|\bbroken\b|\blost my\b|\bruined\b", -1.0, False, False),
    (r"\bsad\b|\bdepress\w*|\bmiserable\b|\bunhappy\b|\bdown lately\b", -2.0, False, False),
    (r"\bstressed\b|\bstressful\b|\boverwhelm\w*", -1.5, False, False),
    (r"\banxious\b|\bworried\b|\bnervous\b|\bscared\b|\bafraid\b", -1.2, False, False),
    (r"\bexhausted\b|\bdrained\b|\bburn(?:ed|t)[ -]?out\b", -1.5, False, False),
    (r"\btired\b(?! of)", -0.8, False, False),
    (r"\blazy\b|\bguilty\b|\bashamed\b|\bembarrass\w*|\bpathetic\b", -1.5, False, False),
    (r"\bdisappoint\w*", -2.0, False, False),
    (
        r"\bterrible\b|\bawful\b|\bhorrible\b|\bworst\b|\buseless\b|\bpointless\b|\bhopeless\b",
        -2.0,
        False,
        False,
    ),
    (
        r"\bnothing (?:is )?work(?:s|ing)\b|\bnot working\b|\bdoesn'?t work\b|\bisn'?t working\b",
        -1.8,
        False,
        False,
    ),
    (
        r"\bcan'?t (?:seem to|stick|stay|keep|get myself|make myself|manage|stop)\b",
        -1.2,
        False,
        False,
    ),
    (
        r"\boff track\b|\bfell off\b|\bfalling off\b|\brelaps\w*|\bslipp(?:ed|ing)\b",
        -1.2,
        False,
        False,
    ),
    (r"\bwhy do i (?:always|keep|never)\b|\bwhy can'?t i\b", -1.0, True, False),
    (r"\bbad\b(?! (?:" + _BODY_PARTS + r"))", -1.0, False, True),
    (r"\bno energy\b|\bimpossible\b", -1.5, False, False),
    (
        r"\btoo (?:hard|difficult)\b|\bkeep (?:hitting snooze|snoozing|putting (?:it )?off)\b",
        -1.2,
        False,
        False,
    ),
    (
        r"[\U0001F61E\U0001F622\U0001F629\U0001F624\U0001F621\U0001F641\u2639\U0001F62D]",
        -1.5,
        False,
        False,
    ),
    (r"\bproud\b", 2.5, False, True),
    (r"\bhappy\b|\bglad\b|\bthrilled\b|\bdelighted\b", 2.0, False, True),
    (r"\bexcit\w*", 2.0, False, True),
    (r"(?<!i'd )(?<!would )(?<!i would )\blove\b(?! to\b)|\bloving\b", 1.5, False, True),
    (
        r"\bgreat\b|\bawesome\b|\bamazing\b|\bfantastic\b|\bwonderful\b|\bincredible\b"
        r"|\bexcellent\b|\bbrilliant\b",
        2.0,
        False,
        True,
    ),
    (r"\bgood\b", 1.0, False, True),
    (r"\bdid it\b|\bmade it\b|\bnailed it\b|\bcrushed it\b|\bkilled it\b", 2.5, False, False),
    (r"\bfinally\b", 1.0, False, False),
    (
        r"\b(?:hit|reached|achieved|completed|smashed|beat|got|passed)\b.{0,30}\b(?:streak|goal"
        r"|milestone|record|best|pr|days? in a row|target)\b",
        2.5,
        False,
        False,
    ),
    (r"\bmilestone\b|\bpersonal best\b|\bnew pr\b|\bpersonal record\b", 1.5, False, False),
    (r"\byay\b|\bwoo+(?:hoo+)?\b|\bhooray\b|\byes+!", 2.0, False, False),
    (r"\bthanks?\b|\bthank you\b", 1.0, False, False),
    (r"\benjoy\w*", 1.5, False, True),
    (r"\bmotivated\b|\bpumped\b|\bstoked\b|\binspired\b|\bconfident\b|\beager\b", 1.5, False, True),
    (r"\bfeel(?:ing)? (?:better|great|good|strong|amazing|fantastic)\b", 1.5, False, True),
    (
        r"[\U0001F389\U0001F525\U0001F4AA\U0001F64C\U0001F60A\U0001F604\U0001F600\U0001F973"
        r"\U0001F44F\u2705\u2764]",
        1.5,
        False,
        False,
    ),
)
_COMPILED_SENTIMENT = tuple((re.compile(p), w, f, n) for p, w, f, n in _SENTIMENT_LEXICON)
_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "don't",
        "doesn't",
        "isn't",
        "wasn't",
        "didn't",
        "hardly",
        "barely",
        "dont",
        "doesnt",
        "isnt",
        "wasnt",
        "didnt",
        "aren't",
        "arent",
        "without",
    }
)
_INTENSIFIERS = frozenset(
    {
        "so",
        "really",
        "very",
        "super",
        "extremely",
        "incredibly",
        "totally",
        "completely",
        "absolutely",
        "truly",
        "seriously",
        "insanely",
    }
)
_ACHIEVEMENT_RE = re.compile(
    r"\b(?:hit|reached|achieved|completed|smashed|beat|got|passed)\b.{0,30}\b(?:streak|goal"
    r"|milestone|record|best|pr|days? in a row|target)\b|\bdid it\b|\bmade it\b|\bnailed it\b"
    r"|\bcrushed it\b|\bpersonal best\b|\bnew pr\b|\b\d+[- ]days? (?:in a row|straight|streak)\b"
    r"|\b\d+ (?:days|weeks|months) (?:of|without)\b|\b\d+[- ]day streak\b"
    r"|\bfinally (?:ran|did|finished|completed|hit|reached|managed)\b|\bmilestone\b"
)


def _sentiment(text: str, raw: str) -> tuple[Sentiment, bool]:
    """Lexicon sentiment with negation, intensifiers and exclamation marks; and achievement."""
    total = 0.0
    frustration = False
    for pattern, weight, frustrating, negatable in _COMPILED_SENTIMENT:
        for m in pattern.finditer(text):
            before = re.findall(r"[a-z']+", text[max(0, m.start() - 30) : m.start()])[-3:]
            value = weight
            if negatable and any(w in _NEGATORS for w in before):
                value = -0.8 * weight
            elif before and before[-1] in _INTENSIFIERS:
                value *= 1.4
            total += value
            if frustrating and value < 0:
                frustration = True
    bangs = raw.count("!")
    if total and bangs:
        total *= 1 + 0.15 * min(bangs, 4)
    score = round(math.tanh(total / 3), 3)
    label: SentimentLabel = (
        "positive" if score >= 0.2 else "negative" if score <= -0.2 else "neutral"
    )
    if label == "negative" and re.search(r"\b(?:again|keep|keeps|always|every time|never)\b", text):
        frustration = True
    if label == "positive":
        frustration = False
    # "Will I hit my goal?" names an achievement without having one.
    hypothetical = re.search(
        r"\b(?:will i|i'?ll|whether|predict\w*|chances?|can i|could i|if i|going to|want to)\b",
        text,
    )
    achievement = bool(_ACHIEVEMENT_RE.search(text)) and label != "negative" and not hypothetical
    return Sentiment(label=label, score=score, frustration=frustration), achievement


# --------------------------------------------------------------------------------------------
# Out of scope
# --------------------------------------------------------------------------------------------

_HOMEWORK_RE = re.compile(
    r"\bhomework\b|\bassignments?\b|\bworksheet\b|\bproblem set\b|\bessay (?:for|on|about)\b"
    r"|\bsolve\b|\b\d*[a-z]? ?[-+*/] ?\d+ ?= ?\d+|\b(?:do|answer|take) my (?:test|exam|quiz)\b"
    r"|\bcalculus\b"
    r"|\balgebra\b|\btrigonometry\b|\bderivative of\b|\bintegral of\b|\bequations?\b"
    r"|\bwhat is \d+ ?[-+*/x] ?\d+|\bwhat'?s \d+ ?(?:[-+*/x]|times|plus|minus) ?\d+"
)
_CODING_RE = re.compile(
    r"\bdebug\w*|\brefactor\w*|\bcompil(?:e|er|ing)\b|\bstack ?trace\b|\bsyntax error\b"
    r"|\bsegfault\b|\btraceback\b|\bregex\b|\bsql query\b|\b(?:my|this|the) code\b|\bcode snippet"
    r"|\bwrite (?:me )?(?:a |an |some )?(?:\w+ )?(?:code|function|script|program|class|query|app)\b"
    r"|\b(?:python|javascript|java|typescript|c\+\+|rust|golang|html|css|react) (?:code|function"
    r"|script|error|bug|program|question|exception)\b|\bfix (?:my|this|the) (?:bug|code|error)\b"
    r"|\bin (?:python|javascript|java|typescript|c\+\+|rust)\b|\bsort a list\b|\bapi endpoint\b"
)
_CREATIVE_RE = re.compile(
    r"\b(?:write|compose|create|generate|make)(?: me| us)? (?:a |an |some |my )?(?:short |funny |"
    r"little )?(?:poem|story|song|lyrics|haiku|limerick|joke|rap|essay|speech|cover letter"
    r"|screenplay|toast|eulogy)s?\b|\btell me a (?:joke|story)\b|\b(?:draw|paint) me\b"
    r"|\b(?:a |an )?(?:poem|haiku|limerick) about\b"
)
_TRIVIA_RE = re.compile(
    r"\bcapital of\b|\bwho (?:won|wrote|invented|discovered|painted|directed|is the (?:president"
    r"|king|queen|ceo|prime minister))\b|\bpopulation of\b|\bweather\b|\bstock price\b"
    r"|\btranslat\w*|\bwhat year (?:did|was)\b|\bhow old is\b|\bdefine (?!my)\w+|\bmeaning of"
    r"(?! (?:my|life))\b|\brecipe for\b|\bconvert \d|\bhow (?:far|tall|big|deep|hot|cold|long)"
    r" is (?:the|a|an|mount|mt)\b|\bdistance (?:from|between)\b|\bhistory of\b|\bwho (?:was|is)"
    r" (?!my)\w+|\bwhen (?:did|was) (?:the )?(?!i\b)\w+|\bwhat is the (?:speed|height|distance"
    r"|population|capital|meaning|boiling|square root)\b|\bscore of the\b|\bwho is playing\b"
    r"|\bnews\b|\bwhat time is it\b|\bfun fact\b|\briddle\b|\btrivia\b"
)
_QUESTION_START = re.compile(
    r"^(?:what|what's|whats|who|who's|when|where|which|why|how|explain|describe|tell me about"
    r"|define|is|are|does|do|can you explain|could you explain|give me a summary of|summari[sz]e)\b"
)
_MEDICAL_RE = re.compile(
    r"\bdiagnos\w*|\bprescri\w*|\bwhat (?:medication|medicine|dose|dosage)\b|\bdosage\b"
    r"|\bsymptoms of\b|\bchest pain\b|\bis it cancer\b|\bshould i (?:take|stop taking) (?:my )?"
    r"(?:medication|meds|antidepressants|insulin)\b|\bwhat (?:should|can) i take for\b"
    r"|\bwhat (?:pills?|medicine|medication) (?:should|can)\b|\bis (?:this|it) (?:normal|serious)"
    r" (?:that|if|when)\b"
)
_STRONG_ERRANDS = (
    r"buy|purchase|pick up|pick-up|drop off|drop-off|return|mail|ship|renew|cancel|book|order"
    r"|file|fix|repair|grab|get groceries|get milk|pay the|pay my (?:rent|bill|taxes|phone)"
    r"|do my taxes|wrap|reply to|respond to|pack|move out|sign up for|register for"
)
_WEAK_ERRANDS = (
    r"call|email|e-mail|text|send|pay|clean|wash|finish|submit|print|schedule|make|bring|take out"
    r"|visit|meet|see|water the|feed the|walk the dog|charge|check"
)
_ONE_TIME_MARKER = re.compile(
    r"\b(?:today|tonight|tomorrow|this (?:afternoon|evening|morning|weekend)|later today"
    r"|later|in an hour|in \d+ (?:minutes|hours)|asap|right now|next (?:"
    + _WEEKDAY_RE
    + r"|week)|on (?:mon|tues|wednes|thurs|fri|satur|sun)day\b(?! and)|at \d{1,2}(?::\d{2})?"
    r" ?(?:am|pm)?)\b"
)
_REQUEST = r"(?:i need to|i have to|i've got to|i gotta|i must|i should|remind me to|don't let me "
_REQUEST += (
    r"forget to|dont let me forget to|don't forget to|i can't forget to|help me remember to|"
)
_REQUEST += r"please|can you|could you|i want to|^)"
_STRONG_ERRAND_RE = re.compile(_REQUEST + r"\s*(?:" + _STRONG_ERRANDS + r")\b")
_WEAK_ERRAND_RE = re.compile(_REQUEST + r"\s*(?:" + _WEAK_ERRANDS + r")\b")
_OTHER_TASK_RE = re.compile(
    r"\b(?:book|reserve) (?:a |me a )?(?:flight|table|hotel|ticket|appointment|room)\b"
    r"|\border (?:me )?(?:a |some )?(?:pizza|food|uber|taxi|takeout)\b|\bplay (?:some )?(?:music"
    r"|a song)\b|\bset (?:an|my|a) alarm\b|\bsend (?:an )?(?:email|text|message) to\b"
    r"|\bcall (?:an? )?(?:uber|taxi|cab)\b|\b(?:shopping|grocery|to-?do) list\b"
    r"|\bdo my taxes\b|\bplan (?:my|a|our) (?:trip|vacation|holiday|wedding|party|birthday)\b"
)
_OTHER_REQUEST_RE = re.compile(
    r"\brecommend (?:me )?(?:a |an |some )?(?:good )?(?:movie|film|show|series|restaurant|song"
    r"|game|tv)s?\b|\bsummari[sz]e (?:this|the|that|my) (?:article|book|text|paper|video|email"
    r"|document)\b|\bwhat should i watch\b"
)


def _out_of_scope(text: str, domain: Domain | None, known_habit_hit: bool) -> RefusalReason | None:
    """Why a message is outside the assistant's remit, or None when it is in scope.

    Anything recurring, anything naming a habit, a routine, a streak or a goal is in scope: habit
    requests are never refused, however odd ("call my mom every Sunday").
    """
    if _HABIT_MARKERS.search(text):
        return None
    if known_habit_hit:
        # Naming a habit keeps a message in scope, except a plain purchase ("buy running shoes").
        purchase = re.search(r"\b(?:buy|purchase|order)\b", text)
        return "one_time_task" if purchase and _STRONG_ERRAND_RE.search(text) else None
    learning_intent = re.search(r"\b(?:learn\w*|practi[cs]\w*|study\w*|get better at)\b", text)
    if _MEDICAL_RE.search(text):
        return "medical"
    if _CREATIVE_RE.search(text):
        return "creative"
    if _CODING_RE.search(text) and not learning_intent:
        return "coding"
    if _HOMEWORK_RE.search(text) and not re.search(r"\b(?:learn\w*|get better at)\b", text):
        return "homework"
    if _OTHER_TASK_RE.search(text):
        return "one_time_task"
    activity = _HABIT_ACTIVITY.search(text)
    if _STRONG_ERRAND_RE.search(text) and not (
        activity
        and domain is not None
        and not re.search(r"\b(?:buy|purchase|order|pick up|return)\b", text)
    ):
        return "one_time_task"
    if _WEAK_ERRAND_RE.search(text) and _ONE_TIME_MARKER.search(text) and not activity:
        return "one_time_task"
    if _OTHER_REQUEST_RE.search(text):
        return "other"
    if _TRIVIA_RE.search(text):
        return "trivia"
    if (
        _QUESTION_START.search(text)
        and not _FIRST_PERSON.search(text)
        and domain is None
        and not activity
        and not re.search(
            r"\b(?:motivat\w*|willpower|discipline|consisten\w*|procrastinat\w*)\b", text
        )
    ):
        return "trivia"
    return None


# --------------------------------------------------------------------------------------------
# Intent
# --------------------------------------------------------------------------------------------

_INTENT_CUES: tuple[tuple[Intent, HabitAction | None, str, float], ...] = (
    # goal setting
    (
        "goal_setting",
        None,
        r"\b(?:habit sequence|sequence of habits|habit plan|training plan|action plan|game plan"
        r"|step[- ]by[- ]step plan|\d+[- ](?:week|month|day)[- ](?:plan|program|programme))\b",
        4.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:create|make|build|design|give me|generate|put together|draft|need|want)\b.{0,30}\b"
        r"(?:plan|program|programme|sequence|roadmap)\b",
        3.5,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:i want to|i wanna|i'?d like to|i would like to|i'?d love to|i hope to|i'?m hoping to"
        r"|my goal is|my goal for|goal is to|i need to|i plan to|i'?m planning to|i'?m trying to"
        r"|i am trying to|i'?m going to|i will|i aim to|i'?m aiming to|help me"
        r"|how (?:can|do|should)"
        r" i|i wish i could|i should|i must|teach me to|get me to|i want (?:a|an|more|better)"
        r"|i'?m determined to|i'?d like (?:a|an|more|better)|i'?m ready to|i have decided to"
        r"|i'?ve decided to|this year i|i'?m training for)\b",
        2.0,
    ),
    (
        "goal_setting",
        None,
        r"^(?:please )?(?:learn|run|lose|save|read|quit|stop|get|become|build|improve|start|train"
        r"|pay off|write|meditate|sleep|drink|eat|cut|reduce|increase|gain|finish|master|practice"
        r"|practise|study|walk|exercise|begin|prepare for|be more|be able)\b",
        2.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:quit|stop|give up|kick|cut (?:out|back|down))\b.{0,20}" + _QUIT_OBJECT,
        3.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:get (?:fit|healthy|healthier|in shape|stronger|better at|back into)|become (?:a )?"
        r"(?:morning person|runner|reader|writer|early riser)|train for)\b",
        2.5,
    ),
    # habit actions
    (
        "habit_action",
        "create",
        r"\b(?:create|add|make|set ?up|start|begin|build|establish|new)\b(?:(?!\b(?:sequence|plan"
        r"|program|programme)\b).){0,40}\b(?:habit|routine|ritual|checklist|tracker)\b",
        3.0,
    ),
    (
        "habit_action",
        "create",
        r"(?<!stop )(?<!no longer )\b(?:track|tracking|keep track of)\s+"
        r"(?:when|how|my|each|every|the|daily|whether|if|how"
        r" often|it)\b",
        3.0,
    ),
    (
        "habit_action",
        "log",
        r"^(?:please )?(?:log|record|mark|check off|tick off)\b|\b(?:log|record|mark)\b.{0,40}\b"
        r"(?:done|complete|completed|for today|today|yesterday|as done)\b",
        3.5,
    ),
    (
        "habit_action",
        "log",
        r"\bi (?:just |already |have |'ve )?(?:did|done|finished|completed|ran|walked|jogged|read"
        r"|meditated|journaled|journalled|stretched|studied|practi[cs]ed|drank|went|worked out"
        r"|lifted|swam|cycled|biked|hiked|wrote|saved|cooked|slept)\b",
        2.5,
    ),
    ("habit_action", "log", r"\bi (?:just |already )?(?:skipped|missed)\b", 2.0),
    ("habit_action", "log", r"\bjust (?:finished|completed|did|got back from)\b", 2.5),
    (
        "habit_action",
        "log",
        r"^(?:just |i )?(?:did|done with|finished|completed)\b(?! it\b| i\b| you\b| we\b)"
        r"(?!.*\?)|^done\b",
        3.0,
    ),
    (
        "habit_action",
        "add_sub_habits",
        r"\badd\b.{1,60}\b(?:to|into) (?:my|the)\b.{0,30}\b(?:routine|habit|stack|checklist)\b",
        3.5,
    ),
    ("habit_action", "add_sub_habits", r"\bsub-?habits?\b", 3.5),
    (
        "habit_action",
        "assign_tags",
        r"\b(?:tag|label|categori[sz]e)\b.{0,40}\b(?:as|with|under)\b|\badd (?:the |a |an )?[\w-]+"
        r" (?:tag|label)\b|\btags?\b.{0,30}\b(?:to|on) (?:my|the)\b|\b(?:tag|label) (?:my|it|this"
        r"|the)\b",
        4.0,
    ),
    (
        "habit_action",
        "suggest_tags",
        r"\b(?:suggest|recommend|propose|what|which|come up with|give me|any|ideas for)\b.{0,25}\b"
        r"(?:tags|labels|categories)\b",
        4.5,
    ),
    (
        "habit_action",
        "remind",
        r"\bremind me\b|\breminders?\b|\bnotify me\b|\balert me\b|\bnudge me\b|\bping me\b",
        2.5,
    ),
    (
        "habit_action",
        "update",
        r"\b(?:rename|edit|update|change|modify|increase|decrease|lower|raise|bump)\b.{0,30}\b"
        r"(?:habit|target|goal|name|title|amount)\b",
        2.2,
    ),
    (
        "habit_action",
        "delete",
        r"\b(?:delete|remove|archive|pause|stop tracking|get rid of|drop)\b.{0,30}\b"
        r"(?:habit|routine"
        r"|tracking|tracker)s?\b",
        3.0,
    ),
    (
        "habit_action",
        "delete",
        r"\bstop tracking\b|\bno longer track\b|\bdon'?t (?:want to )?track\b",
        3.5,
    ),
    (
        "habit_action",
        "update",
        r"\b(?:make|set|turn)\b.{0,30}\b(?:shorter|longer|easier|harder|smaller|bigger|lighter)\b",
        3.2,
    ),
    # progress
    (
        "progress_analysis",
        None,
        r"\bhow (?:am|have) i (?:been )?(?:doing|going|progressing|tracking|getting on)\b",
        3.5,
    ),
    ("progress_analysis", None, r"\bhow'?s my\b|\bhow is my\b|\bhow are my\b", 2.5),
    ("progress_analysis", None, r"\bprogress\b", 2.5),
    ("progress_analysis", None, r"\b(?:am|are) (?:i|we) on track\b", 3.0),
    (
        "progress_analysis",
        None,
        r"\bcompletion rate\b|\bsuccess rate\b|\bhow consistent\b|\bhow often (?:did|have) i\b"
        r"|\bhow many (?:times|days|workouts|sessions)\b",
        3.0,
    ),
    (
        "progress_analysis",
        None,
        r"\b(?:review|analy[sz]e|check|assess|evaluate|summari[sz]e|recap)\b.{0,20}\b(?:habits?"
        r"|progress|week|month|performance|streaks?|consistency)\b",
        3.0,
    ),
    (
        "progress_analysis",
        None,
        r"\bwhat'?s my\b.{0,30}\bstreaks?\b|\bhow long is my\b.{0,20}\bstreak\b|\bhow did i do\b"
        r"|\bdid i do (?:better|worse|well|ok)\b|\bthan last (?:week|month|year)\b"
        r"|\bcompared (?:to|with) last\b",
        3.0,
    ),
    ("progress_analysis", None, r"\b(?:weekly|monthly) (?:summary|recap|review)\b", 2.5),
    (
        "progress_analysis",
        None,
        r"\b(?:show|give|tell)(?: me)? my (?:streaks?|progress|stats|habits|consistency)\b",
        3.0,
    ),
    # troubleshooting
    (
        "troubleshooting",
        None,
        r"\b(?:missed|skipped|forgot|failed|broke|slipped|blew)\b.{0,40}\bagain\b",
        3.0,
    ),
    (
        "troubleshooting",
        None,
        r"\bkeep (?:on )?(?:skipping|missing|forgetting|failing|breaking|snoozing|hitting snooze"
        r"|quitting|giving up|slipping|falling off|procrastinating|putting off|blowing)\b",
        3.5,
    ),
    (
        "troubleshooting",
        None,
        r"\b(?:can'?t|cannot|can not|couldn'?t|unable to)\b.{0,12}\b(?:seem to|stick|stay|keep"
        r"|get myself|make myself|manage|find (?:the )?time|make time|stop|wake up)\b",
        3.0,
    ),
    ("troubleshooting", None, r"\bstruggl\w*", 2.5),
    (
        "troubleshooting",
        None,
        r"\bstreak (?:broke|ended|reset|is gone|died)\b|\bbroke my streak\b|\blost my streak\b"
        r"|\bstreak\b.{0,10}\b(?:broke|broken|reset|gone)\b",
        3.5,
    ),
    ("troubleshooting", None, r"\bwhy do i (?:always|keep|never)\b|\bwhy can'?t i\b", 3.0),
    ("troubleshooting", None, r"\bfail(?:ed|ing|s)? (?:at|to)\b|\bfailing\b", 2.0),
    (
        "troubleshooting",
        None,
        r"\btoo (?:hard|difficult|much|ambitious|long)\b|\bno time\b|\bnot enough time\b"
        r"|\btoo busy\b"
        r"|\boverwhelm\w*",
        2.0,
    ),
    (
        "troubleshooting",
        None,
        r"\bfell off\b|\bfall(?:ing)? off\b|\boff track\b|\bback on track\b|\brelaps\w*"
        r"|\bslipp(?:ed|ing)\b|\bkeep forgetting\b|\bforgot\b",
        2.5,
    ),
    (
        "troubleshooting",
        None,
        r"\bnot working\b|\bisn'?t working\b|\bdoesn'?t work\b|\bhard to\b|\bdifficult to\b"
        r"|\bstuck\b|\bplateau\w*",
        1.5,
    ),
    (
        "troubleshooting",
        None,
        r"\bwhat (?:should|can) i do (?:when|if|about)\b|\bhow (?:do|can) i stop (?:skipping"
        r"|missing|forgetting|procrastinating)\b",
        2.5,
    ),
    # motivation (achievements are scored from the sentiment pass, see _intent)
    (
        "motivation",
        None,
        r"\bunmotivated\b|\bdemotivated\b|\bno motivation\b|\bnot motivated\b"
        r"|\black(?:ing)? (?:of )?"
        r"motivation\b|\bmotivat(?:e|ion) me\b|\bneed (?:some )?motivation\b|\bpep talk\b"
        r"|\bencourag\w*|\binspir\w*|\bfeel(?:ing)? like giving up\b|\bwant to give up\b"
        r"|\bgive up\b(?! (?:smok|drink|alcohol|sugar|caffeine|soda|vap|social|coffee))|\blazy\b"
        r"|\bdiscouraged\b|\bburn(?:ed|t)[ -]?out\b|\blosing steam\b|\bwhat'?s the point\b"
        r"|\bhopeless\b|\bcheer me\b|\bkeep me going\b|\bmotivation\b|\bproud\b",
        3.0,
    ),
    ("motivation", None, r"\bfinally\b|\bi'?m so happy\b|\bexcited\b", 1.0),
    ("motivation", None, r"\bdisappointed in myself\b|\bdisappointed\b|\bashamed\b", 2.5),
    # schedule adjustment
    (
        "schedule_adjustment",
        None,
        r"\b(?:move|reschedule|shift|switch|change|swap|push|set|put)\b.{0,40}\b(?:to|into|for)\b"
        r"(?: the)? (?:mornings?|evenings?|afternoons?|nights?|night ?time|weekends?|weekdays?"
        r"|" + _WEEKDAY_RE + r"|\d{1,2}(?::\d{2})? ?(?:am|pm)|\d{1,2}:\d{2}|earlier|later|lunch"
        r"|lunchtime"
        r"|bedtime|before|after)\b",
        3.5,
    ),
    (
        "schedule_adjustment",
        None,
        r"\breschedul\w*|\bdifferent (?:time|day)s?\b|\banother (?:time|day)\b|\bearlier in the day"
        r"\b|\blater in the day\b|\bmove (?:it|them)\b",
        3.0,
    ),
    (
        "schedule_adjustment",
        None,
        r"\b(?:best|optimal|ideal|right|good|better) time\b|\bwhen should i\b|\bwhat time should\b"
        r"|\bwhat time (?:is best|works best)\b|\bwhen is the best\b|\bbest days?\b",
        3.5,
    ),
    ("schedule_adjustment", None, r"\btoo early\b|\btoo late\b", 2.0),
    (
        "schedule_adjustment",
        None,
        r"\b(?:i'?d rather|i would rather|i prefer to|i'?d prefer to|can i|could i|let me)"
        r" (?:do|have|move|switch|practice|practise)\b.{0,40}\b(?:mornings?|evenings?|afternoons?"
        r"|nights?|weekends?|weekdays?|lunch(?:time)?|"
        + _WEEKDAY_RE
        + r"|\d{1,2}(?::\d{2})? ?(?:am|pm))\b",
        3.2,
    ),
    (
        "schedule_adjustment",
        None,
        r"\b(?:change|adjust|update|rearrange|modify)\b.{0,20}\b(?:schedule|time|days|timing"
        r"|reminder time)\b",
        3.2,
    ),
    # integration
    (
        "integration",
        None,
        r"\b(?:fitbit|apple health|healthkit|google fit|garmin|strava|oura|whoop|apple watch"
        r"|smart ?watch|my watch|fitness tracker|my tracker|myfitnesspal|samsung health"
        r"|health connect|withings|peloton|google calendar|outlook calendar|my calendar|ynab"
        r"|plaid|my bank|my phone'?s? (?:step|health)|health app|step counter|pedometer)\b",
        2.5,
    ),
    (
        "integration",
        None,
        r"\b(?:connect|sync|link|integrat\w*|import|pull (?:in )?(?:my )?data|disconnect|unlink"
        r"|hook up)\b",
        1.5,
    ),
    ("integration", None, r"\baccording to my (?:watch|tracker|phone|fitbit|app|garmin)\b", 3.5),
    ("integration", None, r"\b(?:heart rate|hrv|resting hr|step count|sleep data|vo2)\b", 1.5),
    # insights
    ("insights", None, r"\binsights?\b", 3.5),
    (
        "insights",
        None,
        r"\b(?:patterns?|trends?|charts?|graphs?|plot|visuali[sz]\w*|heat ?map|dashboard|report"
        r"|stats|statistics|analytics|correlat\w*|breakdown)\b",
        3.5,
    ),
    (
        "insights",
        None,
        r"\bwill i (?:actually |really |ever |be able to )?(?:stick|keep|manage|make it|succeed"
        r"|reach|hit|achieve|last|follow through|do it)\b|\bchances?\b|\blikel(?:y|ihood)\b"
        r"|\bpredict\w*|\bprobability\b|\bodds\b|\bforecast\b|\bis (?:it|this|that) realistic\b"
        r"|\bcan i realistically\b|\bam i likely\b",
        3.5,
    ),
    (
        "insights",
        None,
        r"\b(?:which|what)(?:'?s| is| are)? (?:my )?(?:best|worst|strongest|weakest|most|least)"
        r" (?:habit|day|time|consistent|performing)",
        2.8,
    ),
    (
        "insights",
        None,
        r"\bhabit (?:stacking|loop|formation|science)\b|\b2[- ]minute rule\b|\bhow long (?:does it"
        r" take|to form|to build|until)\b|\bimplementation intentions?\b|\batomic habits\b"
        r"|\bcue.{0,20}reward\b|\bscience (?:says|behind)\b|\bresearch (?:says|on)\b",
        3.0,
    ),
)
_COMPILED_INTENT_CUES = tuple((i, a, re.compile(p), w) for i, a, p, w in _INTENT_CUES)
_PRIORITY: tuple[Intent, ...] = (
    "habit_action",
    "schedule_adjustment",
    "troubleshooting",
    "integration",
    "insights",
    "progress_analysis",
    "motivation",
    "goal_setting",
)


def _intent(
    text: str,
    *,
    domain: Domain | None,
    has_target: bool,
    known_habit_hit: bool,
    schedule: ScheduleHint | None,
    sentiment: Sentiment,
    achievement: bool,
) -> tuple[Intent, float, HabitAction | None]:
    scores: dict[Intent, float] = {}
    action_scores: dict[HabitAction, float] = {}
    for intent, cue_action, pattern, weight in _COMPILED_INTENT_CUES:
        if pattern.search(text):
            scores[intent] = max(scores.get(intent, 0.0), weight) + 0.1 * min(
                scores.get(intent, 0.0), weight
            )
            if cue_action is not None:
                action_scores[cue_action] = max(action_scores.get(cue_action, 0.0), weight)

    aspiring = scores.get("goal_setting", 0.0) >= 2.0
    if domain is not None and aspiring:
        scores["goal_setting"] = scores.get("goal_setting", 0.0) + (1.5 if has_target else 0.5)
    if action_scores.get("log", 0.0) >= 2.5 and re.search(
        r"\b(?:today|yesterday|this morning|tonight|this evening|just now)\b", text
    ):
        scores["habit_action"] = scores.get("habit_action", 0.0) + 1.0
    if action_scores.get("remind") and _RECURRENCE.search(text):
        scores["habit_action"] = scores.get("habit_action", 0.0) + 1.0
    if (
        re.search(r"\binstead\b", text)
        and schedule is not None
        and (schedule.days or schedule.time_of_day)
    ):
        scores["schedule_adjustment"] = max(scores.get("schedule_adjustment", 0.0), 3.0)
    if (
        _RECURRENCE.search(text)
        and re.search(r"\b(?:every|each|daily|weekly|nightly|on " + _WEEKDAY_RE + r")\b", text)
        and max(scores.values(), default=0.0) < 2.5
    ):
        scores["habit_action"] = max(scores.get("habit_action", 0.0), 2.4)
        action_scores.setdefault("create", 2.4)
    if achievement:
        bonus = 0.5 if sentiment.label == "positive" else 0.0
        scores["motivation"] = max(scores.get("motivation", 0.0), 3.0) + bonus
    if sentiment.frustration and scores.get("troubleshooting"):
        scores["troubleshooting"] += 0.5

    if not scores or max(scores.values()) < 1.5:
        # No cue fired: a question is a request for knowledge (answered from the habit-science
        # corpus), a bare goal domain is a goal, and small talk gets a supportive reply.
        if sentiment.label == "negative":
            return "motivation", 0.4, None
        if _QUESTION_START.search(text) and not _FIRST_PERSON.search(text):
            return "insights", 0.4, None
        if domain is not None:
            return "goal_setting", 0.45, None
        if known_habit_hit:
            return "progress_analysis", 0.4, None
        if _QUESTION_START.search(text):
            return "insights", 0.35, None
        return "motivation", 0.3, None

    best = max(scores, key=lambda i: (scores[i], -_PRIORITY.index(i) if i in _PRIORITY else -99))
    ranked = sorted(scores.values(), reverse=True)
    margin = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    confidence = round(min(0.97, 0.45 + 0.08 * ranked[0] + 0.06 * margin), 2)
    if best != "habit_action":
        return best, confidence, None
    if not action_scores:
        return best, confidence, "create"
    chosen: HabitAction = max(action_scores, key=action_scores.__getitem__)
    return best, confidence, chosen


# --------------------------------------------------------------------------------------------
# Tool arguments: tags, integrations, the trouble with a habit, the kind of insight
# --------------------------------------------------------------------------------------------

_INTEGRATIONS: tuple[tuple[str, str], ...] = (
    (r"\bapple health\b|\bhealthkit\b|\bhealth app\b", "apple_health"),
    (r"\bapple watch\b", "apple_watch"),
    (r"\bgoogle fit\b|\bhealth connect\b", "google_fit"),
    (r"\bsamsung health\b", "samsung_health"),
    (r"\bfitbit\b", "fitbit"),
    (r"\bgarmin\b", "garmin"),
    (r"\bstrava\b", "strava"),
    (r"\boura\b", "oura"),
    (r"\bwhoop\b", "whoop"),
    (r"\bwithings\b", "withings"),
    (r"\bpeloton\b", "peloton"),
    (r"\bmyfitnesspal\b", "myfitnesspal"),
    (r"\bgoogle calendar\b", "google_calendar"),
    (r"\boutlook\b", "outlook_calendar"),
    (r"\bmy calendar\b", "calendar"),
    (r"\bynab\b|\bplaid\b|\bmy bank\b", "bank"),
    (r"\bsmart ?watch\b|\bmy watch\b|\bfitness tracker\b|\bmy tracker\b|\bpedometer\b", "watch"),
    (r"\bmy phone\b|\bstep counter\b", "phone"),
)


def _integration(text: str) -> str | None:
    """The connected app or device a message names, as a canonical id."""
    for pattern, name in _INTEGRATIONS:
        if re.search(pattern, text):
            return name
    return None


_TAG_PATTERNS: tuple[str, ...] = (
    r"\badd (?:the |a |an )?(?P<tags>[\w-]+(?: and [\w-]+)?) (?:tags?|labels?)\b",
    r"\b(?:tag|label|categori[sz]e)\b.{0,60}?\b(?:as|with|under) (?:the |a |an )?"
    r"(?P<tags>[\w-]+(?:(?:, | and )[\w-]+)*)(?: tags?| labels?)?\s*$",
    r"\b(?:tags?|labels?) (?P<tags>[\w-]+(?:(?:, | and )[\w-]+)*) (?:to|on) (?:my|the)\b",
    r"\bwith (?:the |a |an )?(?P<tags>[\w-]+(?: and [\w-]+)?) (?:tags?|labels?)\b",
)


def _tags(text: str) -> tuple[str, ...]:
    """Tag names in a tagging request ("add the wellness tag", "tag them as fitness")."""
    stripped = text.rstrip(" .!?")
    for pattern in _TAG_PATTERNS:
        found = re.search(pattern, stripped)
        if found:
            names = re.split(r", | and ", found.group("tags"))
            return tuple(n for n in names if n not in ("a", "the", "some", "my"))
    return ()


_ISSUES: tuple[tuple[str, HabitIssue], ...] = (
    (r"\bforg[eo]t\w*|\bslip(?:s|ped)? my mind\b|\bremember\b|\bsnooz\w*", "forgot"),
    (
        r"\bno time\b|\bnot enough time\b|\btoo busy\b|\bbusy\b|\bhectic\b|\bno energy\b"
        r"|\btired\b|\bexhausted\b",
        "no_time",
    ),
    (
        r"\btoo (?:hard|difficult|much|long|ambitious|intense)\b|\bcan'?t keep up\b"
        r"|\boverwhelm\w*|\bimpossible\b|\bhurts?\b|\bsore\b",
        "too_hard",
    ),
    (
        r"motivat\w*|\bbored\b|\bboring\b|\bdon'?t feel like\b|\blazy\b|\bgiv(?:e|ing) up\b"
        r"|\bpointless\b|\bwhat'?s the point\b|\bskipp\w*|\bmiss\w*|\bfail\w*|\bbroke\b"
        r"|\bnot working\b",
        "unmotivated",
    ),
)


def _issue(text: str) -> HabitIssue | None:
    """What goes wrong with a habit, in the terms of ``suggest_habit_modification``."""
    for pattern, issue in _ISSUES:
        if re.search(pattern, text):
            return issue
    return None


def _insight_kind(text: str) -> InsightKind:
    """Which kind of insight is asked for: a chart, a prediction, habit science or a summary."""
    if re.search(
        r"\b(?:charts?|graphs?|plot|visuali[sz]\w*|heat ?map|dashboard|show me (?:a|my)\b.{0,20}"
        r"(?:over time|trend))",
        text,
    ):
        return "visualization"
    if re.search(
        r"\bwill i\b|\bchances?\b|\blikel(?:y|ihood)\b|\bpredict\w*|\bprobability\b|\bodds\b"
        r"|\bforecast\b|\brealistic\b|\bi'?ll\b",
        text,
    ):
        return "prediction"
    if not _FIRST_PERSON.search(text) or re.search(
        r"\bhabit (?:stacking|loop|formation|science)\b|\b2[- ]minute rule\b|\bhow long (?:does it"
        r" take|to form|to build|until)\b|\bscience\b|\bresearch\b|\btips?\b",
        text,
    ):
        return "knowledge"
    return "summary"


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def understand(message: str, today: date, known_habits: Sequence[str] = ()) -> Understanding:
    """Understand one user message.

    Args:
        message: The user's text, as typed.
        today: The user's local calendar date; relative time frames resolve against it.
        known_habits: Titles of the user's existing habits, so "my reading habit" can be matched.

    Returns:
        The intent with a confidence, the extracted entities, the sentiment, and whether the
        request is out of scope (to be refused politely).
    """
    text = _normalize(message)
    minutes, minutes_span = _minutes_available(text)
    metric = _metric(text, minutes_span)
    domain, subdomain, subject = _detect_domain(text, metric)
    deadline = _timeframe(text, today)
    timeframe_days = (deadline - today).days if deadline is not None else None
    habits = _mentioned_habits(text, known_habits)
    known_hit = bool(match_habits(text, known_habits))
    schedule = _schedule(text)
    sentiment, achievement = _sentiment(text, message)
    sub_habits = _sub_habits(text)

    reason = _out_of_scope(text, domain, known_hit)
    if reason is not None:
        intent: Intent = "out_of_scope"
        confidence = 0.85
        action: HabitAction | None = None
    else:
        intent, confidence, action = _intent(
            text,
            domain=domain,
            has_target=deadline is not None or metric is not None,
            known_habit_hit=known_hit,
            schedule=schedule,
            sentiment=sentiment,
            achievement=achievement,
        )
    if reason is not None:
        # Entities of a refused message describe no goal; storing them would only mislead memory.
        domain = subdomain = subject = None
        metric = None
    if intent in ("progress_analysis", "integration"):
        # "this month" in a progress question looks back; it is not a goal's time frame.
        deadline, timeframe_days = None, None
    new_title = None
    if intent == "habit_action" and action in ("create", "remind"):
        new_title = _new_habit_title(text, routine=bool(re.search(r"\broutine\b", text)))
    return Understanding(
        message=message,
        intent=intent,
        confidence=confidence,
        action=action,
        domain=domain,
        subdomain=subdomain,
        subject=subject,
        timeframe_days=timeframe_days,
        deadline=deadline,
        lookback_days=_lookback(text)
        if intent in ("progress_analysis", "insights", "integration", "troubleshooting")
        else None,
        metric=metric,
        chronotype=_chronotype(text),
        minutes_available=minutes,
        constraints=_constraints(text),
        habit_names=habits,
        new_habit_title=new_title,
        sub_habits=sub_habits,
        schedule=schedule,
        sentiment=sentiment,
        achievement=achievement,
        refuse=reason is not None,
        refusal_reason=reason,
        tags=_tags(text) if action in ("assign_tags", "create") else (),
        integration=_integration(text),
        issue=_issue(text) if intent in ("troubleshooting", "motivation") else None,
        insight_kind=_insight_kind(text) if intent == "insights" else None,
    )


def _one_time_offer(text: str) -> str:
    if re.search(r"\b(?:buy|groceries|grocery|milk|shopping|store|supermarket)\b", text):
        return (
            "If errands like this keep slipping, I can set up a weekly habit of writing your "
            "shopping list, say every Sunday evening."
        )
    if re.search(r"\b(?:pick up|drop off|dry cleaning|return|mail|post office|package)\b", text):
        return (
            "If errands tend to pile up, I can create a short weekly errands review habit so "
            "nothing gets forgotten."
        )
    if re.search(r"\b(?:call|phone|text|email)\b", text):
        return (
            "If staying in touch matters to you, I can turn it into a recurring habit, like a "
            "weekly call."
        )
    if re.search(r"\b(?:pay|bill|taxes|rent)\b", text):
        return (
            "I can help you build a weekly money check-in habit so bills and payments never "
            "sneak up on you."
        )
    return (
        "If you'd like, I can help you build a 5-minute daily planning habit so one-off tasks "
        "like this get captured and done."
    )


def refusal_message(understanding: Understanding) -> str:
    """A polite refusal for an out-of-scope request, with an offer that is in scope.

    Args:
        understanding: The result of :func:`understand` for the message being refused.

    Returns:
        Two or three sentences: what the assistant can't do, and what it can do instead.
    """
    text = _normalize(understanding.message)
    reason = understanding.refusal_reason
    if reason == "one_time_task":
        return (
            "I can't handle one-off tasks or reminders like that one; I'm built to help with "
            "habits that repeat. " + _one_time_offer(text)
        )
    if reason == "homework":
        return (
            "I can't do homework for you. I can help you get it done more easily, though: want "
            "me to set up a daily study habit, like a focused 25-minute session right after "
            "school or work?"
        )
    if reason == "coding":
        return (
            "Coding help is outside what I do; I focus on your habits and goals. If you want to "
            "get better at programming, I can build you a daily practice habit that grows from "
            "10 minutes a day."
        )
    if reason == "creative":
        return (
            "Writing that for you isn't something I do; I'm your habit coach. If you'd like to "
            "write more yourself, I can set up a small daily writing habit to get you started."
        )
    if reason == "medical":
        return (
            "I can't give medical advice; please talk to a doctor or pharmacist about that. "
            "What I can do is help you build supportive habits around the plan they give you, "
            "like taking medication at the same time each day."
        )
    return (
        "That's outside what I can help with; I focus on your habits, goals and progress. If "
        "you enjoy learning new things, I can help you build a daily learning habit, like "
        "reading for 10 minutes a day."
    )
