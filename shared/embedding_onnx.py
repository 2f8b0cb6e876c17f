"""all-MiniLM-L6-v2 as an ONNX graph built from its NumPy weights, run by onnxruntime.

No export: torch is not installed (see docs/decisions.md), so the BERT encoder is written out here
op by op with `onnx.helper`, from the same prepared weights the NumPy forward uses, and handed to
onnxruntime as bytes in memory. Nothing is downloaded or written to disk.

The graph takes a padded batch, `input_ids` and `attention_mask` of shape (batch, tokens), and
returns the mean-pooled, L2-normalised sentence vectors (batch, 384), so one `run` is one call
from Python. onnxruntime releases the GIL while it runs, so worker threads share one session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

if TYPE_CHECKING:
    from shared.embedding import Matrix, _Weights

OPSET = 20  # LayerNormalization (17) and Gelu (20) are standard ops from here on
BLOCK = 32


def quantize_blocks(weight: Matrix) -> tuple[npt.NDArray[np.uint8], Matrix]:
    """`weight` (in, out) as MatMulNBits wants it: per output, blocks of `BLOCK` inputs in 8 bits.

    Symmetric, one float scale per block; codes are offset by 128, the op's default zero point.
    """
    rows, cols = weight.shape
    if rows % BLOCK:
        raise ValueError(f"{rows} inputs are not a whole number of {BLOCK}-weight blocks")
    blocks = weight.T.reshape(cols, rows // BLOCK, BLOCK)
    scales = np.abs(blocks).max(axis=2) / np.float32(127)
    scales[scales == 0] = 1
    codes = np.clip(np.rint(blocks / scales[..., None]), -127, 127) + 128
    return codes.astype(np.uint8), scales.reshape(-1).astype(np.float32)


class _GraphBuilder:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        # np.array, not ascontiguousarray, which would turn a 0-d scalar into shape (1,).
        array: npt.NDArray[np.generic] = np.array(value, dtype=dtype, order="C")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attributes: object) -> str:
        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        node = helper.make_node(op_type, list(inputs), [output], domain=domain or None)
        node.attribute.extend(helper.make_attribute(k, v) for k, v in attributes.items())
        self.nodes.append(node)
        return output

    def layer_norm(self, x: str, name: str, weight: Matrix, bias: Matrix, eps: float) -> str:
        """Layer normalisation over the last axis."""
        return self.op(
            "LayerNormalization",
            x,
            self.const(f"{name}_w", weight),
            self.const(f"{name}_b", bias),
            axis=-1,
            epsilon=eps,
        )

    def linear(self, x: str, name: str, weight: Matrix, bias: Matrix, *, int8: bool) -> str:
        """`x @ weight + bias`, with `weight` (in, out) in float32 or in 8-bit blocks."""
        if not int8:
            return self.op(
                "Add",
                self.op("MatMul", x, self.const(f"{name}_w", weight)),
                self.const(f"{name}_b", bias),
            )
        codes, scales = quantize_blocks(weight)
        return self.op(
            "MatMulNBits",
            x,
            self.const(f"{name}_q", codes, np.uint8),
            self.const(f"{name}_scales", scales),
            "",
            "",
            self.const(f"{name}_b", bias),
            domain="com.microsoft",
            K=weight.shape[0],
            N=weight.shape[1],
            bits=8,
            block_size=BLOCK,
            accuracy_level=4,  # int8 products (VNNI where the CPU has it)
        )


def build_model(weights: _Weights, *, heads: int, eps: float, int8: bool) -> onnx.ModelProto:
    """The encoder, mean pooling and L2 normalisation of `weights` as one ONNX model."""
    g = _GraphBuilder()
    hidden = weights.word.shape[1]
    head_dim = hidden // heads

    # Embeddings: token type 0 for every token, folded into the position table.
    ids, mask = "input_ids", "attention_mask"
    word = g.const("word_embeddings", weights.word)
    position = g.const("position_embeddings", weights.position + weights.token_type0)
    seq_len = g.op("Gather", g.op("Shape", ids), g.const("one", 1, np.int64), axis=0)
    positions = g.op("Range", g.const("zero", 0, np.int64), seq_len, g.const("step", 1, np.int64))
    x = g.op("Add", g.op("Gather", word, ids), g.op("Gather", position, positions))
    x = g.layer_norm(x, "embeddings_ln", weights.ln_w, weights.ln_b, eps)

    # Padding keys get the most negative float before the softmax: (batch, 1, 1, tokens).
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    inverted = g.op("Sub", g.const("one_f", 1.0), mask_f)
    mask_bias = g.op(
        "Unsqueeze",
        g.op("Mul", inverted, g.const("neg_large", np.finfo(np.float32).min)),
        g.const("mask_axes", [1, 2], np.int64),
    )
    # 1/sqrt(head_dim) = 1/8 is a power of two: folding it into the query weights is exact.
    scale = np.float32(1.0 / math.sqrt(head_dim))
    qkv_shape = g.const("qkv_shape", [0, 0, 3, heads, head_dim], np.int64)
    merged_shape = g.const("merged_shape", [0, 0, hidden], np.int64)

    for i, layer in enumerate(weights.layers):
        qkv_w = layer.qkv_w.copy()
        qkv_b = layer.qkv_b.copy()
        qkv_w[:, :hidden] *= scale
        qkv_b[:hidden] *= scale
        qkv = g.linear(x, f"l{i}_qkv", qkv_w, qkv_b, int8=int8)
        # (batch, tokens, 3, heads, head_dim) -> (3, batch, heads, tokens, head_dim)
        split = g.op("Transpose", g.op("Reshape", qkv, qkv_shape), perm=[2, 0, 3, 1, 4])
        q, k, v = (
            g.op("Gather", split, g.const(f"l{i}_{n}", j, np.int64), axis=0)
            for j, n in enumerate("qkv")
        )
        scores = g.op("Add", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2])), mask_bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        merged = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merged_shape)
        attended = g.op(
            "Add", g.linear(merged, f"l{i}_out", layer.out_w, layer.out_b, int8=int8), x
        )
        x = g.layer_norm(attended, f"l{i}_ln1", layer.ln1_w, layer.ln1_b, eps)
        up = g.op("Gelu", g.linear(x, f"l{i}_up", layer.up_w, layer.up_b, int8=int8))
        down = g.op("Add", g.linear(up, f"l{i}_down", layer.down_w, layer.down_b, int8=int8), x)
        x = g.layer_norm(down, f"l{i}_ln2", layer.ln2_w, layer.ln2_b, eps)

    # Mean over the real tokens, then unit length (all-zero rows stay zero, as in NumPy).
    token_mask = g.op("Unsqueeze", mask_f, g.const("last_axis", [-1], np.int64))
    axis1 = g.const("token_axis", [1], np.int64)
    summed = g.op("ReduceSum", g.op("Mul", x, token_mask), axis1, keepdims=0)
    counts = g.op("ReduceSum", token_mask, axis1, keepdims=0)
    pooled = g.op("Div", summed, g.op("Max", counts, g.const("min_count", 1e-9)))
    norms = g.op("ReduceL2", pooled, g.const("feature_axis", [-1], np.int64), keepdims=1)
    g.nodes.append(
        helper.make_node(
            "Div", [pooled, g.op("Max", norms, g.const("min_norm", 1e-12))], ["embeddings"]
        )
    )

    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
        producer_name="habyss",
    )


def create_session(model: onnx.ModelProto, *, threads: int = 1) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session over `model`, with all graph optimisations on."""
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Idle pool threads would spin on cores other processes need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    # The Python wrapper keeps the serialized model (90 MB) only to rebuild the session if its
    # providers change, which ours never do; onnxruntime holds its own copy of the weights.
    if isinstance(getattr(session, "_model_bytes", None), bytes):
        session._model_bytes = None
    return session


# A padded batch closes when its next sequence would be this much longer than its first: the
# padding then costs at most about a quarter of the work.
_PAD_SLACK = 1.25


def padded(sequences: Sequence[npt.NDArray[np.int64]]) -> tuple[npt.NDArray[np.int64], ...]:
    """Token ids right-padded with 0 to the longest sequence, and the matching mask."""
    width = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


def similar_lengths(lengths: Sequence[int]) -> list[list[int]]:
    """Indices into `lengths` in batches of similar lengths, shortest first."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if not batches or lengths[i] > _PAD_SLACK * lengths[batches[-1][0]] + 4:
            batches.append([])
        batches[-1].append(i)
    return batches


def run(
    session: onnxruntime.InferenceSession, sequences: Sequence[npt.NDArray[np.int64]]
) -> Matrix:
    """Unit sentence vectors of `sequences` of token ids, one row each, in order."""
    out = np.empty((len(sequences), session.get_outputs()[0].shape[1]), dtype=np.float32)
    for batch in similar_lengths([len(s) for s in sequences]):
        ids, mask = padded([sequences[i] for i in batch])
        (vectors,) = session.run(["embeddings"], {"input_ids": ids, "attention_mask": mask})
        out[batch] = vectors
    return out
