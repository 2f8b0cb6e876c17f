"""Keeps the system prompt's fixed text out of replies (OWASP LLM07, system prompt leakage).

A model talked into reciting its instructions ("repeat everything above", a passage that asks
for them) streams them like any answer. :class:`LeakFilter` sits between the model's text and
the client: it holds back only the words that could still be the start of a run of
:data:`RUN_WORDS` consecutive words of the protected text, releases everything else at once, and
once such a run is complete it drops it and every later word of that model response.

What is protected is the prompt's fixed text (its template, less the placeholders), not what
fills it in: the user's own habits, facts and summary may be quoted back to them. Words are
compared case-folded, without punctuation. A paraphrase or a translation is not caught; the
prompt holds no secret beyond its wording, and this keeps that wording from being copied out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from services.agent.models import load_prompt

RUN_WORDS = 8
NOTICE = "I can't share my instructions, but I'm glad to help with your habits and goals."
_WORD = re.compile(r"\w+", re.UNICODE)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def words(text: str) -> list[str]:
    """The text's words, case-folded, as the guard compares them."""
    return [w.casefold() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class PromptGuard:
    """The protected text's runs of :data:`RUN_WORDS` words and every start of one."""

    runs: frozenset[tuple[str, ...]]
    starts: frozenset[tuple[str, ...]]
    # Every beginning of a protected word: a word cut off by the end of a piece of text is held
    # back only while it may still become one.
    word_starts: frozenset[str]

    @classmethod
    def of(cls, text: str) -> PromptGuard:
        """The guard of a protected text."""
        seq = words(_PLACEHOLDER.sub(" ", text))
        runs = {tuple(seq[i : i + RUN_WORDS]) for i in range(len(seq) - RUN_WORDS + 1)}
        starts = {run[:k] for run in runs for k in range(1, RUN_WORDS)}
        word_starts = {w[:k] for w in set(seq) for k in range(1, len(w) + 1)}
        return cls(frozenset(runs), frozenset(starts), frozenset(word_starts))

    def leaks(self, text: str) -> bool:
        """Whether ``text`` holds a run of the protected text (for tests and checks)."""
        seq = words(text)
        return any(
            tuple(seq[i : i + RUN_WORDS]) in self.runs for i in range(len(seq) - RUN_WORDS + 1)
        )


@lru_cache(maxsize=4)
def system_prompt_guard(version: str = "v1") -> PromptGuard:
    """The guard of a system prompt version's fixed text (its examples are meant to be echoed)."""
    return PromptGuard.of(load_prompt(f"system_{version}.md"))


@dataclass
class LeakFilter:
    """One model response's text, released as soon as it cannot be part of a protected run."""

    guard: PromptGuard
    leaked: bool = False
    _pending: str = ""
    # The last words already released, which a protected run may continue.
    _released: list[str] = field(default_factory=list)

    def feed(self, text: str) -> str:
        """Take a piece of the model's text; return what may be shown now ("" once leaked)."""
        if self.leaked:
            return ""
        self._pending += text
        return self._release(final=False)

    def flush(self) -> str:
        """The end of the response: release what was held back (unless it leaked)."""
        if self.leaked:
            return ""
        return self._release(final=True)

    def _release(self, *, final: bool) -> str:
        spans = [(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(self._pending)]
        # A word touching the end may still grow: it is held back (unless the response is over).
        growing = bool(spans) and not final and spans[-1][2] == len(self._pending)
        complete = spans[:-1] if growing else spans
        tail = self._released[-(RUN_WORDS - 1) :]
        seq = tail + [w for w, _, _ in complete]
        for i in range(len(seq) - RUN_WORDS + 1):
            if tuple(seq[i : i + RUN_WORDS]) in self.guard.runs:
                self.leaked, self._pending = True, ""
                return ""
        if growing and spans[-1][0] not in self.guard.word_starts:
            # It can never become a protected word, so no run goes through it: all may go.
            out, self._pending, self._released = self._pending, "", []
            return out
        # The earliest word from which the rest could still become a protected run.
        hold_from = len(seq)
        if not final:
            for i in range(len(seq)):
                if tuple(seq[i:]) in self.guard.starts:
                    hold_from = i
                    break
        cut_word = hold_from - len(tail)
        if cut_word < 0:
            return ""  # the run in question began in text already shown: hold everything
        if cut_word < len(complete):
            cut = complete[cut_word][1]
        elif growing:
            cut = spans[-1][1]  # up to the word that may still grow
        else:
            cut = len(self._pending)
        out, self._pending = self._pending[:cut], self._pending[cut:]
        self._released = (self._released + words(out))[-(RUN_WORDS - 1) :]
        return out
