"""The habit-science corpus: Markdown documents with YAML front matter.

Each document lives at `corpus/<category-folder>/<slug>.md` and starts with

    ---
    title: "..."
    category: habit_formation
    domain: general
    sources:
      - "Author (year). Title. Venue."
    verified: true
    ---

followed by a `# Title` line, an optional introduction and `##` sections. The slug (the file name
without `.md`) is the document's id. `parse_document` is pure; `load_corpus` reads the files and
reports every invalid one in a single error, each problem prefixed with its file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

# The spec's knowledge categories ("Knowledge Categories" in the agent spec).
CATEGORIES = frozenset(
    {
        "habit_formation",
        "domain_guide",
        "obstacles",
        "motivation",
        "schedule",
        "success_stories",
        "research",
        "individual_differences",
    }
)

# The goal domains the agent recognises (services.agent.understanding.Domain), so that its
# domain can filter searches, plus "general" for advice that holds in every domain.
DOMAINS = frozenset({"general", "fitness", "learning", "financial", "wellness", "productivity"})

REQUIRED_FIELDS = ("title", "category", "domain", "sources", "verified")

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_SECTION = re.compile(r"^## +\S", re.MULTILINE)


class CorpusError(ValueError):
    """One or more corpus files are invalid; the message names each file and its problems."""


@dataclass(frozen=True, slots=True)
class Document:
    slug: str
    title: str
    category: str
    domain: str
    sources: tuple[str, ...]
    verified: bool
    body: str  # the Markdown after the front matter
    origin: str  # where it came from, for messages


def _field_problems(meta: Mapping[object, object]) -> list[str]:
    problems = [f"missing required field {name!r}" for name in REQUIRED_FIELDS if name not in meta]
    title = meta.get("title")
    if "title" in meta and (not isinstance(title, str) or not title.strip()):
        problems.append("'title' must be a non-empty string")
    category = meta.get("category")
    if "category" in meta and category not in CATEGORIES:
        problems.append(f"'category' is {category!r}; allowed: {', '.join(sorted(CATEGORIES))}")
    domain = meta.get("domain")
    if "domain" in meta and domain not in DOMAINS:
        problems.append(f"'domain' is {domain!r}; allowed: {', '.join(sorted(DOMAINS))}")
    sources = meta.get("sources")
    if "sources" in meta and (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, str) and s.strip() for s in sources)
    ):
        problems.append("'sources' must be a non-empty list of non-empty strings")
    # YAML reads `yes`/`no` as booleans too; a quoted "true" is a string and is refused.
    if "verified" in meta and not isinstance(meta.get("verified"), bool):
        problems.append("'verified' must be true or false")
    return problems


def parse_document(text: str, *, slug: str, origin: str = "<text>") -> Document:
    """Parse and validate one document.

    Args:
        text: The whole file.
        slug: The document id (its file name without `.md`).
        origin: Where the text came from, used in error messages.

    Raises:
        CorpusError: naming `origin` and every problem found.
    """
    problems: list[str] = []
    if not _SLUG.match(slug):
        problems.append(f"slug {slug!r} must be lower-case words joined by '-'")
    match = _FRONT_MATTER.match(text)
    if match is None:
        problems.append("no YAML front matter: the file must start with '---' ... '---'")
        raise CorpusError("\n".join(f"{origin}: {p}" for p in problems))
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        problems.append(f"front matter is not valid YAML: {exc}".replace("\n", " "))
        raise CorpusError("\n".join(f"{origin}: {p}" for p in problems)) from exc
    if not isinstance(meta, dict):
        problems.append("front matter must be a YAML mapping")
        raise CorpusError("\n".join(f"{origin}: {p}" for p in problems))
    problems.extend(_field_problems(meta))
    body = text[match.end() :]
    if not _SECTION.search(body):
        problems.append("no '## ' section in the body")
    if problems:
        raise CorpusError("\n".join(f"{origin}: {p}" for p in problems))
    return Document(
        slug=slug,
        title=str(meta["title"]).strip(),
        category=str(meta["category"]),
        domain=str(meta["domain"]),
        sources=tuple(str(s).strip() for s in meta["sources"]),
        verified=bool(meta["verified"]),
        body=body,
        origin=origin,
    )


def load_corpus(root: Path) -> list[Document]:
    """Load every `<root>/<category-folder>/<slug>.md`, sorted by slug.

    Files directly under `root` (a README, say) are not documents.

    Raises:
        CorpusError: listing every invalid file, and slugs used by more than one file.
    """
    documents: list[Document] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(root.glob("*/*.md")):
        slug = path.stem
        if slug in seen:
            errors.append(f"{path}: slug {slug!r} is already used by {seen[slug]}")
            continue
        seen[slug] = path
        try:
            documents.append(
                parse_document(path.read_text(encoding="utf-8"), slug=slug, origin=str(path))
            )
        except CorpusError as exc:
            errors.append(str(exc))
        except UnicodeDecodeError as exc:
            errors.append(f"{path}: not UTF-8 text ({exc.reason})")
    if errors:
        raise CorpusError(f"invalid knowledge corpus under {root}:\n" + "\n".join(errors))
    return sorted(documents, key=lambda d: d.slug)
