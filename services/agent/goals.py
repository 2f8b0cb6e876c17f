"""Goal analysis: from a goal statement to a structured, measurable goal.

This is the spec's "goal decomposition engine": objective, target metrics, deadline, a 0–1
difficulty, category, sub-goals, dependencies, predicted obstacles and success indicators. It
builds on :mod:`services.agent.understanding` for the entities and adds domain knowledge: how long
a goal of each kind comfortably takes (a 5K in about nine weeks from scratch, a pound of fat a
week, a book every two weeks), which sets both the default time frame when the user gives none and
the difficulty when they do.

Pure: "today" is an argument and nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.agent.understanding import (
    Chronotype,
    Domain,
    Metric,
    Understanding,
    understand,
)

Direction = Literal["decrease", "increase", "reach", "maintain"]
DifficultyLabel = Literal["easy", "moderate", "challenging"]

MIN_TIMEFRAME_DAYS = 7
MAX_TIMEFRAME_DAYS = 3650

_FROZEN = ConfigDict(frozen=True)


class TargetMetric(BaseModel):
    """One measurable outcome of a goal, e.g. 20 lb down, or 0.8 lb a week."""

    model_config = _FROZEN

    name: str
    value: int | float
    unit: str
    direction: Direction
    per: str | None = None


class GoalAnalysis(BaseModel):
    """A goal broken down into what the habit-sequence generator needs."""

    model_config = _FROZEN

    goal_text: str
    objective: str
    primary_focus: str
    domain: Domain | None
    category: str
    subject: str | None
    target_metrics: tuple[TargetMetric, ...]
    start_date: date
    deadline: date
    timeframe_days: int
    timeframe_stated: bool
    difficulty: float
    difficulty_label: DifficultyLabel
    sub_goals: tuple[str, ...]
    dependencies: tuple[str, ...]
    obstacles: tuple[str, ...]
    success_indicators: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    chronotype: Chronotype | None = None
    minutes_available: int | None = None


@dataclass(frozen=True)
class _Profile:
    """Domain knowledge about one category of goal."""

    focus: str
    default_days: int
    reference_days: int
    sub_goals: tuple[str, ...]
    dependencies: tuple[str, ...]
    obstacles: tuple[str, ...]
    indicators: tuple[str, ...]


_PROFILES: dict[str, _Profile] = {
    "running": _Profile(
        focus="{Subject} training",
        default_days=84,
        reference_days=56,
        sub_goals=(
            "Build an aerobic base with walk/run intervals",
            "Increase weekly distance gradually (about 10% a week)",
            "Strengthen legs and core to prevent injury",
            "Practise race pace and a long weekly run",
        ),
        dependencies=(
            "Comfortable running shoes",
            "A baseline: how long you can run or walk briskly today",
            "A doctor's OK if you have heart, joint or breathing conditions",
        ),
        obstacles=(
            "Shin splints or knee pain from adding distance too fast",
            "Bad weather and dark mornings or evenings",
            "Skipped runs after a busy day breaking the rhythm",
        ),
        indicators=(
            "Three runs a week completed for three weeks in a row",
            "Long run growing week by week towards the target distance",
            "Easy runs feel conversational at the same pace",
        ),
    ),
    "strength": _Profile(
        focus="Strength building",
        default_days=84,
        reference_days=84,
        sub_goals=(
            "Learn good form on the basic movements",
            "Train the whole body two to three times a week",
            "Progressively add reps, sets or load",
            "Eat enough protein and sleep enough to recover",
        ),
        dependencies=(
            "A place to train: home space or a gym",
            "A simple log of exercises, sets and reps",
        ),
        obstacles=(
            "Sore muscles in the first weeks discouraging the next session",
            "Plateaus when the load stops increasing",
            "Skipping sessions when the day gets busy",
        ),
        indicators=(
            "Workouts logged on the planned days for three weeks running",
            "Reps or load up on the key lifts every two weeks",
        ),
    ),
    "weight_loss": _Profile(
        focus="Weight loss",
        default_days=84,
        reference_days=56,
        sub_goals=(
            "A moderate calorie deficit through meal tracking",
            "A regular exercise routine: cardio plus strength training",
            "Sleep optimisation: seven to eight hours a night",
            "Meal planning so healthy choices are the easy ones",
        ),
        dependencies=(
            "A bathroom scale and a baseline weight",
            "A way to log meals (an app or a notebook)",
        ),
        obstacles=(
            "Plateaus after the first few weeks",
            "Weekends, social meals and eating out",
            "Day-to-day weight swings that feel like failure",
        ),
        indicators=(
            "Weekly average weight trending down",
            "Meals logged on at least 6 days a week",
            "Cardio and strength sessions done as planned",
        ),
    ),
    "general_fitness": _Profile(
        focus="Fitness",
        default_days=84,
        reference_days=56,
        sub_goals=(
            "Move every day, starting with short walks",
            "Three workouts a week mixing cardio and strength",
            "Mobility and stretching to stay injury-free",
        ),
        dependencies=("Comfortable clothes and shoes", "A time slot protected in your week"),
        obstacles=(
            "Low energy after work",
            "All-or-nothing thinking after a missed day",
            "Boredom with the same routine",
        ),
        indicators=(
            "Workouts completed on the planned days for three weeks running",
            "Daily movement habit kept on at least 6 days a week",
        ),
    ),
    "language": _Profile(
        focus="{Subject} language acquisition",
        default_days=182,
        reference_days=182,
        sub_goals=(
            "Vocabulary: about 1,500 of the most common words",
            "Grammar basics: present, past and future tenses",
            "Listening practice with podcasts and video",
            "Speaking practice with a tutor or conversation partner",
        ),
        dependencies=(
            "A course or app for structured lessons",
            "A conversation partner or tutor for speaking practice",
        ),
        obstacles=(
            "Plateau after the beginner stage",
            "Fear of speaking and making mistakes",
            "Missing days when lessons feel like homework",
        ),
        indicators=(
            "Daily lesson streak kept on at least 6 days a week",
            "Weekly conversation session held",
            "Following a slow podcast without subtitles",
        ),
    ),
    "reading": _Profile(
        focus="Reading habit",
        default_days=84,
        reference_days=84,
        sub_goals=(
            "A daily reading slot that never moves",
            "A reading list so the next book is always ready",
            "Gradually longer sessions",
        ),
        dependencies=("Books on hand (library, e-reader or audiobooks)",),
        obstacles=(
            "Phone scrolling crowding out reading time",
            "Stalling on a book you don't enjoy",
            "Falling asleep when reading late",
        ),
        indicators=(
            "Pages read logged daily",
            "Books finished on pace for the target",
        ),
    ),
    "instrument": _Profile(
        focus="Learning {subject}",
        default_days=84,
        reference_days=120,
        sub_goals=(
            "Basic technique: posture, scales and first chords or notes",
            "Daily deliberate practice",
            "Learn complete songs or pieces",
        ),
        dependencies=(
            "Access to the instrument, tuned and within reach",
            "Lessons, a course or a teacher",
        ),
        obstacles=(
            "Sore fingers and slow early progress",
            "Practising only what you already know",
            "Practice slipping when the instrument is out of sight",
        ),
        indicators=(
            "Practice logged on at least 5 days a week",
            "A new song or piece learned every few weeks",
        ),
    ),
    "skill": _Profile(
        focus="Learning {subject}",
        default_days=84,
        reference_days=120,
        sub_goals=(
            "Fundamentals through a structured course",
            "Regular hands-on practice",
            "A real project that uses the skill",
        ),
        dependencies=("A course, book or curriculum", "A regular study slot"),
        obstacles=(
            "Passive studying that doesn't stick",
            "Losing momentum after the first weeks",
            "Not knowing what to practise next",
        ),
        indicators=(
            "Study sessions logged on at least 5 days a week",
            "Practice exercises or project milestones completed each week",
        ),
    ),
    "saving": _Profile(
        focus="Financial security",
        default_days=182,
        reference_days=182,
        sub_goals=(
            "Budget creation: know where the money goes",
            "Expense reduction on the biggest flexible costs",
            "Automatic savings transfers",
            "Income increase where possible",
        ),
        dependencies=(
            "A separate savings account",
            "Access to your bank statements",
        ),
        obstacles=(
            "Irregular expenses that derail the month",
            "Lifestyle creep when income rises",
            "Dipping into savings for non-emergencies",
        ),
        indicators=(
            "Savings balance on pace each month",
            "Expenses tracked daily",
            "Weekly budget review done",
        ),
    ),
    "debt": _Profile(
        focus="Becoming debt-free",
        default_days=365,
        reference_days=365,
        sub_goals=(
            "List every debt with its balance and interest rate",
            "Budget to free up money for extra payments",
            "Pay extra on one debt at a time (avalanche or snowball)",
        ),
        dependencies=("Statements for every debt", "A monthly budget"),
        obstacles=(
            "New charges on the cards being paid off",
            "Unexpected expenses without an emergency buffer",
            "Motivation dipping when balances fall slowly",
        ),
        indicators=(
            "Total balance down every month",
            "No new charges on paid-down cards",
            "Extra payment made every month",
        ),
    ),
    "budgeting": _Profile(
        focus="Budget control",
        default_days=84,
        reference_days=56,
        sub_goals=(
            "Track every expense",
            "A monthly budget by category",
            "A weekly review against the budget",
        ),
        dependencies=("Access to bank and card statements",),
        obstacles=(
            "Impulse purchases",
            "Forgetting to log small expenses",
            "A budget too strict to follow",
        ),
        indicators=(
            "Expenses logged daily",
            "Spending within budget in most categories each month",
        ),
    ),
    "investing": _Profile(
        focus="Long-term investing",
        default_days=182,
        reference_days=120,
        sub_goals=(
            "An emergency fund before investing",
            "Learn the basics: index funds, fees and risk",
            "Regular automatic contributions",
        ),
        dependencies=(
            "An investment or retirement account",
            "A monthly budget with room to invest",
        ),
        obstacles=(
            "Market swings tempting you to stop",
            "Analysis paralysis before starting",
        ),
        indicators=(
            "Contribution made every month",
            "Portfolio reviewed quarterly, not daily",
        ),
    ),
    "sleep": _Profile(
        focus="Better sleep",
        default_days=42,
        reference_days=28,
        sub_goals=(
            "A consistent wake-up time, weekends included",
            "A wind-down routine with screens off before bed",
            "A bedroom set up for sleep: dark, cool and quiet",
        ),
        dependencies=("An alarm outside the bedroom or a sunrise lamp",),
        obstacles=(
            "Late-night screens and revenge bedtime procrastination",
            "Caffeine late in the day",
            "Weekend lie-ins shifting the body clock",
        ),
        indicators=(
            "Lights out within 30 minutes of the target time on 6 nights a week",
            "Waking at the same time every day",
            "Feeling rested on most mornings",
        ),
    ),
    "meditation": _Profile(
        focus="Mindfulness and stress relief",
        default_days=56,
        reference_days=56,
        sub_goals=(
            "A tiny daily meditation that never gets skipped",
            "Gradually longer sessions",
            "Mindful moments during the day",
        ),
        dependencies=("A quiet spot and a timer or app",),
        obstacles=(
            "Restlessness and a busy mind",
            "Skipping on stressful days, when it matters most",
        ),
        indicators=(
            "Meditation done on at least 6 days a week",
            "Session length growing over the weeks",
            "Lower stress in a weekly self-rating",
        ),
    ),
    "hydration": _Profile(
        focus="Hydration",
        default_days=28,
        reference_days=21,
        sub_goals=(
            "Water first thing in the morning",
            "Water with every meal",
            "A visible bottle to sip through the day",
        ),
        dependencies=("A reusable water bottle",),
        obstacles=("Forgetting during busy stretches", "Sugary drinks replacing water"),
        indicators=("Daily water target met on at least 6 days a week",),
    ),
    "nutrition": _Profile(
        focus="Healthier eating",
        default_days=56,
        reference_days=56,
        sub_goals=(
            "More vegetables and whole foods",
            "Meals planned and prepared ahead",
            "Fewer ultra-processed snacks",
        ),
        dependencies=("Time for a weekly grocery shop", "A few simple go-to recipes"),
        obstacles=(
            "Late workdays leading to takeaway",
            "Cravings and convenient snacks at home",
        ),
        indicators=(
            "Home-cooked meals on most days",
            "Vegetables with at least two meals a day",
        ),
    ),
    "quitting": _Profile(
        focus="Quit {subject}",
        default_days=84,
        reference_days=90,
        sub_goals=(
            "Know your triggers: when, where and why the urge comes",
            "Cut down step by step before the quit date",
            "Replacement habits for each trigger",
            "Support from friends, a group or a professional",
        ),
        dependencies=(
            "A quit date",
            "Support: a friend, a group, or your doctor (nicotine replacement if relevant)",
        ),
        obstacles=(
            "Cravings in the first weeks",
            "Stress and social situations triggering relapse",
            "All-or-nothing thinking after a slip",
        ),
        indicators=(
            "Urges logged with their triggers",
            "Consecutive days free, growing week by week",
            "Money saved, counted weekly",
        ),
    ),
    "focus": _Profile(
        focus="Focus and productivity",
        default_days=56,
        reference_days=42,
        sub_goals=(
            "Clear daily priorities",
            "Protected deep-work blocks without distractions",
            "A weekly review and plan",
        ),
        dependencies=("A task list or planner", "A way to silence notifications"),
        obstacles=(
            "Notifications and context switching",
            "Meetings fragmenting the day",
            "Procrastination on the hardest task",
        ),
        indicators=(
            "Top priority finished on most workdays",
            "Deep-work blocks completed as planned",
        ),
    ),
    "planning": _Profile(
        focus="Planning and organisation",
        default_days=56,
        reference_days=42,
        sub_goals=(
            "A daily plan written before the day starts",
            "A weekly planning session",
            "One trusted place for tasks",
        ),
        dependencies=("A planner or task app",),
        obstacles=("Over-planning and unrealistic lists", "Skipping the plan on chaotic days"),
        indicators=("Daily plan written on at least 5 days a week", "Weekly review held"),
    ),
    "writing": _Profile(
        focus="Writing practice",
        default_days=84,
        reference_days=120,
        sub_goals=(
            "A daily writing slot",
            "A word-count target that grows",
            "Regular revision and feedback",
        ),
        dependencies=("A project or list of topics", "A distraction-free place to write"),
        obstacles=("The blank page and perfectionism", "Writing only when inspired"),
        indicators=("Words written logged daily", "Drafts finished on schedule"),
    ),
    "general": _Profile(
        focus="Your goal",
        default_days=84,
        reference_days=66,
        sub_goals=(
            "A tiny daily starter habit",
            "Regular focused practice sessions",
            "A weekly progress review",
        ),
        dependencies=("A clear definition of done", "A regular time slot"),
        obstacles=("Vague next steps", "Losing momentum after the first weeks"),
        indicators=("Practice logged on at least 5 days a week", "Weekly review held"),
    ),
}

_RACE_KM: dict[str, float] = {"half marathon": 21.1, "marathon": 42.2, "ultramarathon": 50.0}
_RACE_WEEKS: dict[str, int] = {"half marathon": 16, "marathon": 24, "ultramarathon": 40}

_CONSTRAINT_OBSTACLES: dict[str, str] = {
    "no gym": "No gym: the plan relies on bodyweight and outdoor sessions",
    "no equipment": "No equipment: exercises must need nothing but your body",
    "works night shifts": (
        "Night shifts: anchor habits to when you wake and before you sleep, not to clock times"
    ),
    "shift work": "Changing shifts: anchor habits to waking up rather than a fixed hour",
    "young children": (
        "Childcare interruptions: keep sessions short and stack them on fixed family routines"
    ),
    "travels often": "Travel breaks routines: keep a minimum version that works anywhere",
    "tight budget": "Tight budget: the plan uses free tools and routines",
    "limited time": "Little free time: short sessions, stacked onto things you already do",
    "beginner": "Starting from scratch: progress slowly to avoid early injury or burnout",
    "sedentary job": "Sitting all day: add movement breaks, not just workouts",
    "ADHD": "ADHD: rely on visible cues, short sessions and immediate rewards",
    "long commute": "Long commute: use it for audio habits (podcasts, lessons)",
    "small space": "Small space: choose routines that fit in a couple of square metres",
    "insomnia": "Insomnia: keep a fixed wake time and talk to a doctor if it persists",
}


_ASPIRATION = re.compile(
    r"\b(?:i (?:really )?want to|i wanna|i'?d (?:really )?(?:like|love) to|i would like to"
    r"|help me(?: to)?|my goal is to|my goal is|i need to|i'?m trying to|i plan to|i aim to"
    r"|i'?m going to|i hope to|i'?d like|teach me to|get me to|i want)\s+",
    re.IGNORECASE,
)


def _objective(message: str) -> str:
    """The goal as a short imperative sentence: "Help me run a marathon" → "Run a marathon"."""
    text = message.strip().rstrip(".!?").strip()
    matches = list(_ASPIRATION.finditer(text))
    found = matches[-1] if matches else None
    if found is not None and text[found.end() :].strip():
        text = text[found.end() :]
    text = re.sub(r"^(?:please|can you|could you|also|and)\s+", "", text, flags=re.IGNORECASE)
    text = text.strip(" ,")
    if not text:
        return "Reach your goal"
    return text[0].upper() + text[1:]


def _money_unit(unit: str) -> str:
    return {"usd": "$", "eur": "€", "gbp": "£"}.get(unit, "")


def _metric_direction(text: str, metric: Metric) -> Direction:
    decreasing = re.search(
        r"\b(?:lose|losing|drop|shed|cut|reduce|pay off|paying off|less|fewer)\b", text
    )
    if decreasing and (
        metric.unit in ("lb", "kg", "usd", "eur", "gbp") or "less" in text or "fewer" in text
    ):
        return "decrease"
    if re.search(r"\b(?:maintain|keep|stay)\b", text):
        return "maintain"
    return "reach" if metric.per is None else "increase"


def _weeks(days: int) -> float:
    return max(days / 7, 1e-9)


def _reference_days(category: str, subject: str | None, metric: Metric | None, text: str) -> int:
    """How many days this goal comfortably takes, which sets both default and difficulty."""
    profile = _PROFILES[category]
    if category == "running" and subject:
        if subject in _RACE_WEEKS:
            return _RACE_WEEKS[subject] * 7
        km = re.match(r"(\d+(?:\.\d+)?)K", subject)
        if km:
            return round((6 + float(km.group(1)) * 0.6) * 7)
    if category == "language":
        if re.search(r"\bfluen\w*|\bnative\b|\bc1\b|\bc2\b", text) and "conversational" not in text:
            return 365
        if re.search(
            r"\bbasic\w*|\bbeginner\b|\bsurvival\b|\btravel\b|\btrip\b|\ba1\b|\ba2\b", text
        ):
            return 84
    if category == "strength" and metric is not None and metric.unit in ("pull-ups", "chin-ups"):
        return round((4 + float(metric.value) * 1.2) * 7)
    if category == "writing" and re.search(r"\b(?:novel|book|manuscript|thesis)\b", text):
        return 365
    if category == "skill" and re.search(r"\b(?:exam|test|certification)\b", text):
        return 90
    return profile.reference_days


def _ambition_ratio(
    category: str,
    subject: str | None,
    metric: Metric | None,
    timeframe_days: int,
    text: str,
) -> float:
    """Required pace over comfortable pace: 1 means "right on a sensible schedule"."""
    weeks = _weeks(timeframe_days)
    if metric is not None:
        value = float(metric.value)
        if category == "weight_loss" and metric.unit in ("lb", "kg"):
            pounds = value * (2.2 if metric.unit == "kg" else 1.0)
            return (pounds / weeks) / 1.0
        if category in ("saving", "debt", "investing") and metric.unit in ("usd", "eur", "gbp"):
            monthly = value if metric.per == "month" else value / (weeks / 4.345)
            if metric.per == "week":
                monthly = value * 4.345
            return monthly / 500
        if category == "reading" and metric.unit == "books":
            per_week = {"day": value * 7, "week": value, "month": value / 4.345, "year": value / 52}
            needed = per_week.get(metric.per or "", value / weeks)
            return needed / 0.5
        if category == "reading" and metric.unit == "pages" and metric.per == "day":
            return value / 25
        if category == "writing" and metric.unit == "words" and metric.per == "day":
            return value / 500
        if category == "hydration" and metric.unit == "glasses":
            return max(value / 8, 21 / timeframe_days)
        if category == "sleep" and metric.unit == "hours":
            return max(value / 8, 28 / timeframe_days) * math.sqrt(28 / max(timeframe_days, 1))
        if metric.unit == "steps":
            return max(value / 8000, 28 / timeframe_days)
    return _reference_days(category, subject, metric, text) / max(timeframe_days, 1)


def _difficulty(
    ratio: float, constraints: tuple[str, ...], minutes: int | None, category: str
) -> float:
    """Map the ambition ratio to 0–1 (ratio 1 → 0.5) and add a little for each handicap."""
    base = ratio / (1 + ratio)
    if category == "quitting":
        base += 0.1
    base += min(0.15, 0.05 * len(constraints))
    if minutes is not None and minutes < 20:
        base += 0.05
    return round(min(0.95, max(0.05, base)), 2)


def _derived_metrics(
    category: str,
    subject: str | None,
    metric: Metric | None,
    timeframe_days: int,
    text: str,
) -> list[TargetMetric]:
    weeks = _weeks(timeframe_days)
    months = timeframe_days / 30.44
    out: list[TargetMetric] = []
    if metric is not None:
        name = {
            "lb": "weight lost" if category == "weight_loss" else "weight",
            "kg": "weight lost" if category == "weight_loss" else "weight",
            "usd": "amount",
            "eur": "amount",
            "gbp": "amount",
            "km": "distance",
            "mi": "distance",
        }.get(metric.unit, metric.unit)
        out.append(
            TargetMetric(
                name=name,
                value=metric.value,
                unit=metric.unit,
                direction=_metric_direction(text, metric),
                per=metric.per,
            )
        )
        value = float(metric.value)
        if category == "weight_loss" and metric.unit in ("lb", "kg"):
            out.append(
                TargetMetric(
                    name="weekly pace",
                    value=round(value / weeks, 2),
                    unit=metric.unit,
                    direction="decrease",
                    per="week",
                )
            )
        if (
            category in ("saving", "debt")
            and metric.unit in ("usd", "eur", "gbp")
            and metric.per is None
        ):
            out.append(
                TargetMetric(
                    name="monthly saving" if category == "saving" else "monthly payment",
                    value=math.ceil(value / max(months, 1 / 30.44)),
                    unit=metric.unit,
                    direction="increase",
                    per="month",
                )
            )
        if category == "reading" and metric.unit == "books" and metric.per is None:
            pages = math.ceil(value * 300 / max(timeframe_days, 1))
            out.append(
                TargetMetric(
                    name="pages per day", value=pages, unit="pages", direction="increase", per="day"
                )
            )
    if category == "running" and subject and (metric is None or metric.unit not in ("km", "mi")):
        km = _RACE_KM.get(subject)
        if km is None:
            found = re.match(r"(\d+(?:\.\d+)?)K", subject)
            km = float(found.group(1)) if found else None
        if km is not None:
            out.append(
                TargetMetric(name="race distance", value=km, unit="km", direction="reach", per=None)
            )
    if category == "language":
        out.append(
            TargetMetric(name="active vocabulary", value=1500, unit="words", direction="reach")
        )
    if category == "quitting":
        out.append(
            TargetMetric(
                name=f"consecutive {subject or 'habit'}-free days",
                value=min(30, max(7, timeframe_days // 3)),
                unit="days",
                direction="reach",
            )
        )
    if not out:
        out.append(
            TargetMetric(
                name="habit completion rate", value=80, unit="percent", direction="maintain"
            )
        )
    return out


def _format(template: str, subject: str | None) -> str:
    subject_text = subject or "your goal"
    return template.format(
        subject=subject_text, Subject=subject_text[:1].upper() + subject_text[1:]
    )


def _obstacles(
    profile: _Profile,
    constraints: tuple[str, ...],
    difficulty: float,
    timeframe_days: int,
    minutes: int | None,
    subject: str | None,
) -> tuple[str, ...]:
    found: list[str] = []
    for constraint in constraints:
        if constraint in _CONSTRAINT_OBSTACLES:
            found.append(_CONSTRAINT_OBSTACLES[constraint])
        elif constraint.startswith("bad ") or constraint.endswith(
            ("pain", "injury", "problem", "issue", "surgery")
        ):
            part = constraint.removeprefix("bad ").split()[0]
            found.append(
                f"{constraint.capitalize()}: choose low-impact options that don't load the {part},"
                " and check with a physio if it hurts"
            )
        else:
            found.append(
                f"{constraint[:1].upper()}{constraint[1:]}: the plan has to work around it"
            )
    if minutes is not None and minutes < 20:
        found.append(
            f"Only {minutes} minutes a day: sessions stay short, so progress rests on consistency"
        )
    if difficulty >= 0.65:
        found.append(
            f"Ambitious timeline: {round(timeframe_days / 7)} weeks is tight for this goal, so "
            "protect recovery and be ready to extend the deadline"
        )
    found.extend(_format(o, subject) for o in profile.obstacles)
    return tuple(dict.fromkeys(found))


def analyze_goal(goal: str | Understanding, today: date) -> GoalAnalysis:
    """Break a goal statement down into a structured, measurable goal.

    Args:
        goal: The user's goal as text, or the :class:`Understanding` of the message stating it.
        today: The user's local date; the plan starts today and the deadline counts from it.

    Returns:
        The analysis. When the user gave no time frame, a sensible one for the kind of goal is
        used (``timeframe_stated`` is then false); time frames are kept between a week and ten
        years.
    """
    understanding = goal if isinstance(goal, Understanding) else understand(goal, today)
    text = understanding.message.lower()
    category = understanding.subdomain if understanding.subdomain in _PROFILES else "general"
    profile = _PROFILES[category]
    subject = understanding.subject
    metric = understanding.metric
    if metric is not None and metric.unit == "minutes" and understanding.minutes_available:
        metric = None

    stated = understanding.timeframe_days is not None
    if stated:
        timeframe_days = int(understanding.timeframe_days or 0)
    elif category == "weight_loss" and metric is not None and metric.unit in ("lb", "kg"):
        pounds = float(metric.value) * (2.2 if metric.unit == "kg" else 1.0)
        timeframe_days = round(max(4.0, pounds / 1.0) * 7)
    else:
        # A marathon needs longer than a 5K: never default below what the goal comfortably takes.
        timeframe_days = max(profile.default_days, _reference_days(category, subject, metric, text))
    timeframe_days = min(MAX_TIMEFRAME_DAYS, max(MIN_TIMEFRAME_DAYS, timeframe_days))

    ratio = _ambition_ratio(category, subject, metric, timeframe_days, text)
    difficulty = _difficulty(
        ratio, understanding.constraints, understanding.minutes_available, category
    )
    label: DifficultyLabel = (
        "easy" if difficulty < 0.35 else "moderate" if difficulty < 0.65 else "challenging"
    )
    return GoalAnalysis(
        goal_text=understanding.message,
        objective=_objective(understanding.message),
        primary_focus="Running"
        if category == "running" and not subject
        else _format(profile.focus, subject or _fallback_subject(category)),
        domain=understanding.domain,
        category=category,
        subject=subject,
        target_metrics=tuple(_derived_metrics(category, subject, metric, timeframe_days, text)),
        start_date=today,
        deadline=today + timedelta(days=timeframe_days),
        timeframe_days=timeframe_days,
        timeframe_stated=stated,
        difficulty=difficulty,
        difficulty_label=label,
        sub_goals=tuple(_format(s, subject) for s in profile.sub_goals),
        dependencies=tuple(_format(d, subject) for d in profile.dependencies),
        obstacles=_obstacles(
            profile,
            understanding.constraints,
            difficulty,
            timeframe_days,
            understanding.minutes_available,
            subject,
        ),
        success_indicators=tuple(_format(i, subject) for i in profile.indicators),
        constraints=understanding.constraints,
        chronotype=understanding.chronotype,
        minutes_available=understanding.minutes_available,
    )


def _fallback_subject(category: str) -> str:
    return {
        "language": "language",
        "instrument": "an instrument",
        "skill": "a new skill",
        "quitting": "the habit",
    }.get(category, "your goal")
