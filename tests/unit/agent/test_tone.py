from __future__ import annotations

from datetime import date

import pytest

from services.agent.tone import AIPreferences, apply_tone, choose_tone
from services.agent.understanding import Sentiment, understand

TODAY = date(2025, 1, 15)
FRUSTRATED = Sentiment(label="negative", score=-0.8, frustration=True)
HAPPY = Sentiment(label="positive", score=0.7, frustration=False)
NEUTRAL = Sentiment(label="neutral", score=0.0, frustration=False)


def test_frustration_gets_an_empathetic_opener() -> None:
    tone = choose_tone(FRUSTRATED)
    assert tone.voice == "empathetic"
    assert "frustrating" in tone.opener
    assert "never blame" in tone.instructions


def test_achievement_is_celebrated() -> None:
    message = "I just hit a 30 day streak on meditation!!"
    result = understand(message, TODAY)
    tone = choose_tone(result.sentiment, intent=result.intent, achievement=result.achievement)
    assert tone.voice == "celebratory"
    assert tone.emoji  # the default preference allows an emoji for celebrations
    assert apply_tone(tone, "Thirty days is huge.").startswith(tone.opener)


@pytest.mark.parametrize("sentiment", [FRUSTRATED, HAPPY, NEUTRAL])
@pytest.mark.parametrize("style", ["concise", "detailed", "encouraging", "direct"])
def test_never_means_no_emoji(sentiment: Sentiment, style: str) -> None:
    prefs = AIPreferences(communication_style=style, emoji_preference="never")
    tone = choose_tone(sentiment, prefs, achievement=True)
    assert tone.emoji == ""
    assert "Use no emoji" in tone.instructions
    reply = apply_tone(tone, "Body.")
    assert all(ord(ch) < 0x2000 for ch in reply)


def test_emoji_frequency_follows_preference() -> None:
    rarely = AIPreferences(emoji_preference="rarely")
    often = AIPreferences(emoji_preference="often")
    assert choose_tone(HAPPY, rarely, achievement=True).emoji
    assert not choose_tone(FRUSTRATED, rarely).emoji
    assert choose_tone(FRUSTRATED, often).emoji


def test_concise_and_direct_users_get_short_replies() -> None:
    concise = choose_tone(NEUTRAL, AIPreferences(communication_style="concise"))
    detailed = choose_tone(
        NEUTRAL, AIPreferences(communication_style="detailed", detail_level="comprehensive")
    )
    assert concise.max_sentences < detailed.max_sentences
    assert not concise.explain_rationale
    assert detailed.explain_rationale
    assert len(concise.opener) < len(detailed.opener)
    direct = choose_tone(FRUSTRATED, AIPreferences(communication_style="direct"))
    assert direct.opener == "That's frustrating. Let's fix it."


def test_apply_tone_skips_empty_parts() -> None:
    tone = choose_tone(NEUTRAL, AIPreferences(communication_style="direct"), intent="insights")
    assert tone.closer == ""
    assert apply_tone(tone, "  Three habits are on track.  ") == (
        f"{tone.opener}\n\nThree habits are on track."
    )
