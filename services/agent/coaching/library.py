"""Loads the coaching data once, validates it, and picks a goal's domain.

:func:`library` reads ``services/agent/coaching`` on first use and keeps the result (a coach adds a
domain by adding ``domains/<name>.yaml``; :func:`load_library` also takes extra directories, whose
domain files add to or replace the bundled ones). A file that breaks the schema raises
:class:`CoachingDataError` naming the file and the field, so a bad file fails at start-up rather
than mid-conversation.

:meth:`CoachingLibrary.select` chooses a goal's domain from the domain files' ``cues``: the
domain whose cues match the goal text most often wins; a tie, or no match at all, keeps the
domain the understanding found (``Understanding.subdomain``), and ``general`` is the fallback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from services.agent.coaching.schema import (
    Anchors,
    DomainSpec,
    Modifications,
    Overload,
    TonePhrases,
)

DATA_DIR = Path(__file__).resolve().parent
FALLBACK_DOMAIN = "general"

M = TypeVar("M", bound=BaseModel)


class CoachingDataError(ValueError):
    """A coaching data file is missing, not YAML, or breaks the schema."""


def _location(loc: Iterable[int | str]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_file(path: Path, model: type[M]) -> M:
    """Read and validate one YAML file.

    Args:
        path: The file.
        model: The schema it must match.

    Returns:
        The validated data.

    Raises:
        CoachingDataError: Naming the file and, for schema errors, each bad field.
    """
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CoachingDataError(f"{path}: cannot read: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CoachingDataError(f"{path}: {problems}") from exc


def _cue_pattern(cue: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in cue.lower().split())
    return re.compile(rf"(?<!\w){words}(?!\w)")


@dataclass(frozen=True)
class CoachingLibrary:
    """All coaching data: domains by name, modifications, tone, anchors, overload rules."""

    domains: Mapping[str, DomainSpec]
    modifications: Modifications
    tone: TonePhrases
    anchors: Anchors
    overload: Overload

    def domain(self, name: str | None) -> DomainSpec:
        """A domain by name, or the fallback domain."""
        return self.domains.get(name or "", self.domains[FALLBACK_DOMAIN])

    @functools.cached_property
    def _cues(self) -> dict[str, tuple[re.Pattern[str], ...]]:
        return {n: tuple(_cue_pattern(c) for c in d.cues) for n, d in self.domains.items()}

    def cue_hits(self, text: str) -> dict[str, int]:
        """How many of each domain's cues occur in ``text`` (domains with none left out)."""
        lowered = text.lower()
        hits = {n: sum(1 for p in ps if p.search(lowered)) for n, ps in self._cues.items()}
        return {n: h for n, h in hits.items() if h}

    def select(self, text: str, understood: str | None) -> str:
        """The domain of a goal: the best cue match, else what the understanding found.

        Args:
            text: The goal as the user said it (its subject may be appended).
            understood: ``Understanding.subdomain``, if any.

        Returns:
            A name in :attr:`domains`.
        """
        hits = self.cue_hits(text)
        kept = understood if understood is not None and understood in self.domains else None
        kept = kept or FALLBACK_DOMAIN
        if not hits:
            return kept
        best = max(hits.values())
        if hits.get(kept, 0) == best:
            return kept
        return min(n for n, h in hits.items() if h == best)


def load_library(dirs: Iterable[Path] = ()) -> CoachingLibrary:
    """Load the bundled data, then each extra directory's ``domains/*.yaml`` (or ``*.yaml``).

    Args:
        dirs: Extra directories; a domain file there replaces a bundled one of the same name.

    Returns:
        The validated library.

    Raises:
        CoachingDataError: On the first file that breaks its schema.
    """
    domains: dict[str, DomainSpec] = {}
    for directory in (DATA_DIR / "domains", *dirs):
        directory = Path(directory)
        if (directory / "domains").is_dir():
            directory = directory / "domains"
        for path in sorted(directory.glob("*.yaml")):
            domains[path.stem] = load_file(path, DomainSpec)
    if FALLBACK_DOMAIN not in domains:
        raise CoachingDataError(f"{DATA_DIR / 'domains'}: no {FALLBACK_DOMAIN}.yaml domain")
    return CoachingLibrary(
        domains=domains,
        modifications=load_file(DATA_DIR / "modifications.yaml", Modifications),
        tone=load_file(DATA_DIR / "tone.yaml", TonePhrases),
        anchors=load_file(DATA_DIR / "anchors.yaml", Anchors),
        overload=load_file(DATA_DIR / "overload.yaml", Overload),
    )


@functools.cache
def library() -> CoachingLibrary:
    """The process's library, loaded on first use (see the module docstring)."""
    return load_library()
