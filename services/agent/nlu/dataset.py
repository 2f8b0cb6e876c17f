"""The labelled utterances under ``data/``, and the fixed train/dev split.

Each line is one JSON object: ``text``, ``intent`` (one of :data:`HEAD_INTENTS`), and, where they
apply, ``action`` (habit actions), ``reason`` (out-of-scope reasons), ``sentiment``,
``frustration``, ``chronotype`` and ``achievement``. The dev split is one hand-written sentence in
five, chosen by a hash of its text so it never moves; generated template rows always train, as
near-copies of them in dev would flatter the scores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.agent.nlu.schema import INTENTS

DATA = Path(__file__).parent / "data"
# The heads' columns: every intent of the schema, then "unsafe" (model.npz keeps this order).
HEAD_INTENTS: tuple[str, ...] = (*INTENTS, "unsafe")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: dict[str, Any]
    source: str

    @property
    def dev(self) -> bool:
        """Whether this example belongs to the dev split."""
        if self.source != "handwritten":
            return False
        return hashlib.sha1(self.text.lower().encode()).digest()[0] % 5 == 0


def load_examples(folder: Path = DATA) -> list[Example]:
    """Every labelled row of every ``*.jsonl`` file in ``folder``, checked."""
    out: list[Example] = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("intent") not in HEAD_INTENTS or not row.get("text"):
                raise ValueError(f"{path.name}:{number}: bad row {row!r}")
            text = row.pop("text")
            out.append(Example(text=text, labels=row, source=path.stem))
    return out
