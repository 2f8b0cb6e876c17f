"""Tool arguments: tags, integrations, the trouble with a habit, the kind of insight."""

from __future__ import annotations

import re

from services.agent.nlu.schema import HabitIssue, InsightKind
from services.agent.nlu.text import FIRST_PERSON

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


def find_integration(text: str) -> str | None:
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
    r"\b(?:with|under|into) (?:the |a |an )?(?P<tags>[\w-]+(?: and [\w-]+)?) (?:tags?|labels?)\b",
)


def find_tags(text: str) -> tuple[str, ...]:
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
        r"|\btired\b|\bexhausted\b|\bcan'?t fit\b|\bcrazy\b|\bswamped\b|\bslammed\b",
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


def find_issue(text: str) -> HabitIssue | None:
    """What goes wrong with a habit, in the terms of ``suggest_habit_modification``."""
    for pattern, issue in _ISSUES:
        if re.search(pattern, text):
            return issue
    return None


def find_insight_kind(text: str) -> InsightKind:
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
    if not FIRST_PERSON.search(text) or re.search(
        r"\bhabit (?:stacking|loop|formation|science)\b|\b2[- ]minute rule\b|\bhow long (?:does it"
        r" take|to form|to build|until)\b|\bscience\b|\bresearch\b|\btips?\b",
        text,
    ):
        return "knowledge"
    return "summary"


# --------------------------------------------------------------------------------------------
