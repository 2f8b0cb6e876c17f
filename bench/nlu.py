"""CPU time per ``understand()`` call, the MiniLM embedding included.

Single-threaded BLAS (set here before NumPy loads), CPU time from ``time.process_time``. Three
figures over a set of varied messages: a message seen for the first time (embedding computed),
the same message understood again in the turn (the service and then the planner; the embedding
comes from the per-text cache), and the rules and extractors alone (heads not consulted). Run
from the repository root (EMBEDDING_RUNTIME=numpy|onnx and EMBEDDING_PRECISION=fp32|int8 pick the
forward)::

    .venv/bin/python bench/nlu.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.agent.nlu import assemble, heads
from services.agent.nlu.dataset import load_examples

TODAY = date(2025, 3, 10)
HABITS = ("Running", "Meditation", "Reading", "Journaling", "Morning routine")


def cpu_ms(messages: list[str]) -> float:
    start = time.process_time()
    for m in messages:
        assemble.understand(m, TODAY, HABITS)
    return (time.process_time() - start) * 1000 / len(messages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = [e.text for e in load_examples() if e.dev]
    assemble.understand("warm up the model and the date parser", TODAY, HABITS)
    first, again = [], []
    for r in range(args.rounds):
        batch = [f"{t} ({r})" for t in texts]  # new texts each round: nothing cached
        first.append(cpu_ms(batch))
        again.append(cpu_ms(batch))
    saved = assemble._heads
    assemble._heads = lambda message: {}  # type: ignore[assignment]
    rules = cpu_ms(texts)
    assemble._heads = saved
    vector = time.process_time()
    for t in texts:
        heads._embeddings()._embedder.embed([t + " (x)"])
    embed = (time.process_time() - vector) * 1000 / len(texts)
    embedder = heads._embeddings()._embedder
    print(
        f"{len(texts)} messages × {args.rounds} rounds, OPENBLAS_NUM_THREADS=1, MiniLM in "
        f"{embedder.runtime} ({embedder.precision} if onnx), CPU ms/call"
    )
    print(f"  first call (embedding computed) {min(first):6.2f}")
    print(f"  again in the turn (cached)      {min(again):6.2f}")
    print(f"  per turn of two calls           {(min(first) + min(again)) / 2:6.2f} per call")
    print(f"  rules and extractors alone      {rules:6.2f}")
    print(f"  MiniLM forward alone            {embed:6.2f}")


if __name__ == "__main__":
    main()
