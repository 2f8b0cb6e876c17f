"""The bus's AsyncAPI document: every service's subscribers and their payload schemas.

``python -m deploy.asyncapi`` writes it to ``docs/asyncapi.json`` (``--check`` fails when the
committed copy is stale). The services are built, never started: no connection is made.
faststream derives each channel's payload schema from the handler's pydantic type.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "asyncapi.json"


def service_apps() -> list[FastAPI]:
    """Every service's app, built with its default settings and not started."""
    from services.agent.app import create_app as agent
    from services.gateway.app import create_app as gateway
    from services.knowledge.app import create_app as knowledge
    from services.learning.app import create_app as learning
    from services.metrics.app import create_app as metrics

    return [gateway(), agent(), metrics(), knowledge(), learning()]


def document(apps: list[FastAPI] | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the given apps' brokers (all services by default)."""
    brokers: list[NatsBroker] = [app.state.broker for app in apps or service_apps()]
    spec = AsyncAPI(
        *brokers,
        title="Habyss bus",
        version="1.0.0",
        description="Events on JetStream and request-reply rpc on core NATS (DESIGN section 3).",
        schema_version="3.0.0",
    )
    data: dict[str, Any] = spec.to_specification().to_jsonable()
    # The server entry comes from whatever NATS_URL this process has; the document names the
    # deployment's one, so it reads the same wherever it is generated.
    for server in data.get("servers", {}).values():
        server["host"] = "nats:4222"
    return data


def rendered(data: dict[str, Any]) -> str:
    """The document as committed: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document, or with ``--check`` tell whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/asyncapi.json is stale")
    args = parser.parse_args(argv)
    text = rendered(document())
    if args.check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            print("docs/asyncapi.json is stale: run python -m deploy.asyncapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
