"""Retrieval evaluation: recall@5 and MRR of dense, BM25 and hybrid search.

The question sets are `services/knowledge/eval/*.jsonl`, one `{"id", "question", "relevant"}`
object per line, `relevant` being the slugs of the documents that answer the question. Results
are counted per document: the chunks a search returns are reduced to distinct documents in rank
order, a question is recalled when a relevant document is among the first five, and its
reciprocal rank is 1 / the rank of the first relevant document (0 when none is retrieved).

Run `python -m services.knowledge.evaluation` (what `make eval-knowledge` runs): it ingests the
corpus into its own local store (`.data/knowledge-eval`, idempotent, so only the first run
embeds), prints the table, and exits non-zero when hybrid recall@5 is below the bar.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.knowledge.corpus import load_corpus
from services.knowledge.store import MODES, KnowledgeStore, Mode, SearchResult

KNOWLEDGE_DIR = Path(__file__).resolve().parent
CORPUS_DIR = KNOWLEDGE_DIR / "corpus"
EVAL_DIR = KNOWLEDGE_DIR / "eval"
EVAL_STORE = Path(".data/knowledge-eval")
CUTOFF = 5
HYBRID_RECALL_BAR = 0.9
# Chunks fetched per question: enough for the distinct documents that MRR looks at.
DEPTH = 50
MODE_LABELS: dict[Mode, str] = {"dense": "dense", "sparse": "BM25", "hybrid": "hybrid"}


class EvalSetError(ValueError):
    """A question file is malformed or names documents the corpus does not have."""


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    relevant: frozenset[str]
    source: str  # the file it came from


@dataclass(frozen=True, slots=True)
class Score:
    """One mode's results over one set of questions."""

    mode: Mode
    questions: int
    recall: float  # share of questions with a relevant document in the top CUTOFF
    mrr: float
    misses: tuple[str, ...]  # ids of the questions not recalled


def load_questions(paths: Iterable[Path], known_slugs: set[str] | None = None) -> list[Question]:
    """Read question files, refusing malformed lines, duplicate ids and unknown slugs.

    Raises:
        EvalSetError: naming each file and line at fault.
    """
    questions: list[Question] = []
    errors: list[str] = []
    seen: set[str] = set()
    for path in paths:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: not JSON ({exc.msg})")
                continue
            if not (
                isinstance(item, dict)
                and isinstance(item.get("id"), str)
                and isinstance(item.get("question"), str)
                and item["question"].strip()
                and isinstance(item.get("relevant"), list)
                and item["relevant"]
                and all(isinstance(s, str) for s in item["relevant"])
            ):
                errors.append(f"{where}: expected {{id, question, relevant: [slug, ...]}}")
                continue
            if item["id"] in seen:
                errors.append(f"{where}: duplicate id {item['id']!r}")
                continue
            seen.add(item["id"])
            unknown = sorted(set(item["relevant"]) - known_slugs) if known_slugs else []
            if unknown:
                errors.append(f"{where}: {item['id']} names unknown documents {unknown}")
                continue
            questions.append(
                Question(item["id"], item["question"], frozenset(item["relevant"]), path.name)
            )
    if errors:
        raise EvalSetError("invalid evaluation set:\n" + "\n".join(errors))
    return questions


def distinct_documents(results: Iterable[SearchResult]) -> list[str]:
    """Document slugs in the order their best chunk ranks."""
    return list(dict.fromkeys(r.doc_slug for r in results))


def recalled(ranked: Sequence[str], relevant: frozenset[str], cutoff: int = CUTOFF) -> bool:
    """Whether a relevant document is among the first `cutoff`."""
    return any(slug in relevant for slug in ranked[:cutoff])


def reciprocal_rank(ranked: Sequence[str], relevant: frozenset[str]) -> float:
    """1 / rank of the first relevant document, 0.0 when there is none."""
    for rank, slug in enumerate(ranked, start=1):
        if slug in relevant:
            return 1.0 / rank
    return 0.0


def score(mode: Mode, questions: Sequence[Question], rankings: Sequence[Sequence[str]]) -> Score:
    """Recall@CUTOFF and MRR of `rankings`, one per question."""
    hits = [recalled(r, q.relevant) for q, r in zip(questions, rankings, strict=True)]
    ranks = [reciprocal_rank(r, q.relevant) for q, r in zip(questions, rankings, strict=True)]
    count = len(questions)
    return Score(
        mode=mode,
        questions=count,
        recall=sum(hits) / count if count else 0.0,
        mrr=sum(ranks) / count if count else 0.0,
        misses=tuple(q.id for q, hit in zip(questions, hits, strict=True) if not hit),
    )


async def rank_all(
    store: KnowledgeStore, questions: Sequence[Question], mode: Mode
) -> list[list[str]]:
    """Distinct-document rankings of every question in `mode`."""
    rankings = []
    for q in questions:
        rankings.append(distinct_documents(await store.search(q.question, k=DEPTH, mode=mode)))
    return rankings


def format_table(rows: Sequence[tuple[str, Sequence[Score]]]) -> str:
    """A plain-text table: one line per question set and mode."""
    lines = [f"{'questions':<26} {'n':>4}  {'mode':<7} {'recall@5':>8}  {'MRR':>6}"]
    for label, scores in rows:
        for s in scores:
            lines.append(
                f"{label:<26} {s.questions:>4}  {MODE_LABELS[s.mode]:<7} "
                f"{s.recall:>8.3f}  {s.mrr:>6.3f}"
            )
    return "\n".join(lines)


async def evaluate(
    store: KnowledgeStore, questions: Sequence[Question]
) -> list[tuple[str, list[Score]]]:
    """Scores per question file and overall, for every mode."""
    sets = sorted({q.source for q in questions})
    by_mode = {mode: await rank_all(store, questions, mode) for mode in MODES}
    rows: list[tuple[str, list[Score]]] = []
    for name in [*sets, "all"] if len(sets) > 1 else sets:
        picked = [i for i, q in enumerate(questions) if name in ("all", q.source)]
        subset = [questions[i] for i in picked]
        rows.append(
            (
                name,
                [
                    score(mode, subset, [by_mode[mode][i] for i in picked])
                    for mode in ("dense", "sparse", "hybrid")
                ],
            )
        )
    return rows


async def _run(args: argparse.Namespace) -> int:
    # Imported here: loading the model is this command's business, not the importer's.
    from services.knowledge.config import KnowledgeSettings
    from services.knowledge.embedding import MiniLMEmbedder
    from services.knowledge.store import ingest_corpus

    documents = load_corpus(args.corpus)
    questions = load_questions(sorted(args.eval_dir.glob("*.jsonl")), {d.slug for d in documents})
    if not questions:
        print(f"no questions under {args.eval_dir}", file=sys.stderr)
        return 2
    embedder = MiniLMEmbedder.from_settings(KnowledgeSettings(), workers=args.workers)
    async with KnowledgeStore(embedder, url=args.qdrant_url, path=args.store) as store:
        report = await ingest_corpus(store, args.corpus, progress=not args.quiet)
        chunks = await store.count()
        rows = await evaluate(store, questions)
    print(
        f"Knowledge retrieval: {len(questions)} questions, {len(documents)} documents, "
        f"{chunks} chunks (ingested {report.added}, unchanged {report.unchanged}, "
        f"removed {report.removed}); a hit is a relevant document in the top {CUTOFF}."
    )
    print(format_table(rows))
    overall = rows[-1][1]
    hybrid = next(s for s in overall if s.mode == "hybrid")
    if hybrid.misses and not args.quiet:
        print(f"hybrid misses: {', '.join(hybrid.misses)}")
    if hybrid.recall < args.min_hybrid_recall:
        print(
            f"FAIL: hybrid recall@{CUTOFF} {hybrid.recall:.3f} < {args.min_hybrid_recall}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: evaluate and print the table; the exit status is the verdict."""
    parser = argparse.ArgumentParser(
        prog="python -m services.knowledge.evaluation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--store", type=Path, default=EVAL_STORE, help="local-mode directory")
    parser.add_argument("--qdrant-url", default=None, help="use this Qdrant server instead")
    parser.add_argument("--min-hybrid-recall", type=float, default=HYBRID_RECALL_BAR)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="embedder threads; 2 is faster with OPENBLAS_NUM_THREADS=1, slower without",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no miss list")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
