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
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.agent.coaching.library import library
from services.agent.coaching.schema import Profile
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


def _profile(category: str) -> Profile:
    return library().domain(category).profile


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
    profile = _profile(category)
    facts = library().domain(category).subjects.get(subject or "")
    if facts is not None and facts.reference_weeks is not None:
        return facts.reference_weeks * 7
    if category == "running" and subject:
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
        facts = library().domain(category).subjects.get(subject)
        km = facts.distance_km if facts is not None else None
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
    profile: Profile,
    constraints: tuple[str, ...],
    difficulty: float,
    timeframe_days: int,
    minutes: int | None,
    subject: str | None,
) -> tuple[str, ...]:
    found: list[str] = []
    for constraint in constraints:
        known = library().anchors.constraint_obstacles
        if constraint in known:
            found.append(known[constraint])
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
    subject = understanding.subject
    coaching = library()
    category = coaching.select(f"{text} {subject or ''}", understanding.subdomain)
    spec = coaching.domain(category)
    profile = spec.profile
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
        else _format(profile.focus, subject or spec.fallback_subject),
        domain=understanding.domain or spec.group,
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
