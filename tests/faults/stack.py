"""The whole stack as real processes on private servers, for the fault suite and bench/faults.py.

:class:`FaultStack` starts a NATS, a Redis and a PostgreSQL cluster of its own (tests/faults/
infra.py), migrates, indexes a two-document corpus for the knowledge service, then starts the
five services the way ``make run`` does (``python -m services.<name>``). The agent talks to the
fake OpenAI server (tests/fake_openai.py), so a test can hold a turn open long enough to kill
the agent in the middle of it. :meth:`FaultStack.component` names every process a fault may kill.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.api import ConsumerInfo

from deploy.launcher import ensure_database, migrate
from tests.fake_openai import FakeOpenAI, running_fake
from tests.faults import infra

CORPUS_SAMPLE = ("habit-formation/habit-loop.md", "habit-formation/environment-design.md")


class FaultStack:
    """Private servers and the five services; every one of them may be killed and restarted."""

    def __init__(self, work: Path, llm: FakeOpenAI) -> None:
        self.work = work
        self.llm = llm
        self.ports = infra.ports()
        logs = work / "logs"
        self.logs = logs
        self.nats = infra.nats_server(work / "nats", self.ports["nats"], logs / "nats.log")
        self.redis = infra.redis(self.ports["redis"], logs / "redis.log")
        self.postgres = infra.Postgres(self.ports["postgres"], logs / "postgres.log")
        self.nats_url = f"nats://127.0.0.1:{self.nats.port}"
        self.database_url = self.postgres.url
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))},
            "DATABASE_URL": self.database_url,
            "NATS_URL": self.nats_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
            "QDRANT_PATH": str(work / "qdrant"),
            "CORPUS_DIR": str(work / "corpus"),
            "JWT_SECRET": "fault-suite-secret-" + "x" * 32,
            "LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "fake",
            "LLM_FALLBACK_MODEL": "",
            "LLM_MAX_RETRIES": "0",
            "LLM_TIMEOUT_SECONDS": "20",
            "SHUTDOWN_TIMEOUT_SECONDS": "10",
            "SWEEP_INTERVAL_SECONDS": "0",
            "REMINDER_POLL_SECONDS": "0",
            "AUTH_ADDRESS_REGISTRATIONS": "1000000",
            # One gateway process, as a pod runs it: kill -9 must hit the process that serves
            # (under a uvicorn supervisor the workers would outlive it, holding the port).
            "GATEWAY_WORKERS": "1",
            "DB_POOL_SIZE": "4",
            "DB_MAX_OVERFLOW": "8",
            "EMBEDDING_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            "OPENBLAS_NUM_THREADS": "1",
        }
        self.kills: dict[str, float] = {}
        self.services = {
            name: infra.service(name, self.ports[name], self.env, logs / f"{name}.log")
            for name in infra.SERVICES
        }

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def component(self, name: str) -> infra.Server:
        """The process behind a fault's name (a service, ``nats`` or ``postgres``)."""
        if name == "postgres":
            return self.postgres.server
        if name == "nats":
            return self.nats
        return self.services[name]

    def kill(self, name: str) -> None:
        """``kill -9`` a component; remember when (messages it held are redelivered later)."""
        self.component(name).kill()
        self.kills[name] = time.monotonic()

    def start(self) -> None:
        self.nats.start()
        self.redis.start()
        self.postgres.start()
        asyncio.run(ensure_database(self.database_url))
        migrate(self.database_url)
        self._index_corpus()
        # The gateway first: it declares the streams and answers the habit rpc the others use.
        for name in ("gateway", "metrics", "learning", "knowledge", "agent"):
            self.services[name].start()

    def _index_corpus(self) -> None:
        """Two documents are enough to answer searches; the whole corpus takes minutes."""
        for relative in CORPUS_SAMPLE:
            target = self.work / "corpus" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(infra.ROOT / "services" / "knowledge" / "corpus" / relative, target)
        subprocess.run(
            [sys.executable, "-m", "services.knowledge", "ingest"],
            cwd=infra.ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def close(self) -> None:
        for name in ("agent", "knowledge", "learning", "metrics", "gateway"):
            self.services[name].stop()
        self.redis.stop()
        self.nats.stop()
        self.postgres.close()

    async def consumers(self) -> list[ConsumerInfo]:
        """Every durable consumer on every stream."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            found = []
            for stream in await js.streams_info():
                found += await js.consumers_info(str(stream.config.name))
            return [c for c in found if c.config.durable_name]
        finally:
            await nc.close()

    async def stream_messages(self, name: str) -> int:
        nc = await nats.connect(self.nats_url)
        try:
            info = await nc.jetstream().stream_info(name)
            return int(info.state.messages)
        finally:
            await nc.close()

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url.replace("+asyncpg", ""))
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()


@contextmanager
def fault_stack(work: Path) -> Iterator[FaultStack]:
    """Start the stack (and the fake LLM) in ``work``; stop everything afterwards."""
    with running_fake(infra.ports()["llm"]) as llm:
        stack = FaultStack(work, llm)
        try:
            stack.start()
            yield stack
        finally:
            stack.close()
            if not os.environ.get("HABYSS_KEEP_FAULT_LOGS"):
                shutil.rmtree(work, ignore_errors=True)
