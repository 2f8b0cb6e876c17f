"""How the assistant should talk to a user: explicit settings first, then what feedback shows.

The fields are those of the ``user_ai_preferences`` table. A value the user set explicitly always
wins. A field the user left unset is inferred from their feedback of the last ``WINDOW_DAYS``
days when the evidence is clear, and otherwise takes the default. Every resolved field carries
its source and, when inferred, the reason, so the assistant can say "I've kept things short
since you've been down-voting long answers" and the user can override it.

Inference rules (thresholds in ``InferenceConfig``):

- **Length** (``communication_style`` and ``detail_level``): thumbs-down concentrated on long
  messages, or a comment such as "too long", means concise and minimal; thumbs-down
  concentrated on short ones, thumbs-up concentrated on long ones, or "more detail", means
  detailed and comprehensive.
- **Tone** (``communication_style`` when length says nothing): "just tell me", "be direct" →
  direct; "too harsh", "be nicer" → encouraging.
- **Emoji**: thumbs-down concentrated on messages with emoji, or "no emoji" → never; thumbs-up
  concentrated on them, or "more emoji" → often.
- **Suggestions**: dismissing most proactive suggestions → ``notification_frequency`` minimal,
  and when nearly all are dismissed, ``proactive_suggestions`` off; accepting most → active.

"Concentrated" means the rate on one side is at least ``min_gap`` above the other side's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

CommunicationStyle = Literal["concise", "detailed", "encouraging", "direct"]
DetailLevel = Literal["minimal", "moderate", "comprehensive"]
EmojiPreference = Literal["never", "rarely", "sometimes", "often"]
NotificationFrequency = Literal["minimal", "moderate", "active"]
FeedbackKind = Literal[
    "message_rating", "suggestion_accepted", "suggestion_dismissed", "sequence_abandoned", "comment"
]
Source = Literal["explicit", "inferred", "default"]

WINDOW_DAYS = 90

_ALLOWED: dict[str, tuple[Any, ...]] = {
    "communication_style": get_args(CommunicationStyle),
    "detail_level": get_args(DetailLevel),
    "emoji_preference": get_args(EmojiPreference),
    "notification_frequency": get_args(NotificationFrequency),
    "proactive_suggestions": (True, False),
}

_CONCISE_WORDS = ("too long", "shorter", "tl;dr", "tldr", "too much text", "get to the point")
_DETAILED_WORDS = ("more detail", "explain more", "too short", "elaborate", "more info")
_DIRECT_WORDS = ("be direct", "just tell me", "sugarcoat", "too fluffy", "less cheerful")
_GENTLE_WORDS = ("too harsh", "be nicer", "too blunt", "discouraging", "rude")
_NO_EMOJI_WORDS = ("no emoji", "stop with the emoji", "fewer emoji", "without emoji")
_MORE_EMOJI_WORDS = ("more emoji", "love the emoji")


@dataclass(frozen=True, slots=True)
class AIPreferences:
    """A complete set of assistant preferences (one ``user_ai_preferences`` row's values)."""

    communication_style: CommunicationStyle = "encouraging"
    detail_level: DetailLevel = "moderate"
    emoji_preference: EmojiPreference = "rarely"
    notification_frequency: NotificationFrequency = "moderate"
    proactive_suggestions: bool = True


DEFAULTS = AIPreferences()
"""Encouraging and moderately detailed, as the spec's system prompt asks; few emoji; moderate
notifications; proactive suggestions on."""


@dataclass(frozen=True, slots=True)
class ExplicitPreferences:
    """What the user set themselves; ``None`` means "not set"."""

    communication_style: CommunicationStyle | None = None
    detail_level: DetailLevel | None = None
    emoji_preference: EmojiPreference | None = None
    notification_frequency: NotificationFrequency | None = None
    proactive_suggestions: bool | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ExplicitPreferences:
        """Build from a stored row or request body, ignoring unknown keys and ``None`` values.

        Raises:
            ValueError: If a known field has a value outside its allowed set.
        """
        chosen: dict[str, Any] = {}
        for name, allowed in _ALLOWED.items():
            value = values.get(name)
            if value is None:
                continue
            if value not in allowed or (name == "proactive_suggestions") != isinstance(value, bool):
                raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
            chosen[name] = value
        return cls(**chosen)


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """One piece of feedback, as recorded by ``POST /v1/feedback``.

    Attributes:
        kind: The feedback kind.
        occurred_at: When it was given (aware).
        rating: -1, 0 or 1 for ``message_rating``.
        message_chars: Length of the rated assistant message, when known.
        message_had_emoji: Whether the rated message contained emoji, when known.
        text: The comment's text, for ``comment``.
    """

    kind: FeedbackKind
    occurred_at: datetime
    rating: int | None = None
    message_chars: int | None = None
    message_had_emoji: bool | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class InferenceConfig:
    """Thresholds of the inference rules.

    Attributes:
        long_chars: Messages at least this long count as long.
        short_chars: Messages at most this long count as short.
        min_votes: Ratings needed on the side that shows a preference.
        min_gap: How much higher one side's rate must be to count as concentrated.
        min_suggestions: Suggestions answered before frequency is inferred.
        dismiss_rate: Dismissal share that lowers notification frequency.
        mute_rate: Dismissal share that turns proactive suggestions off.
        min_suggestions_to_mute: Suggestions answered before they are turned off.
        accept_rate: Acceptance share that raises notification frequency.
    """

    long_chars: int = 600
    short_chars: int = 250
    min_votes: int = 2
    min_gap: float = 0.25
    min_suggestions: int = 5
    dismiss_rate: float = 0.6
    mute_rate: float = 0.85
    min_suggestions_to_mute: int = 8
    accept_rate: float = 0.6


@dataclass(frozen=True, slots=True)
class ResolvedPreferences:
    """The preferences in effect and where each came from.

    Attributes:
        preferences: The values to use.
        sources: ``explicit``, ``inferred`` or ``default`` per field.
        reasons: For inferred fields, why.
    """

    preferences: AIPreferences
    sources: Mapping[str, Source] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    down: int = 0
    up: int = 0
    total: int = 0

    def add(self, rating: int) -> None:
        self.total += 1
        self.down += rating < 0
        self.up += rating > 0

    def down_rate(self) -> float:
        return self.down / self.total if self.total else 0.0

    def up_rate(self) -> float:
        return self.up / self.total if self.total else 0.0


def _leans(side: _Tally, other: _Tally, cfg: InferenceConfig, negative: bool) -> bool:
    """Whether ratings on ``side`` are clearly more negative (or positive) than on ``other``."""
    votes = side.down if negative else side.up
    rate = side.down_rate() if negative else side.up_rate()
    other_rate = other.down_rate() if negative else other.up_rate()
    return votes >= cfg.min_votes and rate >= 0.5 and rate - other_rate >= cfg.min_gap


def _mentions(comments: list[str], words: tuple[str, ...]) -> int:
    return sum(any(w in c for w in words) for c in comments)


def infer_preferences(
    events: Sequence[FeedbackEvent], now: datetime, config: InferenceConfig | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Infer preference values from feedback, leaving out fields without clear evidence.

    Args:
        events: The user's feedback, any order.
        now: The current instant; only the last ``WINDOW_DAYS`` days count.
        config: Thresholds.

    Returns:
        The inferred values by field, and the reason for each.
    """
    cfg = config or InferenceConfig()
    since = now - timedelta(days=WINDOW_DAYS)
    recent = [e for e in events if since <= e.occurred_at <= now]
    long, short, emoji, plain = _Tally(), _Tally(), _Tally(), _Tally()
    accepted = dismissed = 0
    comments: list[str] = []
    for e in recent:
        if e.kind == "message_rating" and e.rating is not None:
            if e.message_chars is not None and e.message_chars >= cfg.long_chars:
                long.add(e.rating)
            elif e.message_chars is not None and e.message_chars <= cfg.short_chars:
                short.add(e.rating)
            if e.message_had_emoji is not None:
                (emoji if e.message_had_emoji else plain).add(e.rating)
        elif e.kind == "suggestion_accepted":
            accepted += 1
        elif e.kind == "suggestion_dismissed":
            dismissed += 1
        elif e.kind == "comment" and e.text:
            comments.append(e.text.lower())

    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    wants_short = _mentions(comments, _CONCISE_WORDS)
    wants_long = _mentions(comments, _DETAILED_WORDS)
    rated_fuller = _leans(short, long, cfg, negative=True) or _leans(long, short, cfg, False)
    if _leans(long, short, cfg, negative=True) or wants_short > wants_long:
        values.update(communication_style="concise", detail_level="minimal")
        why = "you asked for shorter answers"
        if _leans(long, short, cfg, negative=True):
            why = f"{long.down} of {long.total} long answers got a thumbs-down"
        reasons.update(communication_style=why, detail_level=why)
    elif rated_fuller or wants_long > wants_short:
        values.update(communication_style="detailed", detail_level="comprehensive")
        why = "you rated fuller answers higher" if rated_fuller else "you asked for more detail"
        reasons.update(communication_style=why, detail_level=why)
    else:
        direct, gentle = _mentions(comments, _DIRECT_WORDS), _mentions(comments, _GENTLE_WORDS)
        if direct > gentle:
            values["communication_style"] = "direct"
            reasons["communication_style"] = "you asked for straight answers"
        elif gentle > direct:
            values["communication_style"] = "encouraging"
            reasons["communication_style"] = "you asked for a gentler tone"

    no_emoji, more_emoji = (
        _mentions(comments, _NO_EMOJI_WORDS),
        _mentions(comments, _MORE_EMOJI_WORDS),
    )
    if _leans(emoji, plain, cfg, negative=True) or no_emoji > more_emoji:
        values["emoji_preference"] = "never"
        reasons["emoji_preference"] = "messages with emoji went down badly"
    elif _leans(emoji, plain, cfg, negative=False) or more_emoji > no_emoji:
        values["emoji_preference"] = "often"
        reasons["emoji_preference"] = "messages with emoji went down well"

    answered = accepted + dismissed
    if answered >= cfg.min_suggestions:
        share = dismissed / answered
        if share >= cfg.dismiss_rate:
            values["notification_frequency"] = "minimal"
            reasons["notification_frequency"] = f"{dismissed} of {answered} suggestions dismissed"
            if share >= cfg.mute_rate and answered >= cfg.min_suggestions_to_mute:
                values["proactive_suggestions"] = False
                reasons["proactive_suggestions"] = reasons["notification_frequency"]
        elif accepted / answered >= cfg.accept_rate:
            values["notification_frequency"] = "active"
            reasons["notification_frequency"] = f"{accepted} of {answered} suggestions accepted"
    return values, reasons


def resolve(
    explicit: ExplicitPreferences | None,
    feedback_events: Sequence[FeedbackEvent],
    now: datetime,
    config: InferenceConfig | None = None,
) -> ResolvedPreferences:
    """Return the preferences in effect: explicit values, else inferred ones, else defaults.

    Args:
        explicit: What the user set (``None`` or ``None`` fields for "not set").
        feedback_events: The user's feedback events.
        now: The current instant, for the recency window.
        config: Inference thresholds.

    Returns:
        The preferences and, per field, its source and (when inferred) the reason.
    """
    inferred, why = infer_preferences(feedback_events, now, config)
    return combine(explicit, inferred, why)


def combine(
    explicit: ExplicitPreferences | None,
    inferred: Mapping[str, Any],
    reasons: Mapping[str, str],
) -> ResolvedPreferences:
    """Apply the precedence explicit, then inferred, then default, to values already inferred.

    ``resolve`` is ``infer_preferences`` followed by this; a service that stores the inferred
    values (so a hot path need not re-read months of feedback) calls this one directly.

    Args:
        explicit: What the user set (``None`` or ``None`` fields for "not set").
        inferred: Inferred values by field, as ``infer_preferences`` returns them; fields with
            values outside their allowed set are ignored.
        reasons: The reason for each inferred field.

    Returns:
        The preferences and, per field, its source and (when inferred) the reason.
    """
    chosen = explicit or ExplicitPreferences()
    result = DEFAULTS
    sources: dict[str, Source] = {}
    why: dict[str, str] = {}
    for f in fields(AIPreferences):
        value = getattr(chosen, f.name)
        guess = inferred.get(f.name)
        if value is not None:
            result = replace(result, **{f.name: value})
            sources[f.name] = "explicit"
        elif guess is not None and guess in _ALLOWED[f.name]:
            result = replace(result, **{f.name: guess})
            sources[f.name] = "inferred"
            why[f.name] = reasons.get(f.name, "")
        else:
            sources[f.name] = "default"
    return ResolvedPreferences(preferences=result, sources=sources, reasons=why)
