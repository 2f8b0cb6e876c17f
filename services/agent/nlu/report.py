"""Per-intent precision and recall, and the confusion matrix, of the heads on the dev split.

``python -m services.agent.nlu.report`` (run by ``make eval-agent`` after the public eval). The dev
sentences are hand-written ones the heads were not trained on (see :mod:`.dataset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.agent.nlu.assemble import understand
from services.agent.nlu.dataset import HEAD_INTENTS, Example, load_examples
from services.agent.nlu.heads import predict
from services.agent.nlu.train import head_label

_TODAY = date(2025, 3, 10)


def confusion(
    truth: Sequence[str], guess: Sequence[str], classes: Sequence[str]
) -> list[list[int]]:
    """Rows are the true class, columns the predicted one."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for t, g in zip(truth, guess, strict=True):
        matrix[index[t]][index[g]] += 1
    return matrix


def render(truth: Sequence[str], guess: Sequence[str], classes: Sequence[str]) -> str:
    """Precision/recall per class, accuracy, and the confusion matrix, as text."""
    matrix = confusion(truth, guess, classes)
    lines = [f"{'intent':<20} {'prec':>6} {'recall':>6} {'n':>4}"]
    for i, c in enumerate(classes):
        predicted = sum(row[i] for row in matrix)
        actual = sum(matrix[i])
        precision = matrix[i][i] / predicted if predicted else 0.0
        recall = matrix[i][i] / actual if actual else 0.0
        lines.append(f"{c:<20} {precision:>6.2f} {recall:>6.2f} {actual:>4}")
    correct = sum(matrix[i][i] for i in range(len(classes)))
    lines.append(f"accuracy {correct / max(1, len(truth)):.3f} on {len(truth)} dev sentences")
    short = [c[:6] for c in classes]
    lines.append("confusion (rows true, columns predicted): " + " ".join(short))
    for c, row in zip(short, matrix, strict=True):
        lines.append(f"{c:>8} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def pipeline_accuracy(examples: Sequence[Example]) -> float:
    """Intent accuracy of the whole of ``understand()`` (heads and rules), unsafe as a refusal."""
    hits = 0
    for example in examples:
        u = understand(example.text, _TODAY)
        label = str(example.labels["intent"])
        got = "unsafe" if u.refusal_reason == "unsafe" else u.intent
        hits += got == label
    return hits / max(1, len(examples))


def main() -> None:
    dev = [e for e in load_examples() if e.dev]
    truth, guess = [], []
    signal_hits: dict[str, list[bool]] = {}
    for example in dev:
        probs = predict(example.text)
        truth.append(str(example.labels["intent"]))
        guess.append(max(probs["intent"], key=probs["intent"].__getitem__))
        for head in ("action", "reason", "sentiment", "frustration", "chronotype", "achievement"):
            label = head_label(example, head)
            if label is not None and head in probs:
                best = max(probs[head], key=probs[head].__getitem__)
                signal_hits.setdefault(head, []).append(best == label)
    print(render(truth, guess, HEAD_INTENTS))
    for head, hits in signal_hits.items():
        print(f"{head} head accuracy {sum(hits) / len(hits):.3f} on {len(hits)}")
    print(f"understand() intent accuracy (heads and rules) {pipeline_accuracy(dev):.3f}")


if __name__ == "__main__":
    main()
