"""``python -m services.knowledge [ingest | search "…"]``: the knowledge CLI.

Without a command it serves. ``ingest`` and ``search`` ask the running service over NATS when one
answers (in local mode the service owns ``.data/qdrant`` and nobody else may open it), and open
the store themselves otherwise. ``ingest --wait N`` first waits up to N seconds for the Qdrant
server at ``QDRANT_URL`` to report ready: the Kubernetes Job and the compose service that ingest
start beside Qdrant, whose image ships no shell tool a readiness check could run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from faststream.nats import NatsBroker

from services.knowledge.config import KnowledgeSettings
from shared.contracts.knowledge import (
    INGEST,
    SEARCH,
    IngestReply,
    SearchFiltersIn,
    SearchReply,
    SearchRequest,
)
from shared.errors import ServiceUnavailable
from shared.rpc import call


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.knowledge", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the service (the default)")
    ingest = commands.add_parser("ingest", help="embed and index the corpus (idempotent)")
    ingest.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for the Qdrant server at QDRANT_URL to be ready (default: 0)",
    )
    search = commands.add_parser("search", help="search the corpus")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print the results as JSON")
    search.add_argument("--category")
    search.add_argument("--domain")
    search.add_argument("--verified", action="store_true", help="only verified documents")
    search.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    return parser.parse_args(argv)


async def _ask_service(settings: KnowledgeSettings, subject: str, body: dict[str, Any]) -> Any:
    """The running service's answer, or ``None`` when no service answers."""
    parts = urlsplit(settings.nats_url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 0.5).close()
    except OSError:
        return None
    broker = NatsBroker(settings.nats_url, connect_timeout=1, allow_reconnect=False)
    try:
        await asyncio.wait_for(broker.connect(), 3)
    except Exception:
        return None
    try:
        return await call(broker, subject, body, timeout=60 if subject == INGEST else 10)
    except ServiceUnavailable:
        return None
    finally:
        await broker.stop()


async def wait_for_qdrant(url: str, within: float, poll: float = 1.0) -> bool:
    """Whether the Qdrant server at ``url`` answered its readiness probe within ``within`` s."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            try:
                # /readyz needs no API key and answers 200 once every shard is loaded.
                if (await http.get(f"{url.rstrip('/')}/readyz")).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll)


async def ingest(settings: KnowledgeSettings) -> IngestReply:
    answer = await _ask_service(settings, INGEST, {})
    if answer is not None:
        return IngestReply.model_validate(answer)
    from services.knowledge.app import create_store
    from services.knowledge.store import ingest_corpus

    async with create_store(settings) as store:
        report = await ingest_corpus(store, settings.corpus_dir)
    return IngestReply(added=report.added, unchanged=report.unchanged, removed=report.removed)


async def search(settings: KnowledgeSettings, request: SearchRequest) -> SearchReply:
    answer = await _ask_service(settings, SEARCH, request.model_dump(mode="json"))
    if answer is not None:
        return SearchReply.model_validate(answer)
    from services.knowledge.app import create_store
    from services.knowledge.handlers import on_search

    async with create_store(settings) as store:
        envelope = await on_search(request, store)
    return SearchReply.model_validate(envelope["data"])


def show(reply: SearchReply, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.model_dump() for r in reply.results], indent=2))
        return
    for rank, r in enumerate(reply.results, 1):
        mark = "" if r.verified else " (unverified)"
        print(f"{rank}. {r.title} — {r.section}  [{r.category}/{r.domain}, {r.score:.3f}]{mark}")
        print(f"   {r.text[:240].strip()}…")
        print(f"   sources: {'; '.join(r.sources)}")


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    settings = KnowledgeSettings()
    if args.command in (None, "serve"):
        from services.knowledge.app import create_app
        from shared.service import run

        run(create_app(settings), settings)
    elif args.command == "ingest":
        must_wait = args.wait > 0 and settings.qdrant_url
        if must_wait and not asyncio.run(wait_for_qdrant(str(settings.qdrant_url), args.wait)):
            raise SystemExit(f"Qdrant at {settings.qdrant_url} not ready after {args.wait:g} s")
        report = asyncio.run(ingest(settings))
        changed = f"{report.added} added, {report.unchanged} unchanged, {report.removed} removed"
        print(f"ingested: {changed}")
    else:
        filters = SearchFiltersIn(
            category=args.category, domain=args.domain, verified=True if args.verified else None
        )
        request = SearchRequest(query=args.query, k=args.k, filters=filters, mode=args.mode)
        show(asyncio.run(search(settings, request)), args.json)
