"""An unreachable PostgreSQL answers 503 with Retry-After, not 500; a real bug still answers 500."""

from __future__ import annotations

import httpx
import pytest
from asyncpg.exceptions import CannotConnectNowError, ConnectionDoesNotExistError
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from services.gateway.api.errors import dependency_down, install_error_handlers


def _wrapped(cause: BaseException) -> DBAPIError:
    try:
        raise cause
    except BaseException as exc:
        return DBAPIError("SELECT 1", None, exc)


@pytest.mark.parametrize(
    "error",
    [
        CannotConnectNowError("the database system is starting up"),
        ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionRefusedError(111, "Connect call failed"),
    ],
)
def test_an_unreachable_database_is_recognised_through_sqlalchemy(error: Exception) -> None:
    assert dependency_down(error)
    assert dependency_down(_wrapped(error))


def test_a_bug_is_not_an_outage() -> None:
    assert not dependency_down(KeyError("habit"))
    assert not dependency_down(_wrapped(ValueError("bad")))


async def test_the_gateway_answers_503_with_retry_after_while_the_database_restarts() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise _wrapped(CannotConnectNowError("the database system is starting up"))

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("habit")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        down_response = await client.get("/down")
        bug_response = await client.get("/bug")
    assert down_response.status_code == 503
    assert down_response.headers["Retry-After"] == "5"
    assert down_response.json()["error"]["code"] == "service_unavailable"
    assert bug_response.status_code == 500
