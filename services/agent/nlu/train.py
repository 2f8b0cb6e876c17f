"""Train the classifier heads and write ``model.npz``: ``python -m services.agent.nlu.train``.

Build-time only (scikit-learn is a dev dependency). Each head is a logistic regression over the
MiniLM embeddings of the rows that carry its label; the dev split stays out of training so
:mod:`services.agent.nlu.report` measures sentences the heads have not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.agent.nlu.dataset import Example, load_examples
from services.agent.nlu.heads import HEADS, MODEL_PATH
from shared.embedding import MiniLMEmbedder

_C = 8.0


def head_label(example: Example, head: str) -> str | None:
    """The label an example gives a head, or None when it does not train that head."""
    labels = example.labels
    if head == "intent":
        return str(labels["intent"])
    if head == "action":
        return str(labels["action"]) if labels.get("action") else None
    if head == "reason":
        return str(labels["reason"]) if labels.get("reason") else None
    if head == "chronotype":
        return str(labels.get("chronotype") or "none") if "chronotype" in labels else None
    value = labels.get(head)
    if value is None:
        return None
    return str(value).lower()


def fit(
    vectors: npt.NDArray[np.float32], examples: Sequence[Example]
) -> dict[str, npt.NDArray[Any]]:
    """Fit every head; the arrays to save, named ``<head>.coef``, ``.intercept``, ``.classes``."""
    from sklearn.linear_model import LogisticRegression

    arrays: dict[str, npt.NDArray[Any]] = {}
    for head in HEADS:
        rows = [(i, head_label(e, head)) for i, e in enumerate(examples)]
        picked = [(i, y) for i, y in rows if y is not None]
        labels = [y for _, y in picked]
        if len(set(labels)) < 2:
            continue
        model = LogisticRegression(C=_C, max_iter=3000, class_weight="balanced")
        model.fit(vectors[[i for i, _ in picked]], labels)
        arrays[f"{head}.coef"] = model.coef_.astype(np.float32)
        arrays[f"{head}.intercept"] = model.intercept_.astype(np.float32)
        arrays[f"{head}.classes"] = np.asarray([str(c) for c in model.classes_])
    return arrays


def main(out: Path = MODEL_PATH) -> None:
    examples = [e for e in load_examples() if not e.dev]
    # Trained on the float32 vectors; the int8 graph serves them to within cosine 0.999.
    vectors = MiniLMEmbedder(precision="fp32").embed([e.text for e in examples])
    arrays = fit(vectors, examples)
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    print(f"trained {len(arrays) // 3} heads on {len(examples)} examples → {out}")


if __name__ == "__main__":
    main()
