from datetime import UTC, datetime, timedelta

import pytest

from services.learning.preferences import (
    DEFAULTS,
    AIPreferences,
    ExplicitPreferences,
    FeedbackEvent,
    resolve,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def rating(value: int, chars: int = 400, emoji: bool | None = None, days_ago: int = 1):
    return FeedbackEvent(
        "message_rating",
        NOW - timedelta(days=days_ago),
        rating=value,
        message_chars=chars,
        message_had_emoji=emoji,
    )


def comment(text: str) -> FeedbackEvent:
    return FeedbackEvent("comment", NOW - timedelta(days=1), text=text)


def answers(accepted: int, dismissed: int) -> list[FeedbackEvent]:
    at = NOW - timedelta(days=2)
    return [FeedbackEvent("suggestion_accepted", at)] * accepted + [
        FeedbackEvent("suggestion_dismissed", at)
    ] * dismissed


def test_nothing_known_gives_the_defaults():
    resolved = resolve(None, [], NOW)
    assert resolved.preferences == DEFAULTS == AIPreferences()
    assert set(resolved.sources.values()) == {"default"}
    assert resolved.reasons == {}


def test_thumbs_down_on_long_messages_means_concise():
    events = [rating(-1, 900), rating(-1, 1200), rating(1, 900), rating(1, 150), rating(1, 200)]
    resolved = resolve(None, events, NOW)
    assert resolved.preferences.communication_style == "concise"
    assert resolved.preferences.detail_level == "minimal"
    assert resolved.sources["communication_style"] == "inferred"
    assert "2 of 3 long answers" in resolved.reasons["detail_level"]


def test_one_vote_is_not_enough():
    assert resolve(None, [rating(-1, 900)], NOW).preferences == DEFAULTS


def test_dislike_everywhere_says_nothing_about_length():
    events = [rating(-1, 900), rating(-1, 900), rating(-1, 100), rating(-1, 100)]
    assert (
        resolve(None, events, NOW).preferences.communication_style == DEFAULTS.communication_style
    )


def test_liking_long_answers_means_detailed():
    events = [rating(1, 900)] * 3 + [rating(-1, 100), rating(0, 100)]
    prefs = resolve(None, events, NOW).preferences
    assert (prefs.communication_style, prefs.detail_level) == ("detailed", "comprehensive")


def test_explicit_values_win():
    events = [rating(-1, 900)] * 4 + answers(0, 10)
    explicit = ExplicitPreferences(communication_style="detailed", proactive_suggestions=True)
    resolved = resolve(explicit, events, NOW)
    assert resolved.preferences.communication_style == "detailed"
    assert resolved.sources["communication_style"] == "explicit"
    assert resolved.preferences.detail_level == "minimal"  # not set, so still inferred
    assert resolved.preferences.proactive_suggestions is True
    assert resolved.preferences.notification_frequency == "minimal"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("way too long, tl;dr", "communication_style", "concise"),
        ("Could you explain more?", "detail_level", "comprehensive"),
        ("Just tell me, don't sugarcoat it", "communication_style", "direct"),
        ("That was too harsh", "communication_style", "encouraging"),
        ("no emoji please", "emoji_preference", "never"),
        ("I love the emoji!", "emoji_preference", "often"),
    ],
)
def test_comments(text, field, value):
    resolved = resolve(None, [comment(text)], NOW)
    assert getattr(resolved.preferences, field) == value
    assert resolved.sources[field] == "inferred"


def test_emoji_disliked():
    events = [rating(-1, emoji=True)] * 3 + [rating(1, emoji=False)] * 3
    assert resolve(None, events, NOW).preferences.emoji_preference == "never"


def test_emoji_liked():
    events = [rating(1, emoji=True)] * 3 + [rating(0, emoji=False)] * 3
    assert resolve(None, events, NOW).preferences.emoji_preference == "often"


@pytest.mark.parametrize(
    ("accepted", "dismissed", "frequency", "proactive"),
    [
        (2, 6, "minimal", True),
        (1, 9, "minimal", False),
        (0, 4, "moderate", True),  # too few to judge
        (5, 1, "active", True),
        (3, 3, "moderate", True),
    ],
)
def test_suggestion_answers(accepted, dismissed, frequency, proactive):
    prefs = resolve(None, answers(accepted, dismissed), NOW).preferences
    assert prefs.notification_frequency == frequency
    assert prefs.proactive_suggestions is proactive


def test_old_feedback_is_forgotten():
    events = [rating(-1, 900, days_ago=120)] * 5
    assert resolve(None, events, NOW).preferences == DEFAULTS
    future = [rating(-1, 900, days_ago=-3)] * 5
    assert resolve(None, future, NOW).preferences == DEFAULTS


def test_explicit_from_a_stored_row():
    row = {"communication_style": "direct", "detail_level": None, "updated_at": "x"}
    assert ExplicitPreferences.from_mapping(row) == ExplicitPreferences(
        communication_style="direct"
    )
    assert (
        ExplicitPreferences.from_mapping({"proactive_suggestions": False}).proactive_suggestions
        is False
    )
    for bad in (
        {"communication_style": "shouty"},
        {"proactive_suggestions": "yes"},
        {"detail_level": True},
    ):
        with pytest.raises(ValueError):
            ExplicitPreferences.from_mapping(bad)
