"""Goal domain detection: which life area a message is about, its subdomain and subject."""

from __future__ import annotations

import re

from services.agent.nlu.schema import Domain, Metric
from services.agent.nlu.text import split_words

# Domain
# --------------------------------------------------------------------------------------------

_LANGUAGES: tuple[str, ...] = split_words(
    "spanish french german italian portuguese japanese mandarin chinese cantonese korean "
    "arabic russian hindi dutch swedish norwegian danish greek turkish polish hebrew "
    "vietnamese thai indonesian latin english esperanto swahili tagalog ukrainian czech "
    "finnish hungarian irish welsh persian farsi bengali urdu punjabi tamil sign_language "
    "asl"
)
_INSTRUMENTS: tuple[str, ...] = split_words(
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
QUIT_OBJECT = (
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
        r"|\bbreakfast\b|\blunch\b|\bdinner\b|\bprocessed food\b|\bsalads?\b|\bmeals?\b"
        r"|\b(?:sugar|salt|sodium|fat|fiber|fibre|carb|caffeine) intake\b"
        r"|\bgrams? of (?:sugar|fat)\b",
        2,
    ),
    (
        "quitting",
        r"\b(?:quit\w*|stop\w*|give up|giving up|kick\w*|break\w*|cut(?:ting)? (?:out|back on|down"
        r" on)|reduce|less|limit\w*|cut down|without|sober)\b(?: \w+){0,2} " + QUIT_OBJECT,
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


def detect_domain(text: str, metric: Metric | None) -> tuple[Domain | None, str | None, str | None]:
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
