"""The whole stack for the chat benchmarks, isolated from everything else on the machine.

``bench/chat_offline.py`` and ``bench/chat_openai.py`` import this. It brings up what ``make run``
does (migrate, ingest the knowledge corpus, then the gateway, metrics, knowledge, learning and
agent services, one process each) but with state of its own, so a running ``make run``, the test
suite or another benchmark neither sees its messages nor is disturbed by it:

- a JetStream server of its own (the venv's ``nats-server``) on a free port, store in a temp dir
  (durable consumers are server-wide: sharing a NATS would split the chat turns between stacks);
- a PostgreSQL database of its own (``habyss_bench_chat``), recreated at start, dropped at the end;
- a Redis database index of its own (9), flushed at start and at the end;
- the Qdrant local-mode store and the service logs in the same temp dir.

Every process it starts is stopped on exit (SIGTERM, as the launcher does, then SIGKILL after
20 s), on an exception and on Ctrl-C or SIGTERM as well. ``keep=True`` keeps the database and the
temp dir (logs) for a look afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from httpx_sse import aconnect_sse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.launcher import wait_ready  # noqa: E402

# The launcher's service list (name, default port) and start order.
SERVICES = ("gateway", "metrics", "knowledge", "learning", "agent")
PORT_OFFSETS = {"gateway": 0, "agent": 1, "metrics": 2, "knowledge": 3, "learning": 4}
DATABASE = "habyss_bench_chat"
REDIS_INDEX = 9
# A copy of the ingested knowledge store, kept between runs (ingest re-embeds only what changed).
QDRANT_SEED = ROOT / ".data" / "bench" / "qdrant-seed"
READY_TIMEOUT_SECONDS = 120.0
# What the chat benchmarks send: a goal, a habit action, progress, trouble, timing.
MESSAGES = (
    "I want to run a marathon in 6 months",
    "Create a habit to drink water every morning",
    "How are my habits going this week?",
    "I keep skipping my morning run, help",
    "When is the best time to meditate?",
)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether nothing listens on ``port`` (connections in TIME_WAIT do not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{what} exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} did not listen on {port}") from None
            time.sleep(0.05)


def _terminate_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through ``finally``, which stops the stack


class BenchStack:
    """Start with :meth:`start`, stop with :meth:`stop` (idempotent); or use ``with``."""

    def __init__(
        self,
        *,
        port_base: int = 19000,
        env: Mapping[str, str] | None = None,
        drop_env: tuple[str, ...] = (),
        log_level: str = "WARNING",
        keep: bool = False,
        database: str = DATABASE,
        redis_index: int = REDIS_INDEX,
    ) -> None:
        self.ports = {name: port_base + offset for name, offset in PORT_OFFSETS.items()}
        self.keep = keep
        self.database = database
        base = dict(os.environ)
        for name in drop_env:
            base.pop(name, None)
        # A load test is abuse by design: it registers many users from one address and sends
        # turns back to back.
        base.setdefault("AUTH_ADDRESS_REGISTRATIONS", "1000000")
        base.setdefault("CHAT_TURNS_PER_MINUTE", "1000000")
        base.setdefault("CHAT_MAX_STREAMS", "1000")
        admin_url = base.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/habyss")
        self.database_url = urlsplit(admin_url)._replace(path=f"/{database}").geturl()
        self.redis_url = (
            urlsplit(base.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
            ._replace(path=f"/{redis_index}")
            .geturl()
        )
        self.dir: Path | None = None  # the temp dir, made by start()
        self.logs = Path()
        self.env = {
            **base,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "JWT_SECRET": secrets.token_urlsafe(48),
            "LOG_LEVEL": log_level,
            "OPENBLAS_NUM_THREADS": base.get("OPENBLAS_NUM_THREADS", "1"),
            **(env or {}),
        }
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.nats: subprocess.Popen[bytes] | None = None
        self.database_created = False
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def pid(self, name: str) -> int:
        return dict(self.processes)[name].pid

    def __enter__(self) -> BenchStack:
        self._previous_sigterm = signal.signal(signal.SIGTERM, _terminate_on_sigterm)
        try:
            self.start()
        except BaseException:
            self.stop()
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        signal.signal(signal.SIGTERM, self._previous_sigterm)

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        began = time.monotonic()
        busy = [p for p in self.ports.values() if not port_free(p)]
        if busy:
            raise SystemExit(f"ports in use: {busy}; pass another --port-base")
        self.dir = Path(tempfile.mkdtemp(prefix="habyss-bench-chat-"))
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        store = self.dir / "qdrant"
        self.env["QDRANT_PATH"] = str(store)
        if QDRANT_SEED.is_dir():  # the corpus embedded by an earlier run: ingest only checks it
            shutil.copytree(QDRANT_SEED, store, ignore=shutil.ignore_patterns(".lock"))
        self._start_nats()
        asyncio.run(self._recreate_database())
        self._run([sys.executable, "-m", "alembic", "upgrade", "head"], "migrate")
        t = time.monotonic()
        self._run([sys.executable, "-m", "services.knowledge", "ingest"], "ingest")
        log(f"knowledge corpus ingested in {time.monotonic() - t:.1f}s")
        if not QDRANT_SEED.is_dir():
            shutil.copytree(store, QDRANT_SEED, ignore=shutil.ignore_patterns(".lock"))
        for name in SERVICES:
            self.processes.append((name, self._spawn(name, self.env)))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        for name, proc in self.processes:
            wait_ready(self.ports[name], name, proc, deadline, logs=self.logs)
        log(
            f"stack ready in {time.monotonic() - began:.1f}s: gateway {self.url}, "
            f"database {self.database}, NATS {self.env['NATS_URL']}, logs {self.logs}"
        )

    def _spawn(self, name: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env={**env, "PORT": str(self.ports[name])},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the bench only; it stops them
        )
        out.close()
        return proc

    def restart(self, name: str, env: Mapping[str, str]) -> None:
        """Stop one service and start it again with ``env`` on top of the stack's environment."""
        index = [n for n, _ in self.processes].index(name)
        old = self.processes[index][1]
        old.send_signal(signal.SIGTERM)
        try:
            old.wait(timeout=20)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait(timeout=5)
        while not port_free(self.ports[name]):
            time.sleep(0.05)
        proc = self._spawn(name, {**self.env, **env})
        self.processes[index] = (name, proc)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        wait_ready(self.ports[name], name, proc, deadline, self.logs)

    def pids(self) -> dict[str, list[int]]:
        """Each process the stack runs (``nats`` too), with its workers, by name."""
        import psutil

        out: dict[str, list[int]] = {}
        running = list(self.processes)
        if self.nats is not None:
            running.append(("nats", self.nats))
        for name, proc in running:
            try:
                children = psutil.Process(proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            out[name] = [proc.pid, *(c.pid for c in children)]
        return out

    def _start_nats(self) -> None:
        binary = shutil.which("nats-server", path=sysconfig.get_path("scripts")) or shutil.which(
            "nats-server"
        )
        if binary is None:
            raise SystemExit("nats-server not found: run 'make install'")
        port = free_port()
        out = open(self.logs / "nats.log", "ab")  # noqa: SIM115
        self.nats = subprocess.Popen(
            [
                binary,
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-sd",
                str(self.logs.parent / "nats"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        wait_for_port(port, self.nats, "nats-server", 15)
        self.env["NATS_URL"] = f"nats://127.0.0.1:{port}"

    def _admin_dsn(self) -> str:
        return (
            urlsplit(self.database_url.replace("+asyncpg", ""))._replace(path="/postgres").geturl()
        )

    async def _recreate_database(self) -> None:
        conn = await asyncpg.connect(self._admin_dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        self.database_created = True
        await self._flush_redis()

    async def _flush_redis(self) -> None:
        from redis.asyncio import Redis

        redis = Redis.from_url(self.redis_url)
        try:
            await redis.flushdb()
        finally:
            await redis.aclose()

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")

    # --- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # Services first (they drain their consumers while the bus is up), then NATS.
        for _, proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in 20 s; killing it")
                proc.kill()
                proc.wait(timeout=5)
        if self.nats is not None and self.nats.poll() is None:
            self.nats.terminate()
            try:
                self.nats.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nats.kill()
                self.nats.wait(timeout=5)
        if self.keep:
            log(f"kept database {self.database} and {self.dir} (logs in {self.logs})")
            return
        if self.database_created:
            asyncio.run(self._drop_database())
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        log("stack stopped" + (", database dropped" if self.database_created else ""))

    async def _drop_database(self) -> None:
        conn = await asyncpg.connect(self._admin_dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()
        await self._flush_redis()


# --- figures --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (seconds) in milliseconds; NaN if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def line(label: str, values: list[float], target_ms: float | None = None, width: int = 26) -> str:
    """``label n= p50 p95 p99 max`` and, with a target, whether p95 meets it."""
    text = (
        f"{label:<{width}} n={len(values):<4} p50 {pct(values, 0.5):7.1f} ms  "
        f"p95 {pct(values, 0.95):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms  "
        f"max {max(values, default=float('nan')) * 1000:7.1f} ms"
    )
    if target_ms is not None:
        ok = bool(values) and pct(values, 0.95) < target_ms
        text += f"   target p95 < {target_ms:.0f} ms: {'MET' if ok else 'MISSED'}"
    return text


# --- the client -----------------------------------------------------------------------------

TERMINAL = ("run.completed", "run.failed")


@dataclass
class Turn:
    """One chat turn as the client saw it; times are ``time.monotonic()`` seconds."""

    message: str
    sent: float = 0.0
    started: float | None = None
    first_delta: float | None = None
    terminal: float | None = None
    outcome: str = "no_terminal"  # "completed", "failed:<code>", "no_terminal", "error:<what>"
    conversation_id: str | None = None
    turn_id: str | None = None
    first_text: str = ""
    text: str = ""  # every delta joined: the prompt guard may split the first words
    terminals: int = 0
    events: list[str] = field(default_factory=list)

    def since_sent(self, at: float | None) -> float | None:
        return None if at is None else at - self.sent


async def chat_turn(
    client: httpx.AsyncClient, token: str, message: str, conversation_id: str | None
) -> Turn:
    """Send one message over ``POST /v1/chat`` (SSE) and time its events."""
    turn = Turn(message=message)
    body: dict[str, Any] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    turn.sent = time.monotonic()
    try:
        async with aconnect_sse(client, "POST", "/v1/chat", json=body, headers=headers) as source:
            if source.response.status_code != 200:
                await source.response.aread()
                turn.outcome = f"error:http {source.response.status_code}"
                return turn
            async for sse in source.aiter_sse():
                now = time.monotonic()
                turn.events.append(sse.event)
                if sse.event == "run.started" and turn.started is None:
                    turn.started = now
                    data = sse.json()
                    turn.conversation_id = data.get("conversation_id")
                    turn.turn_id = data.get("turn_id")
                elif sse.event == "text.delta":
                    delta = sse.json().get("text", "")
                    turn.text += delta
                    if turn.first_delta is None:
                        turn.first_delta = now
                        turn.first_text = delta
                elif sse.event in TERMINAL:
                    turn.terminals += 1
                    if turn.terminal is None:
                        turn.terminal = now
                        data = sse.json()
                        turn.outcome = (
                            "completed"
                            if sse.event == "run.completed"
                            else f"failed:{data.get('code')}"
                        )
    except Exception as exc:  # a broken stream is a failure to count, not a crash
        turn.outcome = f"error:{type(exc).__name__}"
    if turn.outcome == "completed" and (turn.terminals != 1 or turn.events[0] != "run.started"):
        turn.outcome = "error:protocol"
    return turn


async def register_users(client: httpx.AsyncClient, count: int, prefix: str) -> list[str]:
    """Register ``count`` users (four at a time: argon2 is slow on purpose); their tokens."""
    sem = asyncio.Semaphore(4)
    zones = ("UTC", "Europe/Lisbon", "America/New_York", "Asia/Tokyo")

    async def one(i: int) -> str:
        async with sem:
            r = await client.post(
                "/v1/auth/register",
                json={
                    "email": f"{prefix}-{i}-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "bench-password-1",
                    "timezone": zones[i % len(zones)],
                },
            )
        if r.status_code != 201:
            raise SystemExit(f"register: {r.status_code} {r.text}")
        return str(r.json()["access_token"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def outcomes(turns: list[Turn]) -> str:
    """``N completed, M failed (...)`` with the failure kinds counted."""
    counts = Counter(t.outcome for t in turns)
    bad = {k: v for k, v in counts.items() if k != "completed"}
    detail = ", ".join(f"{k} x{v}" for k, v in sorted(bad.items())) or "none"
    return f"{counts.get('completed', 0)} completed, {sum(bad.values())} failed ({detail})"


async def conversation(client: httpx.AsyncClient, token: str, messages: list[str]) -> list[Turn]:
    """Send ``messages`` one after another in one conversation (the first one starts it)."""
    turns: list[Turn] = []
    conversation_id = None
    for message in messages:
        turn = await chat_turn(client, token, message, conversation_id)
        conversation_id = turn.conversation_id or conversation_id
        turns.append(turn)
    return turns
