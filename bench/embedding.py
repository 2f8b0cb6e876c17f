"""MiniLM in NumPy and in onnxruntime (float32 and int8 weights): parity and CPU cost.

Parity: cosine between each onnxruntime variant and NumPy on the WHOLE knowledge corpus (every
chunk the service indexes) and on the queries (retrieval questions and chat messages); prints
min and mean. Cost: load time, CPU time per single-query forward (``time.process_time`` over
many calls, one thread: OPENBLAS_NUM_THREADS=1 is set here before NumPy loads, and onnxruntime
gets one intra-op thread), and batch throughput on the corpus (one worker). Run from the
repository root::

    .venv/bin/python bench/embedding.py [--calls 300]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.agent.nlu.dataset import load_examples
from services.knowledge.chunking import chunk_corpus
from services.knowledge.corpus import load_corpus
from services.knowledge.evaluation import CORPUS_DIR, EVAL_DIR, load_questions
from shared.embedding import MiniLMEmbedder

VARIANTS = {
    "numpy": {"runtime": "numpy"},
    "onnx fp32": {"runtime": "onnx", "precision": "fp32"},
    "onnx int8": {"runtime": "onnx", "precision": "int8"},
}
QUERY = "I skipped my run today because it was raining"


def per_query_ms(embedder: MiniLMEmbedder, queries: list[str], calls: int) -> float:
    """CPU ms per one-text `embed`, cycling through `queries`."""
    start = time.process_time()
    for i in range(calls):
        embedder.embed([queries[i % len(queries)]])
    return (time.process_time() - start) * 1000 / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300, help="single-query forwards per figure")
    args = parser.parse_args()
    chunks = [c.embed_text for c in chunk_corpus(load_corpus(CORPUS_DIR), index_id="bench")]
    questions = [q.question for q in load_questions(sorted(EVAL_DIR.glob("*.jsonl")))]
    messages = [e.text for e in load_examples()]
    queries = questions + messages

    results = {}
    for name, options in VARIANTS.items():
        embedder = MiniLMEmbedder(**options)
        started = time.perf_counter()
        embedder.load()
        load_s = time.perf_counter() - started
        assert embedder.runtime == options["runtime"]
        embedder.embed([QUERY])  # first run: onnxruntime allocates its buffers
        wall, cpu = time.perf_counter(), time.process_time()
        corpus = embedder.embed(chunks)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        results[name] = {
            "load_s": load_s,
            "corpus": corpus,
            "queries": embedder.embed(queries),
            "one_ms": per_query_ms(embedder, [QUERY], args.calls),
            "varied_ms": per_query_ms(embedder, queries, args.calls),
            "chunks_per_cpu_s": len(chunks) / cpu,
            "chunks_per_s": len(chunks) / wall,
        }

    tokens = MiniLMEmbedder()._loaded().tokenizer.encode(QUERY)
    print(
        f"{len(chunks)} corpus chunks, {len(queries)} queries ({len(questions)} retrieval "
        f"questions, {len(messages)} chat messages); OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}, onnxruntime 1 thread"
    )
    print("\ncosine to NumPy               min       mean")
    reference = results["numpy"]
    for name in ("onnx fp32", "onnx int8"):
        for part in ("corpus", "queries"):
            cosines = np.sum(results[name][part] * reference[part], axis=1)
            print(f"  {name:10} {part:8}  {cosines.min():9.6f}  {cosines.mean():9.6f}")
    print(
        f"\nCPU ms per one-query forward ({args.calls} calls): the same {len(tokens.ids)}-token "
        "message, and varied queries; corpus throughput, one worker; load time"
    )
    print("  runtime      same  varied   chunks/CPU s  chunks/s   load s")
    for name, r in results.items():
        print(
            f"  {name:10} {r['one_ms']:6.2f}  {r['varied_ms']:6.2f}   {r['chunks_per_cpu_s']:12.1f}"
            f"  {r['chunks_per_s']:8.1f}  {r['load_s']:7.2f}"
        )


if __name__ == "__main__":
    main()
