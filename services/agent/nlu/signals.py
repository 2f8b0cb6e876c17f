"""Signals about the user: sentiment, frustration, achievement and chronotype cues."""

from __future__ import annotations

import math
import re

from services.agent.nlu.habits import BODY_PARTS
from services.agent.nlu.schema import Chronotype, Sentiment, SentimentLabel

_EVENING_CUES = re.compile(
    r"\bnight owl\b|\bevening person\b|\bnight person\b|\bnot (?:a|much of a|really a) morning "
    r"person\b|\bhate (?:the )?mornings\b|\blate riser\b|\bstay up late\b|\bnight shifts?\b"
    r"|\bafter work\b|\bafter the kids (?:are|go) (?:in |to )?bed\b|\bin the evenings?\b"
    r"|\bat night\b|\bto the evenings?\b"
    r"|\bevenings? (?:are|is|work) (?:best|better)\b|\blate sleeper\b"
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


def find_chronotype(text: str) -> Chronotype | None:
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


# (pattern, weight, signals frustration, negation flips it)
_SENTIMENT_LEXICON: tuple[tuple[str, float, bool, bool], ...] = (
    (r"\bfrustrat\w*", -2.5, True, False),
    (r"\bannoy\w*", -2.0, True, False),
    (r"\birritat\w*", -2.0, True, False),
    (r"\bugh+\b|\bargh+\b|\bgrr+\b|\bomg\b(?=.*\b(?:again|keep|always)\b)", -1.5, True, False),
    (r"\bfed up\b", -2.5, True, False),
    (r"\bso done with\b|\bdone with (?:this|it all)\b|\bwhat'?s the point\b", -2.0, True, False),
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
    (r"\bbad\b(?! (?:" + BODY_PARTS + r"))", -1.0, False, True),
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


def analyse_sentiment(text: str, raw: str) -> tuple[Sentiment, bool]:
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
