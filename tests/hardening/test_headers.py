"""Response headers: nosniff everywhere, HSTS behind TLS, the web client's CSP, CORS closed by
default and opened only to the configured origins."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from tests.support import auth, register

pytestmark = [pytest.mark.integration, pytest.mark.hardening]
PREFLIGHT = {
    "Origin": "https://app.example.com",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


async def test_nosniff_on_every_response_and_hsts_only_behind_tls(
    client: httpx.AsyncClient, tally: Counter[str]
) -> None:
    user = await register(client)
    answers = [
        await client.get("/v1/me", headers=auth(user)),
        await client.get("/v1/me"),  # 401
        await client.get(f"/v1/habits/{user['x-user-id']}", headers=auth(user)),  # 404
        await client.post("/v1/goals", content=b"{", headers=auth(user)),  # 400
        await client.get("/internal/alive"),
        await client.get("/openapi.json"),
        await client.get("/app/"),
    ]
    for response in answers:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert "Strict-Transport-Security" not in response.headers
    behind_tls = await client.get("/v1/me", headers={**auth(user), "X-Forwarded-Proto": "https"})
    assert behind_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    tally["header_checks"] += len(answers) + 1


async def test_the_web_client_keeps_its_strict_csp(
    client: httpx.AsyncClient, tally: Counter[str]
) -> None:
    page = await client.get("/app/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    tally["header_checks"] += 1


async def test_cors_is_closed_by_default(client: httpx.AsyncClient, tally: Counter[str]) -> None:
    preflight = await client.options("/v1/auth/token", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/internal/alive", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
    tally["header_checks"] += 1


async def test_cors_opens_to_configured_origins_only(
    settings: GatewaySettings, tally: Counter[str]
) -> None:
    app = create_app(
        settings.model_copy(
            update={"cors_allow_origins": "https://app.example.com", "hsts_always": True}
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        allowed = await c.options("/v1/auth/token", headers=PREFLIGHT)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert allowed.headers["Strict-Transport-Security"].startswith("max-age=")
        other = await c.options(
            "/v1/auth/token", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
    tally["header_checks"] += 1
