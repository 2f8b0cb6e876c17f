"""The import CLI: streams the file, follows the job's Location, exits by the job's outcome."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from services.gateway.health.cli import upload

JOB = {"id": "j1", "status": "queued", "processed": 0, "total": 10, "records": 0}


def transport(final: str, seen: list[httpx.Request]) -> httpx.MockTransport:
    polls = iter(
        [
            {**JOB, "status": "running", "processed": 5, "records": 3},
            {
                **JOB,
                "status": final,
                "processed": 10,
                "records": 7,
                "result": {"rows": 4},
                "error": {"code": "malformed_export"},
            },
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            assert request.read() == b"0123456789"
            return httpx.Response(202, json=JOB, headers={"Location": "/v1/integrations/jobs/j1"})
        return httpx.Response(200, json=next(polls))

    return httpx.MockTransport(handler)


OUTCOMES = [("succeeded", 0, {"rows": 4}), ("failed", 1, {"code": "malformed_export"})]


@pytest.mark.parametrize(("final", "code", "printed"), OUTCOMES)
def test_upload_follows_the_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], final: str, code: int, printed: object
) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"0123456789")
    seen: list[httpx.Request] = []
    result = upload(
        path, "apple-health", "http://gw", "tok", poll_seconds=0, transport=transport(final, seen)
    )
    assert result == code
    assert json.loads(capsys.readouterr().out) == printed
    post, *polls = seen
    assert post.url.path == "/v1/integrations/apple-health/import"
    assert post.headers["content-type"] == "application/zip"
    assert post.headers["authorization"] == "Bearer tok"
    assert [p.url.path for p in polls] == ["/v1/integrations/jobs/j1"] * 2
