"""The offline planner: a deterministic stand-in for the LLM that implements the model interface.

On the user's message it runs :func:`services.agent.understanding.understand` and decides the tool
calls per intent (goal setting → ``create_habit_sequence``; habit actions → the matching habit
tool; progress → ``analyze_progress``; troubleshooting → ``analyze_progress`` and
``suggest_habit_modification``; scheduling → ``find_optimal_time``; insights → by kind, a chart
→ ``create_visualization``; motivation → read-only tools; out of scope → no tools and a polite
refusal). Once the tool results are back it writes a short reply in the tone
:func:`services.agent.tone.choose_tone` picks, citing knowledge sources when it searched, and
streams it as text deltas like a model.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.agent.health_questions import describe_data, health_question
from services.agent.models import (
    AssistantMessage,
    Finish,
    Message,
    ModelEvent,
    ModelSettings,
    TextDelta,
    ToolCallsReady,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
    parse_tool_call,
)
from services.agent.nlu.clarify import clarifying_question, needs_clarifying
from services.agent.reminder_requests import (
    describe_reminder,
    is_reminder_request,
    plan_reminder,
    unplanned_reply,
)
from services.agent.tone import AIPreferences, apply_tone, choose_tone
from services.agent.understanding import Understanding, refusal_message, understand

_PERIODS = ((7, "7d"), (30, "30d"), (90, "90d"))
_PERIOD_WORDS = {
    "7d": "over the last 7 days",
    "30d": "over the last 30 days",
    "90d": "over the last 90 days",
}


def _period(lookback_days: int | None) -> str:
    if lookback_days is None:
        return "30d"
    for days, label in _PERIODS:
        if lookback_days <= days:
            return label
    return "all"


_CHART_WORDS: tuple[tuple[str, str], ...] = (
    (r"heat ?map|calendar|grid", "heatmap"),
    (r"streaks?|runs? of", "streak"),
    (r"\bbars?\b|histogram|per (?:week|month)|weekly|monthly|each (?:week|month)", "bar"),
)
_CHART_NAMES = {
    "line": "line chart",
    "bar": "bar chart",
    "heatmap": "calendar heatmap",
    "streak": "streak chart",
}
_CHART_SPANS = {
    "30d": "over the last 30 days",
    "90d": "over the last 90 days",
    "1y": "over the last year",
    "all": "since you started",
}


def _chart_type(message: str) -> str:
    """The kind of chart a message asks for; a line unless it names another."""
    lower = message.lower()
    return next((kind for pattern, kind in _CHART_WORDS if re.search(pattern, lower)), "line")


def _chart_period(lookback_days: int | None) -> str:
    if lookback_days is None or lookback_days <= 31:
        return "30d"
    return "90d" if lookback_days <= 92 else "1y" if lookback_days <= 366 else "all"


def _visualization(
    u: Understanding, habit: str | None, known_habits: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    source = habit or (known_habits[0] if len(known_habits) == 1 else u.subdomain or u.subject)
    if source is None:
        return [("analyze_progress", {"time_period": _period(u.lookback_days)})]
    args = {
        "data_source": source,
        "visualization_type": _chart_type(u.message),
        "time_period": _chart_period(u.lookback_days),
    }
    return [("create_visualization", args)]


def plan_calls(u: Understanding, known_habits: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls the planner makes for an understood message, in order.

    Args:
        u: The understanding of the user's message.
        known_habits: Titles of the user's habits.

    Returns:
        ``(tool name, arguments)`` pairs; empty when the reply needs no tool.
    """
    habit = u.habit_names[0] if u.habit_names else None
    if u.refuse or u.intent == "out_of_scope":
        return []
    # A health-data question reads only, so it is answered even when the intent head is unsure.
    asked = None if u.intent == "habit_action" else health_question(u.message, u.lookback_days)
    if asked is not None:
        span = next((f"{d}d" for d in (1, 7, 30, 90, 365) if asked.days <= d), "365d")
        args: dict[str, Any] = {"data_type": asked.data_type, "time_range": span}
        if u.integration in ("apple_health", "health_connect", "fitbit"):
            args["integration"] = u.integration
        if asked.workout_type:
            args["workout_type"] = asked.workout_type
        return [("get_integration_data", args)]
    if needs_clarifying(u):
        return []  # unsure of the intent: ask first (compose_reply), never write on a guess
    if is_reminder_request(u):
        return plan_reminder(u, habit, lambda v: _habit_action(v, habit, known_habits))
    if u.intent == "goal_setting":
        return [
            (
                "create_habit_sequence",
                {
                    "goal": u.message,
                    "time_available": u.minutes_available,
                    "chronotype": u.chronotype,
                },
            )
        ]
    if u.intent == "habit_action":
        return _habit_action(u, habit, known_habits)
    if u.intent == "progress_analysis":
        return [("analyze_progress", {"time_period": _period(u.lookback_days)})]
    if u.intent == "troubleshooting":
        out: list[tuple[str, dict[str, Any]]] = [
            ("analyze_progress", {"time_period": _period(u.lookback_days)})
        ]
        target = habit or (known_habits[0] if len(known_habits) == 1 else None)
        if target is not None:
            out.append(
                (
                    "suggest_habit_modification",
                    {"habit_title": target, "issue": u.issue or "unmotivated"},
                )
            )
        return out
    if u.intent == "schedule_adjustment":
        minutes = u.metric.value if u.metric is not None and u.metric.unit == "minutes" else None
        return [
            (
                "find_optimal_time",
                {
                    "habit_type": habit or u.subject or u.subdomain or u.message,
                    "duration": int(minutes) if minutes else None,
                    "flexibility": "medium",
                },
            )
        ]
    if u.intent == "insights":
        if u.insight_kind == "prediction":
            times = u.schedule.times if u.schedule is not None else None
            title = habit or u.subject or u.message
            return [("predict_success", {"habit": {"title": title, "times_per_week": times}})]
        if u.insight_kind == "knowledge":
            return [("search_knowledge", {"query": u.message})]
        if u.insight_kind == "visualization":
            return _visualization(u, habit, known_habits)
        return [("analyze_progress", {"time_period": _period(u.lookback_days)})]
    if u.intent == "motivation":
        out = [("analyze_progress", {"time_period": "30d"})] if known_habits else []
        if u.sentiment.label == "negative":
            out.append(("search_knowledge", {"query": "motivation setbacks self-compassion"}))
        return out
    return []  # integration requests that ask no question about the data: the reply explains


_EVERY = re.compile(r"\b(?:all|every|each)\b")
MAX_PROPOSALS = 10


def _habit_action(
    u: Understanding, habit: str | None, known_habits: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    action = u.action or "create"
    if action in ("create", "remind"):
        title = u.new_habit_title or habit or u.subject or "New habit"
        args: dict[str, Any] = {"title": title}
        if u.schedule is not None and u.schedule.days:
            args["schedule"] = {"days": list(u.schedule.days)}
        elif u.schedule is not None and u.schedule.unit in ("day", "week", "month"):
            args["schedule"] = {
                "times": u.schedule.times,
                "every": u.schedule.every,
                "unit": u.schedule.unit,
            }
        if u.schedule is not None and u.schedule.time_of_day:
            args["time_of_day"] = u.schedule.time_of_day
        out: list[tuple[str, dict[str, Any]]] = [("create_habit", args)]
        if u.sub_habits:
            out.append(("add_sub_habits", {"habit_title": title, "sub_habits": list(u.sub_habits)}))
        if u.tags:
            out.append(("assign_tags", {"habit_title": title, "tags": list(u.tags)}))
        return out
    if action == "log":
        target = habit or (known_habits[0] if len(known_habits) == 1 else u.subject)
        value = u.metric.value if u.metric is not None else None
        return [("log_habit", {"habit_title": target, "value": value})]
    if action == "add_sub_habits":
        return [("add_sub_habits", {"habit_title": habit, "sub_habits": list(u.sub_habits)})]
    if action == "assign_tags":
        return [("assign_tags", {"habit_title": habit, "tags": list(u.tags)})]
    if action == "suggest_tags":
        return [("suggest_tags", {})]
    if action == "delete":
        # Only proposed: each becomes a confirmation card the user accepts (docs/agent.md).
        if habit is not None:
            return [("archive_habit", {"habit_title": habit})]
        if _EVERY.search(u.message.lower()):
            return [("archive_habit", {"habit_title": t}) for t in known_habits[:MAX_PROPOSALS]]
    return []  # updates are done in the app; a deletion naming no habit asks which


def _results(messages: Sequence[Message]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for m in messages:
        if isinstance(m, ToolResultMessage):
            try:
                data = json.loads(m.content)
            except json.JSONDecodeError:
                data = {"error": {"code": "unreadable", "message": "unreadable result"}}
            out.append((m.name, data if isinstance(data, dict) else {}))
    return out


def _span(weeks: float) -> str:
    """A plan length in words: whole weeks, or days for a short or uneven stretch."""
    if float(weeks).is_integer():
        return f"{int(weeks)} week{'s' if weeks != 1 else ''}"
    days = round(weeks * 7)
    return f"{days} days" if days < 14 else f"about {round(weeks)} weeks"


# What the reply says when a tool's service does not answer (the rest of the reply still comes).
_UNAVAILABLE = {
    "search_knowledge": "The habit-science library isn't answering right now, so this reply "
    "comes without citations.",
    "predict_success": "I can't estimate the odds right now, so I've left the prediction out.",
    "find_optimal_time": "I can't work out your best time right now; try again in a little while.",
}


def _describe(name: str, data: dict[str, Any]) -> str:
    if "error" in data:
        if data["error"].get("code") == "service_unavailable":
            return _UNAVAILABLE.get(
                name, f"I couldn't {name.replace('_', ' ')} right now; that part is unavailable."
            )
        return f"I couldn't run {name.replace('_', ' ')}: {data['error'].get('message', '')}."
    if data.get("status") == "awaiting_confirmation":
        return f"Please confirm on the card: {data['summary']} Nothing changes until you accept."
    if name == "create_habit_sequence":
        seq = data["sequence"]
        phases = "; ".join(
            f"phase {p['phase']} ({p['name']}, {_span(p['weeks'])}): {', '.join(p['habits'][:2])}"
            for p in seq["phases"]
        )
        length = _span(seq["total_duration_weeks"])
        return (
            f"Here is your plan, {seq['name']} over {length}: {phases}. Activate it to start "
            "phase 1; the next phase begins once the current habits are stable."
        )
    if name == "create_habit":
        return f'I created the habit "{data["created"]["title"]}".'
    if name == "add_sub_habits":
        return f"{data['habit']} now has these steps: {', '.join(data['sub_habits'])}."
    if name == "assign_tags":
        return f"{data['habit']} is tagged {', '.join(data['tags'])}."
    if name == "log_habit":
        return f"Logged {data['logged']['habit']} for {data['logged']['day']}."
    if name == "suggest_tags":
        return (
            "Tag ideas: "
            + "; ".join(f"{s['habit']}: {', '.join(s['tags'])}" for s in data["suggestions"])
            + "."
        )
    if name == "analyze_progress":
        habits = data.get("habits") or []
        if not habits:
            return "You have no habits tracked yet, so there's nothing to analyse."
        span = _PERIOD_WORDS.get(data["period"], "overall")
        if len(habits) == 1:
            h = habits[0]
            streak = h["current_streak"]
            unit = h.get("streak_unit", "day") + ("s" if streak != 1 else "")
            return (
                f"{h['title']}: {round(100 * h['completion_rate'])}% of planned days {span}, "
                f"and your current streak is {streak} {unit} (best {h['best_streak']})."
            )
        rate = round(100 * data["average_completion_rate"])
        text = f"{span.capitalize()} you completed {rate}% of planned days across your habits"
        if data["strongest"] != data["weakest"]:
            text += f"; strongest: {data['strongest']}, needs attention: {data['weakest']}"
        return text + "."
    if name == "suggest_habit_modification":
        return f"For {data['habit']}: " + "; ".join(data["suggestions"][:2]) + "."
    if name == "predict_success":
        return (
            f"I'd estimate a {round(100 * data['probability'])}% chance that {data['habit']} "
            f"sticks. {data['recommendation']}"
        )
    if name == "create_visualization":
        unit = data["streak_unit"] + ("s" if data["longest_streak"] != 1 else "")
        return (
            f"Here is a {_CHART_NAMES[data['visualization_type']]} of {data['habit']} "
            f"{_CHART_SPANS[data['time_period']]}: {data['completed_days']} of {data['days']} "
            f"days completed, longest streak {data['longest_streak']} {unit}."
        )
    if name == "get_integration_data":
        return describe_data(data)
    if name == "set_reminder":
        return describe_reminder(data)
    if name == "find_optimal_time":
        return f"The best time looks like {data['time_of_day']} ({data['reason']})."
    if name == "search_knowledge":
        hits = data.get("results", [])
        if not hits:
            return "I found nothing on that in the habit-science library."
        best = hits[0]
        return f"{best['snippet']}"
    return ""


def _sources(results: Sequence[tuple[str, dict[str, Any]]]) -> str:
    cited = [
        f"{h['title']} ({h['source']})"
        for name, data in results
        if name == "search_knowledge"
        for h in data.get("results", [])[:2]
    ]
    return "Sources: " + "; ".join(cited) if cited else ""


def compose_reply(
    u: Understanding,
    results: Sequence[tuple[str, dict[str, Any]]],
    preferences: AIPreferences | None = None,
    known_habits: Sequence[str] = (),
) -> str:
    """Write the planner's reply from the understanding and the tool results.

    Args:
        u: The understanding of the user's message.
        results: ``(tool name, result data)`` in call order.
        preferences: The user's AI preferences, for the tone.
        known_habits: Titles of the user's habits (a reminder request names one of them).

    Returns:
        The reply text.
    """
    if u.refuse or u.intent == "out_of_scope":
        return refusal_message(u)
    if needs_clarifying(u) and not results:
        return clarifying_question(u)
    tone = choose_tone(u.sentiment, preferences, intent=u.intent, achievement=u.achievement)
    parts = [_describe(name, data) for name, data in results]
    if not results:
        if u.intent == "integration":
            what = u.integration.replace("_", " ") if u.integration else "your device"
            parts.append(
                f"Connected data from {what} shows up once it's linked under Integrations in "
                "the app; then I can use it in your progress reviews."
            )
        elif is_reminder_request(u):
            parts.append(unplanned_reply(u, known_habits))
        elif u.intent == "habit_action" and u.action == "delete":
            names = ", ".join(known_habits[:5]) or "none yet"
            parts.append(f"Which habit should I archive? Your habits: {names}.")
        elif u.intent == "habit_action":
            parts.append("You can change or delete a habit from its page in the app.")
        else:
            parts.append("Tell me the habit or goal you'd like to work on next.")
    sources = _sources(results)
    body = " ".join(p for p in parts if p)
    if sources:
        body += "\n\n" + sources
    return apply_tone(tone, body)


def _chunks(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


@dataclass
class OfflinePlanner:
    """A deterministic model for one user: knows the user's date, habits and preferences."""

    today: date
    known_habits: Sequence[str] = ()
    preferences: AIPreferences | None = None
    # The service has already understood the message it answers; reusing that saves the work.
    understood: Understanding | None = None

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        last = max((i for i, m in enumerate(messages) if isinstance(m, UserMessage)), default=None)
        if last is None:
            yield Finish(reason="stop", model="offline")
            return
        user = messages[last]
        assert isinstance(user, UserMessage)
        u = self.understood
        if u is None or u.message != user.content:
            u = understand(user.content, self.today, self.known_habits)
        after = messages[last + 1 :]
        available = {t.name for t in tools}
        if not any(isinstance(m, AssistantMessage) for m in after):
            planned = [
                (name, args) for name, args in plan_calls(u, self.known_habits) if name in available
            ]
            if planned:
                yield ToolCallsReady(
                    calls=tuple(
                        parse_tool_call(f"call_{i}_{name}", name, json.dumps(args))
                        for i, (name, args) in enumerate(planned)
                    )
                )
                yield Finish(reason="tool_calls", model="offline", output_tokens=len(planned))
                return
        reply = compose_reply(u, _results(after), self.preferences, self.known_habits)
        pieces = _chunks(reply)
        for piece in pieces:
            yield TextDelta(text=piece)
        yield Finish(reason="stop", model="offline", output_tokens=len(pieces))
