"""Schema fuzzing: schemathesis against the live OpenAPI of a served gateway, with a real token.

Every operation, every check, a bounded number of examples each (``FUZZ_EXAMPLES``, default 8,
so the run fits in a couple of minutes in CI): no response may be a 5xx, and none may break the
schema the OpenAPI declares (status codes, content types, bodies, headers).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from tests.support import register, served

pytestmark = [pytest.mark.integration, pytest.mark.hardening]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ST = Path(sys.executable).with_name("st")
REPORT = Path(".data/hardening/schemathesis.json")


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    settings: GatewaySettings,
    metrics_service: FastAPI,
    learning_service: FastAPI,
    agent_service: FastAPI,
    tally: Counter[str],
) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    async with served(app) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            user = await register(client)
        report = REPORT
        proc = await asyncio.create_subprocess_exec(
            str(ST),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            # Whether a random, well-formed id (a UUID that names nothing) must answer 2xx:
            # it cannot, ours answer 404 by design (a foreign id answers 404 too).
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            str(EXAMPLES),
            "--phases",
            "examples,coverage,fuzzing",
            "--header",
            f"Authorization: {user['Authorization']}",
            "--workers",
            "2",
            "--seed",
            "1",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--suppress-health-check",
            "all",
            "--no-color",
            # Logging out would revoke the one token every other operation is tried with; the
            # auth suite tests it (tests/hardening/test_auth.py).
            "--exclude-path",
            "/v1/auth/logout",
            # Deleting the account would do the same; tests/integration/test_portability.py
            # proves what it deletes.
            "--exclude-operation-id",
            "delete_me_v1_me_delete",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.hardening.schemathesis_hooks"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    cases = _cases_run(text, report)
    server_errors = len(re.findall(r"Server error", text))
    tally["fuzz_cases"] += cases
    tested = re.search(r"Tested: (\d+)", text)
    tally["fuzz_operations"] += int(tested.group(1)) if tested else 0
    tally["fuzz_5xx"] += server_errors
    tally["fuzz_failures"] += 0 if proc.returncode == 0 else 1
    assert proc.returncode == 0, text[-20000:]
    assert cases > 0, text[-5000:]


def _cases_run(text: str, report: Path) -> int:
    """The number of test cases schemathesis generated, from its JSON report or its summary."""
    if report.exists():
        generated = json.loads(report.read_text()).get("test_cases", {}).get("generated")
        if isinstance(generated, int):
            return generated
    found = re.search(r"(\d+) generated", text)
    return int(found.group(1)) if found else 0
