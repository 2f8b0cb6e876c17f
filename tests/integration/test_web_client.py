"""The web client's static files: served at /app under a strict CSP."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


async def test_app_serves_the_client_with_strict_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/app/")
    assert page.status_code == 200
    assert "<title>Habyss</title>" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    style = await client.get("/app/app.css")
    assert style.status_code == 200
    assert style.headers["content-security-policy"] == csp


async def test_api_responses_carry_no_client_csp(client: httpx.AsyncClient) -> None:
    alive = await client.get("/internal/alive")
    assert "content-security-policy" not in alive.headers
