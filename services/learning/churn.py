"""Early warnings that a habit is being abandoned, the nudge that answers them, and when to send it.

Detection looks at one habit's recent scheduled days and raises these signals:

- ``lapse_after_streak``: no log at all (neither done nor skipped) for ``lapse_days`` (3)
  calendar days, with at least two scheduled days missed, right after a streak of
  ``long_streak`` (10) or more. A long streak that stops dead is the classic abandonment
  pattern.
- ``two_misses_in_a_row``: the two latest scheduled days were both missed ("never miss twice"),
  when that is unusual for the habit: at the habit's completion rate over the 28 days before,
  two misses in a row would happen by chance at most ``two_miss_chance`` of the time (2 %, i.e.
  a rate of about 86 % or more). For a habit that is often missed, two misses are ordinary and
  the rate signal speaks instead. A habit too young to have a baseline always counts, because
  new habits fail early.
- ``completion_rate_falling``: the last 7 days' completion rate is at least ``min_rate_drop``
  (20 points) below the last 28 days' rate, and that few completions would happen at the 28-day
  rate with probability at most ``rate_drop_chance`` (5 %, exact binomial lower tail). The two
  conditions together mean "a real drop, and not a noisy week".
- ``phase_stalled``: the habit's habit-sequence phase has run its planned length and has not
  advanced, because the habit's completion rate over the last 7 days (within the phase) is below
  the rate that counts as stable: the window and bar the agent's advance rule reads.

The modification follows the likely cause: misses at a consistent time (completions drifting far
from the scheduled time, or misses bunched on the same weekdays) → ``another_time``; a long
session → ``smaller``; no anchor to an existing routine → ``stack_trigger``; otherwise a smaller
first step.

The send policy allows at most one nudge per user per local day, never during the user's night,
and not the same habit again within a few days. A stored nudge published late is held again
until the user's night is over (``release_time``).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.learning.rhythm import Chronotype, rhythm_of
from shared.localtime import local_today

Status = Literal["done", "missed", "skipped"]
ReasonCode = Literal[
    "lapse_after_streak", "completion_rate_falling", "two_misses_in_a_row", "phase_stalled"
]
ModificationKind = Literal["smaller", "another_time", "stack_trigger"]

SEVERITY: dict[ReasonCode, int] = {
    "lapse_after_streak": 4,
    "completion_rate_falling": 3,
    "two_misses_in_a_row": 2,
    "phase_stalled": 1,
}
"""Which signal leads when several fire: the more sudden and certain the change, the higher."""

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """What happened on one scheduled day of a habit.

    Attributes:
        on: The local calendar day.
        status: ``done``, ``missed`` (a closed day without a done log) or ``skipped`` (excused).
        completed_at: The instant of the done log, when there is one (naive means UTC).
    """

    on: date
    status: Status
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    """The habit-sequence phase the habit belongs to.

    Attributes:
        phase: The phase number (1 = foundation).
        started_on: The phase's first local day.
        duration_days: Its planned length.
        stable_rate: The 7-day completion rate at which the phase's habits count as stable; the
            default is the agent's bar for advancing a phase.
    """

    phase: int
    started_on: date
    duration_days: int
    stable_rate: float = 0.8


@dataclass(frozen=True, slots=True)
class HabitActivity:
    """A habit and its recent scheduled days: the input of detection.

    Attributes:
        habit_id: The habit.
        title: Its name, for the message.
        outcomes: Scheduled days, oldest first, through yesterday (today is still pending and
            never counts against the user). About 60 days are enough for every signal.
        duration_minutes: One session's length.
        scheduled_time: The planned local time, if any.
        has_stack_trigger: Whether it is anchored to an existing routine.
        phase: Its sequence phase, if it belongs to one.
    """

    habit_id: str
    title: str
    outcomes: Sequence[DayOutcome]
    duration_minutes: float = 5.0
    scheduled_time: time | None = None
    has_stack_trigger: bool = False
    phase: PhaseProgress | None = None


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Thresholds of the signals (see the module docstring).

    Attributes:
        lapse_days: Calendar days without any log that end a long streak.
        long_streak: Streak length (scheduled periods) that counts as long.
        two_miss_chance: The highest chance of two misses in a row, at the habit's earlier
            rate, at which the pair still counts as a warning.
        rate_drop_chance: The highest chance of the 7-day count at the 28-day rate at which the
            drop still counts as real.
        min_rate_drop: Smallest 7-day versus 28-day drop worth reporting, as a rate.
        min_recent_days: Scheduled days needed in the 7-day window.
        min_baseline_days: Scheduled days needed in the 28-day window or baseline.
        long_minutes: Sessions at least this long count as long.
        time_drift_minutes: Median distance of completions from the scheduled time that says
            the scheduled time does not fit.
        zone: The user's zone, to read completion instants as local times.
    """

    lapse_days: int = 3
    long_streak: int = 10
    two_miss_chance: float = 0.02
    rate_drop_chance: float = 0.05
    min_rate_drop: float = 0.2
    min_recent_days: int = 3
    min_baseline_days: int = 10
    long_minutes: float = 10.0
    time_drift_minutes: float = 90.0
    zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Modification:
    """The change a nudge proposes.

    Attributes:
        kind: ``smaller``, ``another_time`` or ``stack_trigger``.
        details: What exactly, e.g. ``{"from_minutes": 30, "to_minutes": 5}``.
    """

    kind: ModificationKind
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NudgeProposal:
    """A suggested nudge for one habit.

    Attributes:
        habit_id: The habit.
        reason: The leading signal.
        message: What the user would read.
        modification: The proposed change.
        signals: Every signal that fired, leading one first.
    """

    habit_id: str
    reason: ReasonCode
    message: str
    modification: Modification
    signals: tuple[ReasonCode, ...]

    @property
    def severity(self) -> int:
        """How urgent the leading signal is (higher is more urgent)."""
        return SEVERITY[self.reason]


def detect_signals(
    activity: HabitActivity, today: date, config: DetectionConfig | None = None
) -> tuple[ReasonCode, ...]:
    """Return the warning signals a habit shows as of ``today``, most severe first.

    Args:
        activity: The habit and its scheduled days through yesterday.
        today: The user's local today; outcomes on or after it are ignored.
        config: Thresholds.

    Returns:
        The signals that fired, ordered by ``SEVERITY``.
    """
    cfg = config or DetectionConfig()
    closed = [o for o in activity.outcomes if o.on < today]
    found: list[ReasonCode] = []
    if _lapsed_after_streak(closed, today, cfg):
        found.append("lapse_after_streak")
    if _rate_falling(closed, today, cfg):
        found.append("completion_rate_falling")
    if _two_misses(closed, today, cfg):
        found.append("two_misses_in_a_row")
    if activity.phase is not None and _phase_stalled(closed, activity.phase, today):
        found.append("phase_stalled")
    return tuple(sorted(found, key=lambda code: -SEVERITY[code]))


def _lapsed_after_streak(closed: list[DayOutcome], today: date, cfg: DetectionConfig) -> bool:
    logged = [i for i, o in enumerate(closed) if o.status != "missed"]
    if not logged:
        return False
    last = logged[-1]
    if (today - closed[last].on).days - 1 < cfg.lapse_days:
        return False
    # Two missed scheduled days, not one: for a habit done three times a week, three quiet
    # calendar days can be an ordinary gap between sessions.
    if sum(o.status == "missed" for o in closed[last + 1 :]) < 2:
        return False
    streak = 0
    for o in reversed(closed[: last + 1]):
        if o.status == "missed":
            break
        if o.status == "done":
            streak += 1
    return streak >= cfg.long_streak


def _rate(outcomes: Sequence[DayOutcome]) -> tuple[int, int]:
    counted = [o for o in outcomes if o.status != "skipped"]
    return sum(o.status == "done" for o in counted), len(counted)


def _binomial_lower_tail(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1.0 - p) ** (n - i) for i in range(k + 1))


def _rate_falling(closed: list[DayOutcome], today: date, cfg: DetectionConfig) -> bool:
    done7, n7 = _rate([o for o in closed if (today - o.on).days <= 7])
    done28, n28 = _rate([o for o in closed if (today - o.on).days <= 28])
    if n7 < cfg.min_recent_days or n28 < cfg.min_baseline_days:
        return False
    r7, r28 = done7 / n7, done28 / n28
    if r28 - r7 < cfg.min_rate_drop:
        return False
    return _binomial_lower_tail(done7, n7, r28) <= cfg.rate_drop_chance


def _two_misses(closed: list[DayOutcome], today: date, cfg: DetectionConfig) -> bool:
    counted = [o for o in closed if o.status != "skipped"]
    if len(counted) < 2 or counted[-1].status != "missed" or counted[-2].status != "missed":
        return False
    if len(counted) >= 3 and counted[-3].status == "missed":
        # The pair was reported when it formed; a longer run is the lapse and rate signals' job.
        return False
    # Only a fresh pair counts: the latest miss must be the latest scheduled day.
    if closed[-1] is not counted[-1]:
        return False
    before = counted[:-2]
    if len(before) < cfg.min_baseline_days:
        return True
    start = counted[-2].on - timedelta(days=28)
    baseline = [o for o in before if o.on >= start]
    if len(baseline) < cfg.min_baseline_days:
        # A weekly habit has four days in 28; its baseline reaches back further instead.
        baseline = before[-cfg.min_baseline_days :]
    done, n = _rate(baseline)
    return (1.0 - done / n) ** 2 <= cfg.two_miss_chance


def _phase_stalled(closed: list[DayOutcome], phase: PhaseProgress, today: date) -> bool:
    if (today - phase.started_on).days < phase.duration_days:
        return False
    # The agent advances a phase once its length has passed and the 7-day rate is stable; a
    # habit judged on the same window is stalled exactly when the phase is held back by it.
    since = max(phase.started_on, today - timedelta(days=7))
    done, n = _rate([o for o in closed if o.on >= since])
    return n > 0 and done / n < phase.stable_rate


def choose_modification(
    activity: HabitActivity, today: date, config: DetectionConfig | None = None
) -> Modification:
    """Pick the change most likely to rescue the habit, from the evidence of why it slips.

    Args:
        activity: The habit and its scheduled days.
        today: The user's local today.
        config: Thresholds (and the zone used to read completion times).

    Returns:
        ``another_time`` when misses have a time pattern, else ``smaller`` for long sessions,
        else ``stack_trigger`` when there is no anchor, else a smaller first step.
    """
    cfg = config or DetectionConfig()
    recent = [o for o in activity.outcomes if 0 < (today - o.on).days <= 28]
    moved = _completion_drift(recent, activity.scheduled_time, cfg)
    if moved is not None:
        return Modification("another_time", moved)
    bad_days = _miss_weekdays(recent)
    if bad_days:
        details: dict[str, Any] = {"avoid_weekdays": bad_days}
        if activity.scheduled_time is not None:
            details["from"] = activity.scheduled_time.strftime("%H:%M")
        return Modification("another_time", details)
    minutes = activity.duration_minutes
    if minutes >= cfg.long_minutes:
        return Modification("smaller", {"from_minutes": minutes, "to_minutes": _smaller(minutes)})
    if not activity.has_stack_trigger:
        return Modification("stack_trigger", {"anchor": _anchor_for(activity.scheduled_time)})
    return Modification(
        "smaller", {"from_minutes": minutes, "to_minutes": max(1, math.floor(minutes / 2))}
    )


def _smaller(minutes: float) -> int:
    # Roughly a quarter, but a session that "counts" even on a bad day: 2 to 10 minutes.
    if minutes <= 20:
        return 2
    return 5 if minutes <= 45 else 10


def _completion_drift(
    recent: list[DayOutcome], scheduled: time | None, cfg: DetectionConfig
) -> dict[str, Any] | None:
    if scheduled is None:
        return None
    zone = ZoneInfo(cfg.zone)
    minutes = []
    for o in recent:
        if o.status == "done" and o.completed_at is not None:
            at = o.completed_at
            local = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(zone)
            minutes.append(local.hour * 60 + local.minute)
    if len(minutes) < 3:
        return None
    planned = scheduled.hour * 60 + scheduled.minute
    # Distances on the 24-hour circle, so 23:50 and 00:10 are 20 minutes apart.
    offsets = [((m - planned + 720) % 1440) - 720 for m in minutes]
    median = statistics.median(offsets)
    if abs(median) < cfg.time_drift_minutes:
        return None
    actual = round((planned + median) / 15) * 15 % 1440
    return {
        "from": scheduled.strftime("%H:%M"),
        "to": f"{int(actual) // 60:02d}:{int(actual) % 60:02d}",
    }


def _miss_weekdays(recent: list[DayOutcome]) -> list[str]:
    misses = Counter(o.on.weekday() for o in recent if o.status == "missed")
    total = sum(misses.values())
    scheduled = Counter(o.on.weekday() for o in recent if o.status != "skipped")
    # A bad weekday recurs: missed in at least two different weeks and at least half the time.
    # Three misses in a row (Fri, Sat, Sun) are a lapse, not a weekday pattern.
    bad = [d for d, n in misses.items() if n >= 2 and n / scheduled[d] >= 0.5]
    if not bad or len(bad) > 2:
        return []
    if sum(misses[d] for d in bad) < 2 / 3 * total:
        return []
    return [_WEEKDAY_NAMES[d] for d in sorted(bad)]


def _anchor_for(scheduled: time | None) -> str:
    if scheduled is None or scheduled.hour < 11:
        return "after your morning coffee"
    if scheduled.hour < 15:
        return "after lunch"
    if scheduled.hour < 21:
        return "after dinner"
    return "after brushing your teeth at night"


_OPENERS: dict[ReasonCode, str] = {
    "lapse_after_streak": "Your {title} streak was going strong, and the last few days slipped "
    "by. One small session today picks it right back up.",
    "completion_rate_falling": "{title} has been harder this week than in the weeks before. "
    "That happens; a small change can make it fit again.",
    "two_misses_in_a_row": "You've missed {title} twice in a row. Missing once is normal; "
    "let's keep it from becoming a pattern.",
    "phase_stalled": "{title} hasn't settled into this phase yet, so let's make it easier before "
    "moving on.",
}


def _describe(mod: Modification) -> str:
    d = mod.details
    if mod.kind == "smaller":
        return f"Try a {d['to_minutes']}-minute version for now."
    if mod.kind == "stack_trigger":
        return f"Try doing it right {d['anchor']}, so the routine reminds you."
    if "to" in d:
        return f"You usually get it done around {d['to']}; want to move it there?"
    days = ", ".join(str(day).capitalize() for day in d.get("avoid_weekdays", []))
    return f"{days} seem to be the hard days; want to move those sessions to another time?"


def describe_modification(modification: Modification) -> str:
    """Return the sentence that proposes ``modification`` to the user (the nudge's second half)."""
    return _describe(modification)


def propose_nudge(
    activity: HabitActivity, today: date, config: DetectionConfig | None = None
) -> NudgeProposal | None:
    """Detect warning signals for one habit and, if any fire, propose a nudge.

    Args:
        activity: The habit and its scheduled days through yesterday.
        today: The user's local today.
        config: Thresholds and the user's zone.

    Returns:
        The proposal, or ``None`` when the habit looks fine.
    """
    signals = detect_signals(activity, today, config)
    if not signals:
        return None
    modification = choose_modification(activity, today, config)
    opener = _OPENERS[signals[0]].format(title=activity.title)
    return NudgeProposal(
        habit_id=activity.habit_id,
        reason=signals[0],
        message=f"{opener} {_describe(modification)}",
        modification=modification,
        signals=signals,
    )


@dataclass(frozen=True, slots=True)
class NudgeContext:
    """What the send policy needs to know about the user.

    Attributes:
        zone: The user's IANA zone.
        day_start: When the user's day begins; a start after midnight moves their night later.
        chronotype: Shapes the default quiet hours.
        quiet_start: An explicit start of quiet hours, overriding the default.
        quiet_end: An explicit end of quiet hours.
        last_nudge_at: When the user last received any nudge.
        last_nudge_by_habit: When each habit was last nudged about.
    """

    zone: str
    day_start: time = time(0, 0)
    chronotype: Chronotype | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    last_nudge_at: datetime | None = None
    last_nudge_by_habit: Mapping[str, datetime] = field(default_factory=dict)


Verdict = Literal["send", "no_proposal", "quiet_hours", "already_nudged_today", "habit_cooldown"]


@dataclass(frozen=True, slots=True)
class NudgeDecision:
    """Whether to send a nudge now, and if not, when to look again.

    Attributes:
        verdict: ``send`` or why not.
        proposal: The nudge to send (only with ``send``).
        retry_at: The earliest instant the policy would allow a nudge, when it is the policy
            (not the lack of a proposal) that says no.
    """

    verdict: Verdict
    proposal: NudgeProposal | None = None
    retry_at: datetime | None = None


def quiet_hours(ctx: NudgeContext) -> tuple[time, time]:
    """Return the user's quiet hours as local (start, end); the window may wrap midnight.

    Explicit settings win. Otherwise the night runs from an hour before the chronotype's usual
    bedtime to an hour after its usual waking (22:00–08:00 for a neutral chronotype), moved later
    by ``day_start`` when the user's day starts after midnight: someone whose day starts at 03:00
    is still up at 01:00.
    """
    if ctx.quiet_start is not None and ctx.quiet_end is not None:
        return ctx.quiet_start, ctx.quiet_end
    rhythm = rhythm_of(ctx.chronotype)
    shift = ctx.day_start.hour * 60 + ctx.day_start.minute if ctx.day_start.hour < 12 else 0
    start = (rhythm.sleep - 60 + shift) % 1440
    end = (rhythm.wake + 60 + shift) % 1440
    return time(start // 60, start % 60), time(end // 60, end % 60)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def _next_wall_time(after: datetime, wall: time, zone: ZoneInfo) -> datetime:
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), wall, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), wall, tzinfo=zone)
    return candidate.astimezone(UTC)


def release_time(now: datetime, ctx: NudgeContext) -> datetime:
    """When a stored nudge that is due at ``now`` may go out.

    A nudge is decided outside quiet hours, but it can be published later than planned (the
    publisher was down or behind); if that is in the user's night it waits for the morning.

    Args:
        now: The publishing instant (aware).
        ctx: The user's zone and rhythm (the nudge history is not read).

    Returns:
        ``now``, or the end of the quiet hours ``now`` falls in.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(ctx.zone)
    start, end = quiet_hours(ctx)
    if _in_window(now.astimezone(zone).time(), start, end):
        return _next_wall_time(now, end, zone)
    return now


def decide_nudge(
    proposals: Sequence[NudgeProposal],
    now: datetime,
    ctx: NudgeContext,
    habit_cooldown: timedelta = timedelta(days=3),
) -> NudgeDecision:
    """Apply the send policy to a user's proposals and pick at most one.

    Rules: never during quiet hours; at most one nudge per user per local day (the day as the
    metrics define it, from ``day_start``); not the same habit again within ``habit_cooldown``.
    Among the proposals left, the most severe wins (ties: the order given).

    Args:
        proposals: This user's proposals, e.g. one per struggling habit.
        now: The current instant (aware).
        ctx: The user's zone, rhythm and nudge history.
        habit_cooldown: Minimum time between two nudges about the same habit.

    Returns:
        The decision; ``retry_at`` says when the policy would next allow a nudge.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not proposals:
        return NudgeDecision("no_proposal")
    zone = ZoneInfo(ctx.zone)
    start, end = quiet_hours(ctx)
    local_now = now.astimezone(zone)
    if _in_window(local_now.time(), start, end):
        return NudgeDecision("quiet_hours", retry_at=_next_wall_time(now, end, zone))
    today = local_today(now, ctx.zone, ctx.day_start)
    if ctx.last_nudge_at is not None and (
        local_today(ctx.last_nudge_at, ctx.zone, ctx.day_start) >= today
    ):
        next_day = datetime.combine(today + timedelta(days=1), ctx.day_start, tzinfo=zone)
        retry = next_day.astimezone(UTC)
        if _in_window(next_day.time(), start, end):
            retry = _next_wall_time(retry, end, zone)
        return NudgeDecision("already_nudged_today", retry_at=retry)
    eligible = [
        p
        for p in proposals
        if p.habit_id not in ctx.last_nudge_by_habit
        or now - ctx.last_nudge_by_habit[p.habit_id] >= habit_cooldown
    ]
    if not eligible:
        soonest = min(ctx.last_nudge_by_habit[p.habit_id] for p in proposals) + habit_cooldown
        return NudgeDecision("habit_cooldown", retry_at=soonest.astimezone(UTC))
    best = max(eligible, key=lambda p: p.severity)
    return NudgeDecision("send", proposal=best)
