"""Write ``data/generated.jsonl``: template utterances that widen the hand-written data.

The hand-written file (``data/handwritten.jsonl``) carries the varied, natural sentences; these
templates add breadth (many activities, times and languages per phrasing) so the heads see each
intent with many subjects. Run ``python -m services.agent.nlu.generate`` after editing a
template, then retrain. Deterministic: a fixed seed picks the combinations.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

DATA = Path(__file__).parent / "data"
_ACTS = (
    "meditation",
    "running",
    "reading",
    "yoga",
    "journaling",
    "stretching",
    "walking",
    "flossing",
    "guitar practice",
    "piano",
    "spanish practice",
    "push-ups",
    "cold showers",
    "gym",
    "drinking water",
    "studying",
    "swimming",
    "cycling",
    "budgeting",
    "sleeping early",
)
_GOALS = (
    "run a 5k",
    "lose 10 pounds",
    "learn german",
    "save 5000 dollars",
    "read 30 books",
    "sleep 8 hours a night",
    "meditate daily",
    "quit sugar",
    "do 20 pull-ups",
    "learn to draw",
    "cut my screen time",
    "get out of debt",
    "drink less alcohol",
    "write a book",
    "climb a mountain",
    "get fit",
    "learn the violin",
    "stop smoking",
)
_WHEN = ("in 3 months", "by june", "this year", "by next spring", "in six weeks", "", "", "")
_TIMES = ("7am", "9pm", "6:30", "noon", "8 in the evening", "after lunch", "before bed")
_LOOK = ("this week", "this month", "lately", "over the last 30 days", "since january", "")

# (intent, action or reason, signals, templates); {a} activity, {g} goal, {w} when, {t} time,
# {l} look-back.
_TEMPLATES: tuple[tuple[str, str | None, str, tuple[str, ...]], ...] = (
    (
        "goal_setting",
        None,
        "",
        (
            "I want to {g} {w}",
            "help me {g} {w}",
            "my goal is to {g} {w}",
            "can you make a plan to {g}",
            "i'd like to {g} {w}",
            "build me a habit sequence to {g} {w}",
            "how do I {g} {w}?",
            "quiero {g_es}",
            "ich möchte {g_de}",
            "je veux {g_fr}",
        ),
    ),
    (
        "habit_action",
        "create",
        "",
        (
            "create a habit for {a}",
            "add {a} as a new habit",
            "start tracking {a}",
            "make a daily {a} habit",
            "new habit: {a} every day",
            "set up {a} three times a week",
            "crea un hábito de {a}",
            "neue Gewohnheit: {a}",
            "crée une habitude : {a}",
        ),
    ),
    (
        "habit_action",
        "log",
        "",
        (
            "log my {a}",
            "I did my {a} today",
            "mark {a} as done",
            "finished {a} this morning",
            "check off {a} for today",
            "done with {a}",
            "record {a} for yesterday",
        ),
    ),
    (
        "habit_action",
        "remind",
        "",
        (
            "remind me to do {a} at {t}",
            "set a reminder for {a} at {t}",
            "move my {a} reminder to {t}",
            "stop reminding me about {a}",
            "change my {a} reminder to {t}",
            "turn off reminders for {a}",
            "ping me about {a} every day at {t}",
            "recuérdame {a} a las {t}",
            "erinnere mich an {a} um {t}",
            "rappelle-moi {a} à {t}",
        ),
    ),
    (
        "habit_action",
        "add_sub_habits",
        "",
        (
            "add {a} and {b} as steps of my morning routine",
            "put {a} into my evening routine",
            "include {a} in my {b} habit",
            "add {a} as a sub-habit of {b}",
        ),
    ),
    (
        "habit_action",
        "assign_tags",
        "",
        (
            "tag my {a} habit as health",
            "file {a} under the wellness tag",
            "label {a} as hobby",
            "put the fitness tag on {a}",
            "add the mindfulness tag to {a}",
        ),
    ),
    (
        "progress_analysis",
        None,
        "",
        (
            "how is my {a} going {l}?",
            "how am I doing with {a} {l}",
            "what's my {a} streak?",
            "am I consistent with {a} {l}?",
            "show me my progress on {a} {l}",
            "how many days of {a} did I do {l}?",
            "¿cómo voy con {a}?",
            "wie läuft {a}?",
            "où en suis-je avec {a} ?",
        ),
    ),
    (
        "troubleshooting",
        None,
        "negative",
        (
            "I keep forgetting {a}",
            "I can't find time for {a} anymore",
            "{a} is too hard for me",
            "I keep skipping {a}",
            "I'm struggling with {a}",
            "I'm too busy for {a} lately",
            "{a} isn't working for me",
            "work is crazy and {a} keeps slipping",
            "no tengo tiempo para {a}",
            "ich schaffe {a} einfach nicht",
            "j'oublie toujours {a}",
        ),
    ),
    (
        "motivation",
        None,
        "positive",
        (
            "I crushed my {a} this week!",
            "{n} days of {a} in a row!",
            "so proud, I never missed {a}",
            "best week of {a} ever",
            "I finally did {a} every day this month!",
        ),
    ),
    (
        "motivation",
        None,
        "negative",
        (
            "I don't feel like doing {a} today",
            "I've lost all motivation for {a}",
            "why bother with {a}, I'll never stick to it",
            "I feel like quitting {a}",
        ),
    ),
    (
        "schedule_adjustment",
        None,
        "",
        (
            "move my {a} to {t}",
            "when is the best time for {a}?",
            "shift {a} to the evenings",
            "can I do {a} in the morning instead?",
            "reschedule {a} to weekends",
            "find a better time for {a}",
            "what time should I do {a}?",
        ),
    ),
    (
        "integration",
        None,
        "",
        (
            "how did I sleep {l}?",
            "connect my {d}",
            "sync {a} from my {d}",
            "what does my {d} say about {l}?",
            "import my data from {d}",
            "how many steps did I take {l} according to my {d}",
        ),
    ),
    (
        "insights",
        None,
        "",
        (
            "show me a chart of my {a}",
            "graph my {a} {l}",
            "plot {a} per week",
            "can I see a heatmap of {a}?",
            "will I stick with {a}?",
            "what's the science of {a}?",
            "any tips to make {a} stick?",
            "visualize my {a} progress",
        ),
    ),
)
_DEVICES = ("fitbit", "garmin", "apple watch", "oura ring", "health app", "strava", "google fit")
_GOALS_INTL = {
    "es": ("correr un maratón en 6 meses", "aprender francés", "ahorrar dinero", "dormir más"),
    "de": ("einen Marathon laufen", "Französisch lernen", "Geld sparen", "mehr schlafen"),
    "fr": ("courir un marathon", "apprendre l'espagnol", "économiser de l'argent", "mieux dormir"),
}


def generate(seed: int = 12, per_template: int = 14) -> list[dict[str, object]]:
    """The generated rows: each template filled ``per_template`` times, duplicates dropped."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for intent, extra, sentiment, templates in _TEMPLATES:
        for template in templates:
            for _ in range(per_template):
                a, b = rng.sample(_ACTS, 2)
                text = template.format(
                    a=a,
                    b=b,
                    g=rng.choice(_GOALS),
                    w=rng.choice(_WHEN),
                    t=rng.choice(_TIMES),
                    l=rng.choice(_LOOK),
                    d=rng.choice(_DEVICES),
                    n=rng.choice((10, 21, 30, 50)),
                    g_es=rng.choice(_GOALS_INTL["es"]),
                    g_de=rng.choice(_GOALS_INTL["de"]),
                    g_fr=rng.choice(_GOALS_INTL["fr"]),
                )
                text = " ".join(text.split()).replace(" ?", "?")
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                row: dict[str, object] = {"text": text, "intent": intent}
                if intent == "habit_action":
                    row["action"] = extra
                row["sentiment"] = sentiment or "neutral"
                row["frustration"] = False
                row["chronotype"] = None
                row["achievement"] = intent == "motivation" and sentiment == "positive"
                rows.append(row)
    return rows


def main() -> None:
    rows = generate()
    with (DATA / "generated.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows")


if __name__ == "__main__":
    main()
