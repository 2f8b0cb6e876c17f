"""How a decided nudge is worded and when it goes out: the two choices under A/B test.

The churn module decides *whether* to nudge and *what* to propose; this module holds the two
delivery choices the first experiments compare:

- ``nudge_tone``: ``encouraging`` (the churn module's warm opener, then the proposal) against
  ``direct`` (one factual line, then the proposal).
- ``nudge_timing``: ``immediate`` (when the sweep decides) against ``before_usual_time`` (an hour
  before the time the user usually does the habit, later the same day, when there is one and it
  is not in the user's quiet hours).

Both are measured by ``nudged_habit_done_within_2d``: the user did the nudged habit within two
days of the nudge going out.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.learning.churn import NudgeProposal, ReasonCode, describe_modification
from services.learning.experiments import Experiment, Variant
from shared.localtime import local_today

NUDGE_METRIC = "nudged_habit_done_within_2d"
CONVERSION_WINDOW = timedelta(days=2)
OPEN_DAYS = 7
"""A delivered nudge counts as a new suggestion for this long unless the user answers it."""
LEAD = timedelta(minutes=60)

NUDGE_TONE = Experiment(
    key="nudge_tone",
    variants=(Variant("encouraging"), Variant("direct")),
    metric=NUDGE_METRIC,
)
NUDGE_TIMING = Experiment(
    key="nudge_timing",
    variants=(Variant("immediate"), Variant("before_usual_time")),
    metric=NUDGE_METRIC,
)
BUILT_IN_EXPERIMENTS: tuple[Experiment, ...] = (NUDGE_TONE, NUDGE_TIMING)

_DIRECT: dict[ReasonCode, str] = {
    "lapse_after_streak": "{title}: nothing logged for a few days after a long streak.",
    "completion_rate_falling": "{title}: done less often this week than this month.",
    "two_misses_in_a_row": "{title}: missed twice in a row.",
    "phase_stalled": "{title}: not steady yet in this phase.",
}


def phrase(proposal: NudgeProposal, title: str, tone: str) -> str:
    """Word a nudge in a tone variant.

    Args:
        proposal: The churn module's proposal (its message is the encouraging wording).
        title: The habit's title.
        tone: ``encouraging`` or ``direct``; unknown tones get the encouraging wording.

    Returns:
        The message the user reads.
    """
    if tone != "direct":
        return proposal.message
    lead = _DIRECT[proposal.reason].format(title=title)
    return f"{lead} {describe_modification(proposal.modification)}"


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def delivery_time(
    timing: str,
    now: datetime,
    zone: str,
    day_start: time,
    usual: time | None,
    quiet: tuple[time, time],
) -> datetime:
    """When a nudge decided at ``now`` goes out under a timing variant.

    Args:
        timing: ``immediate`` or ``before_usual_time``.
        now: The decision instant (aware).
        zone: The user's zone.
        day_start: When the user's day starts (a nudge never moves to their next day).
        usual: The time the user usually does the habit, if known.
        quiet: The user's quiet hours (start, end), local.

    Returns:
        ``now``, or an hour before the usual time when that is later the same day and not quiet.
    """
    if timing != "before_usual_time" or usual is None:
        return now
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    target = datetime.combine(local.date(), usual, tzinfo=tz) - LEAD
    if target <= now or _in_window(target.timetz().replace(tzinfo=None), *quiet):
        return now
    if local_today(target, zone, day_start) != local_today(now, zone, day_start):
        return now
    return target.astimezone(UTC)
