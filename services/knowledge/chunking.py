"""Cut corpus documents into retrievable chunks.

A chunk is one `##` section, or, when a section is longer than `max_words`, one window of it.
Windows are packed from whole sentences and list items, balanced so that the last one is not a
scrap, and overlap by about `overlap_words` so a point that straddles a cut is found from either
side. The text before the first `##` (the introduction) is a section named "Overview".

What gets embedded is `Chunk.embed_text`: title and section heading followed by the text, so a
section such as "Common mistakes" still says what it is about when it stands alone.

The default sizes keep a chunk under the 256 tokens the MiniLM embedder reads (about 1.3 tokens
per English word, plus the heading).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.knowledge.corpus import Document

MAX_WORDS = 150
OVERLAP_WORDS = 30
INTRODUCTION = "Overview"

_HEADING = re.compile(r"^(#{1,6}) +(.*?)\s*#*\s*$")
# A sentence ends at . ! or ? (perhaps followed by a closing quote or bracket), then white
# space and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9*_])")


@dataclass(frozen=True, slots=True)
class Chunk:
    doc_slug: str
    title: str
    section: str
    category: str
    domain: str
    sources: tuple[str, ...]
    verified: bool
    text: str
    content_hash: str

    @property
    def embed_text(self) -> str:
        """The text that is embedded and BM25-indexed: headings first, then the content."""
        return f"{self.title}\n{self.section}\n\n{self.text}"


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence or list item, and whether it began a new line in the source."""

    text: str
    new_line: bool

    @property
    def words(self) -> int:
        return len(self.text.split())


def sections(body: str) -> list[tuple[str, str]]:
    """Split a document body into `(heading, text)` pairs at `##` headings.

    The `#` title line is dropped (the title travels in every chunk anyway); deeper headings
    (`###`) stay inside their section's text. Empty sections are skipped.
    """
    result: list[tuple[str, str]] = []
    heading = INTRODUCTION
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            result.append((heading, text))

    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            continue
        if match and len(match.group(1)) == 2:
            flush()
            heading, lines = match.group(2).strip(), []
        else:
            lines.append(line)
    flush()
    return result


def _units(text: str, max_words: int) -> list[_Unit]:
    units: list[_Unit] = []
    for paragraph in text.split("\n"):
        stripped = paragraph.strip()
        if not stripped:
            continue
        for i, sentence in enumerate(_SENTENCE_END.split(stripped)):
            units.extend(_split_long(sentence.strip(), new_line=i == 0, limit=max_words // 2))
    return units


def _split_long(sentence: str, *, new_line: bool, limit: int) -> list[_Unit]:
    # A "sentence" of over half a window (a run-on list, a table row) is cut into word runs,
    # so that windows can still be packed and overlapped.
    words = sentence.split()
    step = max(limit, 1)
    if len(words) <= step:
        return [_Unit(sentence, new_line)]
    return [
        _Unit(" ".join(words[i : i + step]), new_line and i == 0)
        for i in range(0, len(words), step)
    ]


def _join(units: Iterable[_Unit]) -> str:
    parts: list[str] = []
    for unit in units:
        if parts:
            parts.append("\n" if unit.new_line else " ")
        parts.append(unit.text)
    return "".join(parts)


def windows(
    text: str, *, max_words: int = MAX_WORDS, overlap_words: int = OVERLAP_WORDS
) -> list[str]:
    """Split `text` into overlapping windows of whole sentences, each ≤ `max_words` if it can be.

    Text within `max_words` comes back as it is. Otherwise the number of windows is the fewest
    that fit, and each aims at an even share, so a 170-word section gives two windows of about
    100 words rather than 150 and 50.
    """
    total = len(text.split())
    if total <= max_words:
        return [text.strip()]
    units = _units(text, max_words)
    step = max(max_words - overlap_words, 1)
    count = math.ceil((total - overlap_words) / step)
    target = min(max_words, math.ceil((total + (count - 1) * overlap_words) / count))
    result: list[str] = []
    start = 0
    while start < len(units):
        end, words = start, 0
        while end < len(units) and (end == start or words + units[end].words <= target):
            words += units[end].words
            end += 1
        # The rest fits in this window, even a little over target: take it rather than a scrap.
        if end < len(units) and sum(u.words for u in units[start:]) <= max_words:
            end = len(units)
        result.append(_join(units[start:end]))
        if end == len(units):
            break
        # The next window starts with the trailing sentences that fit in the overlap.
        back, carried = end, 0
        while back - 1 > start and carried + units[back - 1].words <= overlap_words:
            back -= 1
            carried += units[back].words
        start = back
    return result


def content_hash(index_id: str, fields: Iterable[object]) -> str:
    """SHA-256 over `index_id` and everything a chunk's point stores.

    `index_id` names the embedding model (and the sparse scheme; see
    `KnowledgeStore.index_id`). Any change, to the model or to a metadata field such as
    `verified`, gives a new hash and so a new point; an unchanged chunk keeps its point and is not
    embedded again.
    """
    payload = json.dumps([index_id, *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def chunk_document(
    document: Document,
    *,
    index_id: str,
    max_words: int = MAX_WORDS,
    overlap_words: int = OVERLAP_WORDS,
) -> list[Chunk]:
    """Chunks of one document, in reading order.

    Args:
        document: A validated corpus document.
        index_id: The embedder's id (with the sparse scheme), folded into every content hash.
        max_words: Longest window, in words.
        overlap_words: About how many words consecutive windows of a section share.
    """
    chunks: list[Chunk] = []
    for heading, text in sections(document.body):
        for window in windows(text, max_words=max_words, overlap_words=overlap_words):
            fields = (
                document.slug,
                document.title,
                heading,
                document.category,
                document.domain,
                list(document.sources),
                document.verified,
                window,
            )
            chunks.append(
                Chunk(
                    doc_slug=document.slug,
                    title=document.title,
                    section=heading,
                    category=document.category,
                    domain=document.domain,
                    sources=document.sources,
                    verified=document.verified,
                    text=window,
                    content_hash=content_hash(index_id, fields),
                )
            )
    return chunks


def chunk_corpus(documents: Iterable[Document], *, index_id: str) -> list[Chunk]:
    """Chunks of every document, in document then reading order."""
    return [c for d in documents for c in chunk_document(d, index_id=index_id)]
