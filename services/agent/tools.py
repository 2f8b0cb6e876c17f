"""The agent's tools: a pydantic argument model and an async function each.

Every tool runs as ``fn(ctx, args)`` where :class:`ToolContext` carries the authenticated user id,
the user's date and the :class:`~services.agent.backend.HabitBackend`; the model never supplies a
user id. :func:`run_tool` validates arguments and turns every failure (bad JSON, bad arguments,
unknown habit, backend errors) into data, ``{"error": {"code": ..., "message": ...}}``, for the
model to read. Optional arguments are nullable so the JSON schema can be strict.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.agent.backend import (
    BackendError,
    Habit,
    HabitBackend,
    NewHabit,
    Proposal,
    Schedule,
)
from services.agent.cards import citations_card, prediction_card, progress_card
from services.agent.coaching.library import library
from services.agent.goals import GoalAnalysis, analyze_goal
from services.agent.models import ParsedToolCall, ToolSpec
from services.agent.reminder_times import clock_time, part_of_day, resolve_time
from services.agent.sequences import HabitSequencePlan, generate_sequence
from services.agent.understanding import match_habits, understand
from shared.charts import ChartPeriod, ChartType, build_spec
from shared.contracts.integrations import DataTypeName, IntegrationName

Difficulty = Literal["easy", "moderate", "challenging"]
Issue = Literal["too_hard", "no_time", "forgot", "unmotivated"]
Period = Literal["7d", "30d", "90d", "all"]
_ARGS = ConfigDict(extra="forbid")


class SequenceDrafts(Protocol):
    """Where ``create_habit_sequence`` keeps the plans it makes, as drafts to activate later."""

    async def save_draft(
        self, user_id: str, goal: str, plan: HabitSequencePlan, analysis: GoalAnalysis
    ) -> str:
        """Store the plan as a draft sequence and return its id."""
        ...


@dataclass(frozen=True)
class ToolContext:
    """Who the tools act for: set by the server from the session, never by the model."""

    user_id: str
    today: date
    backend: HabitBackend
    sequences: SequenceDrafts | None = None


class ToolResult(BaseModel):
    """What a tool returns: data for the model and, optionally, a card for the client."""

    data: dict[str, Any]
    card: dict[str, Any] | None = None

    @property
    def is_error(self) -> bool:
        """Whether the tool failed."""
        return "error" in self.data


def tool_error(code: str, message: str) -> ToolResult:
    """A failed tool call as data."""
    return ToolResult(data={"error": {"code": code, "message": message}})


# --- argument models ------------------------------------------------------------------------


class CreateHabitSequenceArgs(BaseModel):
    """Generate a personalised, phased habit sequence for a goal."""

    model_config = _ARGS
    goal: str = Field(description="The goal in the user's words")
    timeline: str | None = Field(None, description='e.g. "6 months", "by summer"')
    difficulty: Difficulty | None = None
    time_available: int | None = Field(None, description="Free minutes per day")
    chronotype: Literal["morning", "evening"] | None = None


class AnalyzeProgressArgs(BaseModel):
    """Analyse the user's progress on habits."""

    model_config = _ARGS
    habit_ids: list[str] | None = Field(None, description="Ids; null for all habits")
    time_period: Period | None = Field(None, description="Defaults to 30d")


class HabitRef(BaseModel):
    model_config = _ARGS
    habit_id: str | None = Field(None, description="The habit's id, if known")
    habit_title: str | None = Field(None, description="Or its title as the user said it")


class SuggestHabitModificationArgs(HabitRef):
    """Recommend changes to a struggling habit."""

    issue: Issue


class ProposedHabit(BaseModel):
    model_config = _ARGS
    title: str
    times_per_week: int | None = None
    duration_minutes: int | None = None
    time_of_day: str | None = None


class PredictSuccessArgs(BaseModel):
    """Predict the probability that a proposed habit will stick."""

    model_config = _ARGS
    habit: ProposedHabit


class FindOptimalTimeArgs(BaseModel):
    """Find the best time of day to schedule a habit."""

    model_config = _ARGS
    habit_type: str
    duration: int | None = Field(None, description="Minutes")
    flexibility: Literal["low", "medium", "high"] | None = None


class SearchKnowledgeArgs(BaseModel):
    """Search the habit-science knowledge base; cite the sources returned."""

    model_config = _ARGS
    query: str
    limit: int | None = None


class ScheduleArgs(BaseModel):
    model_config = _ARGS
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    times: int | None = None
    every: int | None = None
    unit: Literal["day", "week", "month"] | None = None


class CreateHabitArgs(BaseModel):
    """Create a habit for the user."""

    model_config = _ARGS
    title: str
    kind: Literal["boolean", "quantity", "duration"] | None = None
    unit: str | None = None
    target: float | None = None
    schedule: ScheduleArgs | None = None
    time_of_day: str | None = None


class LogHabitArgs(HabitRef):
    """Record that the user did a habit (on a date; today by default)."""

    value: float | None = None
    date: str | None = Field(None, description="ISO date; null for today")


class AddSubHabitsArgs(HabitRef):
    """Add sub-habits (steps of a routine) to a habit."""

    sub_habits: list[str]


class AssignTagsArgs(HabitRef):
    """Assign tags to a habit."""

    tags: list[str]


class CreateVisualizationArgs(BaseModel):
    """Chart one habit: line (rate or values), bar (per week/month), heatmap or streaks."""

    model_config = _ARGS
    data_source: str = Field(description="The habit to chart: its id or its title")
    visualization_type: ChartType | None = Field(None, description="Defaults to line")
    time_period: ChartPeriod | None = Field(None, description="Defaults to 30d")


class GetIntegrationDataArgs(BaseModel):
    """Read the user's imported health data (Apple Health, Health Connect, Fitbit) per day."""

    model_config = _ARGS
    integration: IntegrationName | None = Field(None, description="null: every integration")
    data_type: DataTypeName
    time_range: Literal["1d", "7d", "30d", "90d", "365d"] | None = Field(
        None, description="Days back through today; defaults to 7d"
    )
    workout_type: str | None = Field(None, description="For workouts: e.g. running")


class SetReminderArgs(BaseModel):
    """Set, move or stop the user's reminder for a habit (or a daily check-in without one)."""

    model_config = _ARGS
    habit_id: str | None = Field(None, description="The habit's id or title; null: a check-in")
    time: str | None = Field(
        None, description='"07:30", "7am", "9pm", "after lunch", "in the evening"; not for stop'
    )
    message: str | None = Field(None, max_length=500)
    action: Literal["set", "stop"] | None = Field(
        None, description="Defaults to set; stop only proposes it, the user confirms on a card"
    )


class ArchiveHabitArgs(HabitRef):
    """Archive (delete) a habit: only proposes it; the user accepts or cancels on a card."""


class SuggestTagsArgs(BaseModel):
    """Suggest tags for the user's habits."""

    model_config = _ARGS
    habit_ids: list[str] | None = None


# --- functions ------------------------------------------------------------------------------


async def _resolve(ctx: ToolContext, ref: HabitRef) -> Habit:
    habits = await ctx.backend.list_habits(ctx.user_id)
    if ref.habit_id:
        for habit in habits:
            if habit.id == ref.habit_id:
                return habit
    if ref.habit_title:
        exact = [h for h in habits if h.title.lower() == ref.habit_title.lower()]
        if exact:
            return exact[0]
        titles = match_habits(ref.habit_title.lower(), [h.title for h in habits])
        if titles:
            return next(h for h in habits if h.title == titles[0])
        # "workout" names "Evening workout": the given words are all in one habit's title.
        partial = [h for h in habits if match_habits(h.title.lower(), [ref.habit_title])]
        if len(partial) == 1:
            return partial[0]
    wanted = ref.habit_id or ref.habit_title or "(none given)"
    known = ", ".join(f"{h.id}: {h.title}" for h in habits) or "none"
    raise BackendError("habit_not_found", f"no habit matches {wanted!r}; known habits: {known}")


async def create_habit_sequence(ctx: ToolContext, args: CreateHabitSequenceArgs) -> ToolResult:
    habits = [h.title for h in await ctx.backend.list_habits(ctx.user_id)]
    text = args.goal if not args.timeline else f"{args.goal} {args.timeline}"
    u = understand(text, ctx.today, habits)
    if args.time_available is not None:
        u = u.model_copy(update={"minutes_available": args.time_available})
    goal = analyze_goal(u, ctx.today)
    chronotype = args.chronotype or u.chronotype or await ctx.backend.get_chronotype(ctx.user_id)
    plan = generate_sequence(goal, chronotype, u.minutes_available, habits, ctx.today)
    summary = {
        "name": plan.name,
        "total_duration_weeks": plan.total_duration_weeks,
        "difficulty": goal.difficulty_label,
        "phases": [
            {
                "phase": p.phase_number,
                "name": p.name,
                "weeks": p.duration_weeks,
                "habits": [f"{h.name} ({h.duration_minutes} min, {h.frequency})" for h in p.habits],
            }
            for p in plan.phases
        ],
        "obstacles": list(goal.obstacles[:3]),
    }
    card: dict[str, Any] = {"type": "habit_sequence", "plan": plan.model_dump(mode="json")}
    if ctx.sequences is not None:
        sequence_id = await ctx.sequences.save_draft(ctx.user_id, text, plan, goal)
        summary["sequence_id"] = sequence_id
        summary["status"] = "draft"
        card["sequence_id"] = sequence_id
    return ToolResult(data={"sequence": summary}, card=card)


_PERIOD_DAYS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90, "all": 365}


async def analyze_progress(ctx: ToolContext, args: AnalyzeProgressArgs) -> ToolResult:
    period = args.time_period or "30d"
    metrics = await ctx.backend.get_metrics(
        ctx.user_id, args.habit_ids or [], _PERIOD_DAYS[period], ctx.today
    )
    rows = [m.model_dump() for m in metrics]
    if not rows:
        return ToolResult(data={"period": period, "habits": [], "summary": "no habits yet"})
    average = sum(m.completion_rate for m in metrics) / len(metrics)
    strongest = max(metrics, key=lambda m: m.completion_rate)
    weakest = min(metrics, key=lambda m: m.completion_rate)
    return ToolResult(
        data={
            "period": period,
            "habits": rows,
            "average_completion_rate": round(average, 3),
            "strongest": strongest.title,
            "weakest": weakest.title,
        },
        card=progress_card(period, metrics, round(average, 3)),
    )


async def suggest_habit_modification(
    ctx: ToolContext, args: SuggestHabitModificationArgs
) -> ToolResult:
    habit = await _resolve(ctx, args)
    (metrics,) = await ctx.backend.get_metrics(ctx.user_id, [habit.id], 30, ctx.today)
    return ToolResult(
        data={
            "habit_id": habit.id,
            "habit": habit.title,
            "issue": args.issue,
            "completion_rate_30d": metrics.completion_rate,
            "suggestions": list(getattr(library().modifications, args.issue)),
        }
    )


async def predict_success(ctx: ToolContext, args: PredictSuccessArgs) -> ToolResult:
    h = args.habit
    prediction = await ctx.backend.predict_success(
        ctx.user_id, h.title, h.times_per_week or 7, h.duration_minutes or 10, h.time_of_day
    )
    return ToolResult(
        data={"habit": h.title, **prediction.model_dump()},
        card=prediction_card(h.title, prediction),
    )


async def find_optimal_time(ctx: ToolContext, args: FindOptimalTimeArgs) -> ToolResult:
    suggestion = await ctx.backend.optimal_time(
        ctx.user_id, args.habit_type, args.duration or 15, args.flexibility or "medium"
    )
    return ToolResult(data={"habit_type": args.habit_type, **suggestion.model_dump()})


async def search_knowledge(ctx: ToolContext, args: SearchKnowledgeArgs) -> ToolResult:
    hits = await ctx.backend.search_knowledge(args.query, min(10, max(1, args.limit or 3)))
    return ToolResult(data={"results": [h.model_dump() for h in hits]}, card=citations_card(hits))


async def create_habit(ctx: ToolContext, args: CreateHabitArgs) -> ToolResult:
    schedule = Schedule()
    if args.schedule is not None and args.schedule.days:
        schedule = Schedule(type="weekdays", days=tuple(args.schedule.days))
    elif args.schedule is not None:
        schedule = Schedule(
            every=args.schedule.every or 1,
            unit=args.schedule.unit or "day",
            times=args.schedule.times or 1,
        )
    habit = await ctx.backend.create_habit(
        ctx.user_id,
        NewHabit(
            title=args.title.strip()[:120],
            kind=args.kind or "boolean",
            unit=args.unit,
            target=args.target,
            schedule=schedule,
            time_of_day=args.time_of_day,
        ),
        ctx.today,
    )
    return ToolResult(
        data={"created": habit.model_dump(mode="json")},
        card={"type": "habit_created", "habit": habit.model_dump(mode="json")},
    )


async def log_habit(ctx: ToolContext, args: LogHabitArgs) -> ToolResult:
    habit = await _resolve(ctx, args)
    try:
        day = date.fromisoformat(args.date) if args.date else ctx.today
    except ValueError:
        return tool_error("invalid_date", f"{args.date!r} is not an ISO date")
    if day > ctx.today:
        return tool_error("future_date", "cannot log a habit in the future")
    value = args.value if habit.kind != "boolean" else None
    log = await ctx.backend.log_habit(ctx.user_id, habit.id, day, value)
    return ToolResult(data={"logged": {"habit": habit.title, **log.model_dump(mode="json")}})


async def add_sub_habits(ctx: ToolContext, args: AddSubHabitsArgs) -> ToolResult:
    habit = await _resolve(ctx, args)
    names = [s.strip() for s in args.sub_habits if s.strip()]
    if not names:
        return tool_error("no_sub_habits", "give at least one sub-habit")
    updated = await ctx.backend.add_sub_habits(ctx.user_id, habit.id, names)
    return ToolResult(data={"habit": updated.title, "sub_habits": list(updated.sub_habits)})


async def assign_tags(ctx: ToolContext, args: AssignTagsArgs) -> ToolResult:
    habit = await _resolve(ctx, args)
    tags = [t.strip() for t in args.tags if t.strip()]
    if not tags:
        return tool_error("no_tags", "give at least one tag")
    updated = await ctx.backend.assign_tags(ctx.user_id, habit.id, tags)
    return ToolResult(data={"habit": updated.title, "tags": list(updated.tags)})


async def create_visualization(ctx: ToolContext, args: CreateVisualizationArgs) -> ToolResult:
    habit = await _resolve(ctx, HabitRef(habit_id=args.data_source, habit_title=args.data_source))
    chart = args.visualization_type or "line"
    period = args.time_period or "30d"
    history = await ctx.backend.get_history(ctx.user_id, habit.id, period, ctx.today)
    spec = build_spec(history, chart, period)
    streaks = [s.length for s in history.streaks]
    data = {
        "habit_id": habit.id,
        "habit": habit.title,
        "visualization_type": chart,
        "time_period": period,
        "start": history.start.isoformat(),
        "end": history.end.isoformat(),
        "days": len(history.days),
        "completed_days": sum(d.status == "completed" for d in history.days),
        "longest_streak": max(streaks, default=0),
        "streak_unit": history.streak_unit,
    }
    card = {
        "type": "visualization",
        "habit_id": habit.id,
        "visualization_type": chart,
        "time_period": period,
        "spec": spec,
    }
    return ToolResult(data=data, card=card)


async def get_integration_data(ctx: ToolContext, args: GetIntegrationDataArgs) -> ToolResult:
    days = int((args.time_range or "7d").removesuffix("d"))
    out = await ctx.backend.get_integration_data(
        ctx.user_id, args.data_type, days, ctx.today, args.integration, args.workout_type
    )
    data = out.model_dump(mode="json")
    data["period_days"] = days
    card = {
        "type": "integration_data",
        "data_type": out.data_type,
        "integration": out.integration,
        "unit": out.unit,
        "days": data["days"],
        "summary": data["summary"],
    }
    return ToolResult(data=data, card=card)


async def set_reminder(ctx: ToolContext, args: SetReminderArgs) -> ToolResult:
    habit = None
    if args.habit_id:
        habit = await _resolve(ctx, HabitRef(habit_id=args.habit_id, habit_title=args.habit_id))
    about = habit.title if habit is not None else "your check-in"
    if args.action == "stop":
        proposal = await ctx.backend.propose(
            ctx.user_id, "delete_reminders", habit.id if habit else None
        )
        return confirmation(proposal, about)
    at = await reminder_time(ctx, args.time or "", habit.title if habit else "check-in")
    if at is None:
        return tool_error("unknown_time", f"{args.time!r} is no time of day (try 07:30 or 7am)")
    reminder, created = await ctx.backend.set_reminder(
        ctx.user_id, habit.id if habit else None, at.strftime("%H:%M"), args.message, True
    )
    data = {"habit": about, "created": created, "reminder": reminder.model_dump(mode="json")}
    card = {"type": "reminder", "action": "created" if created else "updated", **data}
    return ToolResult(data=data, card=card)


def confirmation(proposal: Proposal, about: str) -> ToolResult:
    """A destructive action proposed, not done: the card the user accepts, data for the model."""
    data = {
        "status": "awaiting_confirmation",
        "habit": about,
        "summary": proposal.summary,
        "note": "Nothing has changed yet: the user accepts or cancels on the card.",
    }
    card = {
        "type": "confirmation",
        "confirmation_id": proposal.id,
        "action": proposal.action,
        "habit_id": proposal.habit_id,
        "habit": about,
        "summary": proposal.summary,
        "expires_at": proposal.expires_at,
    }
    return ToolResult(data=data, card=card)


async def archive_habit(ctx: ToolContext, args: ArchiveHabitArgs) -> ToolResult:
    habit = await _resolve(ctx, args)
    proposal = await ctx.backend.propose(ctx.user_id, "archive_habit", habit.id)
    return confirmation(proposal, habit.title)


async def reminder_time(ctx: ToolContext, phrase: str, habit: str) -> time | None:
    """A clock time as said; a part of the day through the optimal time or the chronotype."""
    if clock_time(phrase) is not None or part_of_day(phrase) is None:
        return resolve_time(phrase, None, None)
    chronotype = await ctx.backend.get_chronotype(ctx.user_id)
    try:
        best = await ctx.backend.optimal_time(ctx.user_id, habit, 10, "medium")
        suggestion: time | None = time.fromisoformat(best.time_of_day[:5])
    except (BackendError, ValueError):
        suggestion = None
    return resolve_time(phrase, chronotype, suggestion)


_TAG_RULES: tuple[tuple[str, str], ...] = (
    (r"run|walk|gym|workout|exercis|yoga|stretch|swim|cycl|lift|step|push|squat", "fitness"),
    (r"meditat|breath|sleep|journal|water|gratitude|mindful", "wellness"),
    (r"read|study|learn|language|spanish|practi|course|vocab", "learning"),
    (r"budget|saving|spend|expense|money|invest|finance", "finance"),
    (r"plan|focus|email|inbox|review|work|desk", "productivity"),
    (r"morning", "morning"),
    (r"evening|night|bed", "evening"),
)


def _suggested_tags(title: str) -> list[str]:
    lower = title.lower()
    return [tag for pattern, tag in _TAG_RULES if re.search(pattern, lower)] or ["personal"]


async def suggest_tags(ctx: ToolContext, args: SuggestTagsArgs) -> ToolResult:
    habits = await ctx.backend.list_habits(ctx.user_id)
    if args.habit_ids:
        # An id that is not one of the user's habits is an error, never silently skipped.
        unknown = sorted(set(args.habit_ids) - {h.id for h in habits})
        if unknown:
            return tool_error("habit_not_found", f"no habit with id {unknown[0]!r}")
        habits = [h for h in habits if h.id in args.habit_ids]
    return ToolResult(
        data={
            "suggestions": [
                {"habit_id": h.id, "habit": h.title, "tags": _suggested_tags(h.title)}
                for h in habits
            ]
        }
    )


# --- registry -------------------------------------------------------------------------------

ToolFn = Callable[[ToolContext, Any], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Tool:
    """A tool: its spec for the model and the function that runs it."""

    spec: ToolSpec
    fn: ToolFn

    @property
    def name(self) -> str:
        """The tool's name."""
        return self.spec.name


def _tool(name: str, args: type[BaseModel], fn: ToolFn) -> Tool:
    return Tool(ToolSpec(name, (args.__doc__ or name).strip(), args), fn)


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        _tool("create_habit_sequence", CreateHabitSequenceArgs, create_habit_sequence),
        _tool("analyze_progress", AnalyzeProgressArgs, analyze_progress),
        _tool(
            "suggest_habit_modification", SuggestHabitModificationArgs, suggest_habit_modification
        ),
        _tool("predict_success", PredictSuccessArgs, predict_success),
        _tool("find_optimal_time", FindOptimalTimeArgs, find_optimal_time),
        _tool("search_knowledge", SearchKnowledgeArgs, search_knowledge),
        _tool("create_habit", CreateHabitArgs, create_habit),
        _tool("log_habit", LogHabitArgs, log_habit),
        _tool("add_sub_habits", AddSubHabitsArgs, add_sub_habits),
        _tool("assign_tags", AssignTagsArgs, assign_tags),
        _tool("suggest_tags", SuggestTagsArgs, suggest_tags),
        _tool("create_visualization", CreateVisualizationArgs, create_visualization),
        _tool("get_integration_data", GetIntegrationDataArgs, get_integration_data),
        _tool("set_reminder", SetReminderArgs, set_reminder),
        _tool("archive_habit", ArchiveHabitArgs, archive_habit),
    )
}
HABIT_WRITE_TOOLS = frozenset(
    {
        "create_habit",
        "log_habit",
        "add_sub_habits",
        "assign_tags",
        "create_habit_sequence",
        "set_reminder",
        "archive_habit",
    }
)


async def run_tool(
    ctx: ToolContext, call: ParsedToolCall, tools: dict[str, Tool] | None = None
) -> ToolResult:
    """Run one tool call; every failure comes back as ``{"error": ...}`` data.

    Args:
        ctx: The authenticated user's context.
        call: The call as the model made it (arguments may have failed to parse).
        tools: The registry; :data:`TOOLS` by default.

    Returns:
        The tool's result, or an error result.
    """
    registry = TOOLS if tools is None else tools
    tool = registry.get(call.name)
    if tool is None:
        return tool_error("unknown_tool", f"there is no tool {call.name!r}")
    if call.arguments is None:
        return tool_error("malformed_arguments", call.error or "arguments could not be parsed")
    try:
        args = tool.spec.args_model.model_validate(call.arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        return tool_error("invalid_arguments", problems)
    try:
        return await tool.fn(ctx, args)
    except BackendError as exc:
        return tool_error(exc.code, exc.message)


def tool_specs(tools: Sequence[Tool] | None = None) -> list[ToolSpec]:
    """The specs of the given tools (all by default), for the model."""
    return [t.spec for t in (tools if tools is not None else TOOLS.values())]
