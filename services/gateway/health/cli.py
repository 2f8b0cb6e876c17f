"""Upload a health export and follow its import: ``python -m services.gateway.health``.

```sh
.venv/bin/python -m services.gateway.health upload export.zip --token "$TOKEN"
.venv/bin/python -m services.gateway.health upload takeout.zip --integration fitbit \
    --url http://127.0.0.1:8000 --token "$TOKEN"
```

Two progress bars: the upload (bytes sent) and the import job (bytes of the export read, from
``GET /v1/integrations/jobs/{id}``). Prints the job's result as JSON and exits 0 when the import
succeeded, 1 when it failed or was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
from tqdm import tqdm

CHUNK = 1024 * 1024
MEDIA = {".zip": "application/zip", ".xml": "application/xml", ".json": "application/json"}


def _chunks(path: Path, bar: tqdm) -> Iterator[bytes]:  # type: ignore[type-arg]
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            bar.update(len(chunk))
            yield chunk


def upload(
    path: Path,
    integration: str,
    url: str,
    token: str,
    *,
    poll_seconds: float = 0.5,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Upload ``path``, follow the job to its end, print the outcome; return the exit code."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": MEDIA.get(path.suffix.lower(), "application/octet-stream"),
        "Content-Length": str(path.stat().st_size),
    }
    timeout = httpx.Timeout(60, read=600)
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport) as client:
        with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc="upload") as bar:
            response = client.post(
                f"/v1/integrations/{integration}/import",
                content=_chunks(path, bar),
                headers=headers,
            )
        if response.status_code != 202:
            print(json.dumps(response.json(), indent=2), file=sys.stderr)
            return 1
        job = response.json()
        location = response.headers["location"]
        with tqdm(total=job["total"], unit="B", unit_scale=True, desc="import") as bar:
            while job["status"] in ("queued", "running"):
                time.sleep(poll_seconds)
                job = client.get(location, headers={"Authorization": headers["Authorization"]})
                job = job.json()
                bar.total = job["total"]
                bar.update(job["processed"] - bar.n)
                bar.set_postfix(records=job["records"])
    print(json.dumps(job["result"] if job["status"] == "succeeded" else job["error"], indent=2))
    return 0 if job["status"] == "succeeded" else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m services.gateway.health")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload an export and follow its import")
    up.add_argument("file", type=Path)
    up.add_argument(
        "--integration", choices=("apple-health", "health-connect", "fitbit"), default=None
    )
    up.add_argument("--url", default="http://127.0.0.1:8000")
    up.add_argument("--token", required=True, help="an access token from /v1/auth/token")
    args = parser.parse_args(argv)
    integration = args.integration or (
        "health-connect" if args.file.suffix.lower() == ".json" else "apple-health"
    )
    return upload(args.file, integration, args.url, args.token)
