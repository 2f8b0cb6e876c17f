"""The classifier heads at run time: logistic regressions over MiniLM sentence embeddings.

The weights are trained by :mod:`services.agent.nlu.train` and committed as ``model.npz`` (plain
arrays, no pickle), loaded once. Inference is a matrix product and a softmax in NumPy. The
message embedding is cached per text, since one turn understands the same message more than
once (the service, then the planner).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from shared.config import CommonSettings
from shared.embedding import MiniLMEmbedder

MODEL_PATH = Path(__file__).parent / "model.npz"
HEADS: tuple[str, ...] = (
    "intent",
    "action",
    "reason",
    "sentiment",
    "frustration",
    "chronotype",
    "achievement",
)
_CACHE_SIZE = 256

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Head:
    """One softmax (or, with two classes, logistic) classifier."""

    classes: tuple[str, ...]
    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]

    def probabilities(self, vector: Vector) -> dict[str, float]:
        logits = self.coef @ vector + self.intercept
        if len(self.classes) == 2 and logits.shape[0] == 1:
            p = float(1.0 / (1.0 + np.exp(-logits[0])))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        logits = logits - logits.max()
        exp = np.exp(logits)
        probs = exp / exp.sum()
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}


@cache
def load_heads(path: Path = MODEL_PATH) -> dict[str, Head]:
    """The trained heads, read once from the committed artifact."""
    with np.load(path, allow_pickle=False) as data:
        return {
            name: Head(
                classes=tuple(str(c) for c in data[f"{name}.classes"]),
                coef=np.asarray(data[f"{name}.coef"], np.float32),
                intercept=np.asarray(data[f"{name}.intercept"], np.float32),
            )
            for name in HEADS
            if f"{name}.classes" in data
        }


class _EmbeddingCache:
    """The shared MiniLM embedder behind a small per-text LRU cache."""

    def __init__(self) -> None:
        # EMBEDDING_RUNTIME and its neighbours, as every service reads them.
        self._embedder = MiniLMEmbedder.from_settings(CommonSettings())
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, Vector] = OrderedDict()

    def vector(self, text: str) -> Vector:
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None:
                self._vectors.move_to_end(text)
                return hit
        vector: Vector = np.asarray(self._embedder.embed([text])[0], np.float32)
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > _CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector


@cache
def _embeddings() -> _EmbeddingCache:
    return _EmbeddingCache()


def embed(text: str) -> Vector:
    """The unit MiniLM embedding of ``text``, cached."""
    return _embeddings().vector(text)


def predict(text: str) -> dict[str, dict[str, float]]:
    """Class probabilities of every head for one message (as typed, not normalised)."""
    vector = embed(text)
    return {name: head.probabilities(vector) for name, head in load_heads().items()}
