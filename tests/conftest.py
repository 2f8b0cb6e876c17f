"""Fixtures every kind of test may use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The real servers and in-process services of the integration suites, as one plugin rather than a
# directory conftest, so every suite that uses them (tests/integration, tests/hardening) shares one
# instance per worker instead of each starting its own.
pytest_plugins = ["tests.integration.servers"]


@pytest.fixture(autouse=True)
def _no_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real model: point the OpenAI SDK at a closed local port."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-never-valid")


def docker_engine_available() -> bool:
    """Whether a Docker engine answers (``HABYSS_TESTCONTAINERS=0`` turns containers off)."""
    if os.environ.get("HABYSS_TESTCONTAINERS") == "0":
        return False
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    try:
        from testcontainers.core.docker_client import DockerClient

        DockerClient().client.ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _containers() -> Iterator[dict[str, str]]:
    from testcontainers.community.nats import NatsContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    with (
        PostgresContainer("postgres:16", driver="asyncpg", username="postgres") as pg,
        RedisContainer("redis:7") as redis,
        NatsContainer("nats:2.11", jetstream=True) as bus,
    ):
        host = redis.get_container_host_ip()
        yield {
            "DATABASE_URL": pg.get_connection_url(),
            "REDIS_URL": f"redis://{host}:{redis.get_exposed_port(6379)}/0",
            "NATS_URL": bus.nats_uri(),
        }


@pytest.fixture(scope="session", autouse=True)
def _servers() -> Iterator[dict[str, str] | None]:
    """Where Docker runs, each test process gets PostgreSQL, Redis and NATS in containers.

    Elsewhere (these machines have no Docker engine) the tests use the servers at the URLs in
    the environment, which ``make test`` starts when they are down. Settings read the URLs from
    the environment, so setting them here reaches every service the tests build. Yields the
    containers' URLs (``DATABASE_URL``, ``REDIS_URL``, ``NATS_URL``), or None without Docker.
    """
    if not docker_engine_available():
        yield None
        return
    with _containers() as urls:
        saved = {key: os.environ.get(key) for key in urls}
        os.environ.update(urls)
        try:
            yield urls
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
