"""The whole stack, started the way ``make run`` does, shared by every e2e file on a worker.

Session-wide, and on this worker's own ports, database, Redis index and JetStream server: the
end-to-end API tests and the browser tests use the same stack when xdist gives them one worker.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.config import CommonSettings
from tests.support import nats_server, port_base, redis_index, worker_suffix

ROOT = Path(__file__).resolve().parents[2]
_BASE = port_base(18000)
PORTS = {
    name: _BASE + offset
    for offset, name in enumerate(["GATEWAY", "AGENT", "METRICS", "KNOWLEDGE", "LEARNING"])
}


# Session-wide: xdist may run other tests between this module's, and a second start would race
# the first stack's shutdown for the local Qdrant store.
@pytest.fixture(scope="session")
def stack_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JetStream server of the stack's own: durable consumers are server-wide state."""
    with nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture(scope="session")
def stack_ports() -> dict[str, int]:
    """The ports the stack's services listen on."""
    return PORTS


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory: pytest.TempPathFactory, stack_bus: str) -> dict[str, str]:
    """The environment the stack's services run with (a test may start more instances)."""
    base = CommonSettings().database_url
    database = urlsplit(base)._replace(path=f"/habyss_e2e_{worker_suffix()}").geturl()
    # A store of its own: a running `make run` owns .data/qdrant (local mode takes one process).
    # Seeded from it when there is one, so the corpus is not embedded again.
    store = tmp_path_factory.mktemp("qdrant") / "store"
    if (ROOT / ".data" / "qdrant").is_dir():
        shutil.copytree(ROOT / ".data" / "qdrant", store, ignore=shutil.ignore_patterns(".lock"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    # The offline planner, whatever the environment says: no test may reach a real model.
    redis = urlsplit(CommonSettings().redis_url)._replace(path=f"/{redis_index()}").geturl()
    env.update(DATABASE_URL=database, QDRANT_PATH=str(store), LLM_PROVIDER="offline")
    env.update(NATS_URL=stack_bus, REDIS_URL=redis)
    # Small pools: the other worker's in-process services share the same PostgreSQL.
    env.update(DB_POOL_SIZE="2", DB_MAX_OVERFLOW="6")
    env.update({f"{name}_PORT": str(port) for name, port in PORTS.items()})
    # Two gateway processes whatever the cores: every e2e test runs against replicas.
    env.update(GATEWAY_WORKERS="2")
    return env


@pytest.fixture(scope="session")
def stack(stack_env: dict[str, str]) -> Iterator[str]:
    env = stack_env
    launcher = subprocess.Popen(
        [sys.executable, "-m", "deploy.launcher"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert launcher.stdout is not None
    # A fresh clone embeds the corpus first (about two minutes on two busy cores).
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = launcher.stdout.readline()
        if not line and launcher.poll() is not None:
            break
        lines.append(line)
        if "docs: http://" in line:
            break
    if not any("docs: http://" in line for line in lines):
        # SIGINT, as Ctrl-C: the launcher stops the services it already started (a kill would
        # leave them running on the stack's ports).
        launcher.send_signal(signal.SIGINT)
        try:
            lines.append(launcher.communicate(timeout=60)[0])
        except subprocess.TimeoutExpired:
            launcher.kill()
        pytest.fail("the stack did not start:\n" + "".join(lines))
    yield f"http://127.0.0.1:{PORTS['GATEWAY']}"
    launcher.send_signal(signal.SIGINT)
    rest, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 0, rest
    assert "stopped" in rest
