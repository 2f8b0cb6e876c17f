"""Reply tone: how the assistant should sound, from the user's mood and AI preferences.

The spec asks for empathy when users are frustrated, celebration when they achieve something, and
respect for their stored preferences (``communication_style`` concise | detailed | encouraging |
direct, ``detail_level`` minimal | moderate | comprehensive, ``emoji_preference`` never | rarely |
sometimes | often). :func:`choose_tone` turns those into a small, deterministic :class:`Tone` that
both the offline planner (which writes replies from it) and the LLM path (which puts its
``instructions`` into the system prompt) use. :func:`apply_tone` wraps a reply body in it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.agent.coaching.library import library
from services.agent.coaching.schema import VoicePhrases
from services.agent.understanding import Intent, Sentiment

CommunicationStyle = Literal["concise", "detailed", "encouraging", "direct"]
DetailLevel = Literal["minimal", "moderate", "comprehensive"]
EmojiPreference = Literal["never", "rarely", "sometimes", "often"]
Voice = Literal["empathetic", "celebratory", "encouraging", "neutral", "direct"]

_FROZEN = ConfigDict(frozen=True)


class AIPreferences(BaseModel):
    """The user's stored AI preferences (``user_ai_preferences`` in the spec)."""

    model_config = _FROZEN

    communication_style: CommunicationStyle = "encouraging"
    detail_level: DetailLevel = "moderate"
    emoji_preference: EmojiPreference = "sometimes"


class Tone(BaseModel):
    """How to phrase one reply."""

    model_config = _FROZEN

    voice: Voice
    opener: str
    closer: str
    emoji: str
    max_sentences: int
    explain_rationale: bool
    instructions: str


def _phrases(voice: Voice) -> VoicePhrases:
    phrases: VoicePhrases = getattr(library().tone, voice)
    return phrases


def _voice(
    sentiment: Sentiment, style: CommunicationStyle, intent: Intent | None, achievement: bool
) -> Voice:
    if sentiment.frustration or sentiment.label == "negative":
        return "empathetic"
    if achievement or (sentiment.label == "positive" and intent == "motivation"):
        return "celebratory"
    if style == "direct" or style == "concise":
        return "direct" if intent not in ("motivation", "goal_setting") else "neutral"
    if style == "encouraging" or intent in ("motivation", "goal_setting"):
        return "encouraging"
    return "neutral"


def _use_emoji(preference: EmojiPreference, voice: Voice) -> bool:
    if preference == "never" or not _phrases(voice).emoji:
        return False
    if preference == "rarely":
        return voice == "celebratory"
    if preference == "sometimes":
        return voice in ("celebratory", "encouraging")
    return True


def choose_tone(
    sentiment: Sentiment,
    preferences: AIPreferences | None = None,
    *,
    intent: Intent | None = None,
    achievement: bool = False,
) -> Tone:
    """Choose the tone of a reply.

    Args:
        sentiment: The sentiment of the user's message.
        preferences: The user's AI preferences; defaults (encouraging, moderate, sometimes) when
            none are stored.
        intent: The message's intent, if known: motivation and goal setting lean encouraging.
        achievement: Whether the user reports an achievement (a streak, a milestone).

    Returns:
        The voice, an opener and a closer in that voice, the emoji to use (empty when the
        user doesn't want one), a sentence budget, whether to explain the reasoning behind
        suggestions, and instructions for an LLM.
    """
    prefs = preferences or AIPreferences()
    voice = _voice(sentiment, prefs.communication_style, intent, achievement)
    short = prefs.communication_style in ("concise", "direct")
    opener = _phrases(voice).opener[1 if short else 0]
    closer = _phrases(voice).closer[1 if short else 0]
    emoji = _phrases(voice).emoji if _use_emoji(prefs.emoji_preference, voice) else ""

    sentences = {"concise": 3, "direct": 4, "encouraging": 6, "detailed": 10}[
        prefs.communication_style
    ]
    sentences += {"minimal": -1, "moderate": 0, "comprehensive": 3}[prefs.detail_level]
    explain = prefs.detail_level != "minimal" and prefs.communication_style != "concise"

    instructions = _phrases(voice).instructions
    instructions += f" Keep it to at most {max(2, sentences)} sentences"
    instructions += ", and explain why each suggestion helps." if explain else "."
    instructions += " Use no emoji." if not emoji else f" At most one emoji ({emoji})."
    return Tone(
        voice=voice,
        opener=opener,
        closer=closer,
        emoji=emoji,
        max_sentences=max(2, sentences),
        explain_rationale=explain,
        instructions=instructions,
    )


def apply_tone(tone: Tone, body: str) -> str:
    """Wrap a reply body with the tone's opener, closer and emoji.

    Args:
        tone: The tone from :func:`choose_tone`.
        body: The substance of the reply.

    Returns:
        The full reply text.
    """
    opener = f"{tone.opener} {tone.emoji}" if tone.emoji else tone.opener
    parts = [opener.strip(), body.strip(), tone.closer.strip()]
    return "\n\n".join(part for part in parts if part)
