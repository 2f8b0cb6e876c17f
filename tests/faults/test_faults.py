"""Faults under load, short version: each fault of bench/faults.py with a few seconds of writes.

The same stack (tests/faults/stack.py: real processes on a private NATS, PostgreSQL and Redis)
and the same checks (tests/faults/runner.py) as the bench, which runs 60 s per fault at 50
writes/s. Every ``kill -9`` and SIGTERM here hits only processes this module started. It takes
minutes (each restart re-imports a service), so ``make test-hardening`` runs it and ``make test``
does not (the ``faults`` marker; see docs/slo.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.runner import DRAINS, FAULTS, FaultResult, run_fault, table
from tests.faults.stack import FaultStack, fault_stack

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SECONDS = 6.0
RATE = 50.0
REPORT_DIR = Path(".data/hardening")
RESULTS: list[FaultResult] = []


@pytest.fixture(scope="module")
def stack() -> Iterator[FaultStack]:
    # Not pytest's tmp_path: PostgreSQL runs as nobody when root and must reach its directory.
    with fault_stack(Path(tempfile.mkdtemp(prefix="habyss-faults-"))) as running:
        yield running
    print("\n" + table(RESULTS))
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    tally = {
        "faults_run": len(RESULTS),
        "faults_survived": sum(r.survived for r in RESULTS),
        "faults_lost": sum(max(0, r.lost) for r in RESULTS),
        "faults_acked": sum(r.acked for r in RESULTS),
    }
    (REPORT_DIR / f"faults-{worker}.json").write_text(json.dumps(tally))


def survive(result: FaultResult) -> None:
    RESULTS.append(result)
    print("\n" + table([result]))
    assert result.acked > 0, "no write was acknowledged: the load never ran"
    assert result.lost == 0, result
    assert result.survived, result.problems


@pytest.mark.parametrize("fault", FAULTS)
def test_kill_9_under_load_loses_and_doubles_nothing(stack: FaultStack, fault: str) -> None:
    survive(asyncio.run(run_fault(stack, fault, SECONDS, RATE)))


@pytest.mark.parametrize("service", DRAINS)
def test_sigterm_drains_in_flight_work_within_the_shutdown_timeout(
    stack: FaultStack, service: str
) -> None:
    survive(asyncio.run(run_fault(stack, service, SECONDS, RATE, sigterm=True)))
