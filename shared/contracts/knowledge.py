"""The knowledge service's rpc subjects, requests and replies (``rpc.knowledge.*.v1``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SEARCH = "rpc.knowledge.search.v1"
INGEST = "rpc.knowledge.ingest.v1"


class SearchFiltersIn(BaseModel):
    """Payload filters; a list matches any of its values, absent matches everything."""

    model_config = ConfigDict(extra="forbid")
    category: str | list[str] | None = None
    domain: str | list[str] | None = None
    verified: bool | None = None


class SearchRequest(BaseModel):
    """Ask for the ``k`` passages that best answer ``query``."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)
    filters: SearchFiltersIn | None = None
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid"


class Passage(BaseModel):
    """One ranked chunk of a corpus document, with what a citation needs."""

    doc_slug: str
    title: str
    section: str
    category: str
    domain: str
    sources: list[str]
    verified: bool
    score: float
    text: str


class SearchReply(BaseModel):
    """Ranked passages, best first."""

    results: list[Passage]


class IngestReply(BaseModel):
    """What an ingestion changed: new chunks embedded, unchanged ones kept, stale ones removed."""

    added: int
    unchanged: int
    removed: int
