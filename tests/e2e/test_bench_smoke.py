"""``make bench`` in smoke mode: every figure of the table is measured and the JSON is written.

Figures are never asserted here (they depend on the machine and its load): only that the run
finished, printed a number in every row and wrote ``latest.json``-shaped output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import port_base, redis_index, worker_suffix

ROOT = Path(__file__).resolve().parents[2]
ROWS = {
    "write_ratio",
    "cpu_per_write_ms",
    "ack_to_metrics_p99_ms",
    "cpu_per_chat_turn_ms",
    "chat_overhead_ms",
    "chat_throughput_ratio",
    "knowledge_cpu_beyond_embedding_ms",
    "embedding_forward_ms",
    "gateway_scaling",
}

pytestmark = pytest.mark.e2e


def test_bench_smoke_measures_every_row(tmp_path: Path) -> None:
    report = tmp_path / "latest.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    env["OPENBLAS_NUM_THREADS"] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--smoke",
            "--json",
            str(report),
            "--port-base",
            str(port_base(18050)),
            "--database",
            f"habyss_bench_{worker_suffix()}",
            "--redis-index",
            str(redis_index()),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = json.loads(report.read_text())["rows"]
    assert {r["key"] for r in rows} == ROWS
    for row in rows:
        assert isinstance(row["measured"], float), row
        assert row["figure"] in result.stdout, row["figure"]
