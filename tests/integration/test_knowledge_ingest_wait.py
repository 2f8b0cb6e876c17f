"""``python -m services.knowledge ingest --wait N`` waits for Qdrant's readiness probe.

The Kubernetes Job and the compose service start the ingestion beside Qdrant. No Qdrant server
can be installed on these machines (pip ships only its client), so a loopback HTTP server stands
in for the one endpoint the wait reads, ``GET /readyz``, answering as Qdrant does while its
shards load (503) and once they are loaded (200).
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from services.knowledge.cli import main, wait_for_qdrant

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_wait_ends_when_qdrant_reports_ready() -> None:
    paths: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        paths.append(request.split()[1])
        status = "503 Service Unavailable" if len(paths) < 3 else "200 OK"
        writer.write(
            f"HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await wait_for_qdrant(f"http://127.0.0.1:{port}/", within=10, poll=0.05)
    assert paths == ["/readyz"] * 3


async def test_the_wait_gives_up_on_a_server_that_never_answers() -> None:
    began = time.monotonic()
    ready = await wait_for_qdrant(f"http://127.0.0.1:{closed_port()}", within=0.3, poll=0.05)
    assert ready is False
    assert 0.3 <= time.monotonic() - began < 5


def test_ingest_exits_naming_qdrant_when_it_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("QDRANT_URL", url)
    with pytest.raises(SystemExit) as info:
        main(["ingest", "--wait", "0.2"])
    assert str(info.value) == f"Qdrant at {url} not ready after 0.2 s"
