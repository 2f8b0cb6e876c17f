"""Knowledge service settings: the only place this service reads its environment."""

from __future__ import annotations

from pathlib import Path

from shared.config import CommonSettings

SERVICE_DIR = Path(__file__).resolve().parent


class KnowledgeSettings(CommonSettings):
    service_name: str = "knowledge"
    port: int = 8003
    # A Qdrant server; unset means qdrant-client's local mode under qdrant_path.
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_path: Path = Path(".data/qdrant")
    qdrant_collection: str = "knowledge"
    corpus_dir: Path = SERVICE_DIR / "corpus"
    # An OpenAI-compatible embeddings endpoint; unset means the bundled all-MiniLM-L6-v2.
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_model: str = "text-embedding-3-small"
    # Forward passes of the bundled model run side by side in this many threads.
    embedding_workers: int = 2
