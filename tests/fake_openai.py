"""A fake OpenAI-compatible chat-completions server, run as a real uvicorn process.

Tests and ``bench/chat_openai.py`` drive the agent's OpenAI provider against it over HTTP, so
the SDK, its SSE parser and the provider's retry and fallback logic all run for real; only the
model is fake. Each request to ``POST /v1/chat/completions`` takes the next scripted response
(``POST /_script`` sets the list and resets the records), or the ``default`` when the list is
empty. A response is a JSON object:

- ``status`` (200): anything else answers the chat-completions error body with ``headers``
  (e.g. ``{"Retry-After": "1"}``) and no stream.
- ``text``: content pieces, one ``data:`` chunk each; ``{n}`` becomes the request's number,
  and a model that does what it is told can echo its input: ``{system}`` becomes the request's
  system message, ``{user}`` its last user message and ``{tool_results}`` the contents of its
  tool messages (joined by a space).
- ``tool_calls``: ``[{"id", "name", "arguments", "pieces"}]``; each call's arguments text is cut
  into ``pieces`` (2) deltas, and the calls' deltas are interleaved, so the client must join
  them by ``index``.
- ``refusal``: a refusal delta.
- ``finish_reason``: ``tool_calls`` when there are calls, else ``stop``.
- ``usage``: ``{"prompt_tokens", "completion_tokens"}`` sent in the last chunk when the request
  asked for ``stream_options.include_usage``.
- ``drop_after``: send this many chunks, then cut the connection (no ``[DONE]``, no end of the
  chunked body).
- ``delay`` before the first chunk (from the request's arrival), ``gap`` between the chunks
  after the first text.

``GET /_requests`` returns what each request carried (its body, the model, the authorization
header, and monotonic times of arrival and of the first content chunk).

    python -m tests.fake_openai --port 8999
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


class DroppedConnection(Exception):
    """Raised inside the stream to make uvicorn cut the connection mid-body."""


def _pieces(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text) or 1))
    size = -(-len(text) // n) if text else 0
    return [text[i : i + size] for i in range(0, len(text), size)] if text else [""]


def _echo(piece: str, number: int, messages: list[dict[str, Any]]) -> str:
    """A text piece with its placeholders filled in from the request."""

    def of(role: str) -> list[str]:
        return [str(m.get("content") or "") for m in messages if m.get("role") == role]

    fills = {
        "{n}": str(number),
        "{system}": " ".join(of("system")[:1]),
        "{user}": " ".join(of("user")[-1:]),
        "{tool_results}": " ".join(of("tool")),
    }
    for key, value in fills.items():
        piece = piece.replace(key, value)
    return piece


def _chunks(number: int, body: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream's chunk payloads (without the ``data:`` framing) for one scripted response."""
    model = str(body.get("model"))
    created = int(time.time())
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake{number}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if include_usage:
            payload["usage"] = usage
        return payload

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    out = [chunk(choice({"role": "assistant", "content": ""}))]
    for piece in response.get("text") or ():
        out.append(chunk(choice({"content": _echo(str(piece), number, body["messages"])})))
    if response.get("refusal"):
        out.append(chunk(choice({"refusal": response["refusal"]})))
    calls = response.get("tool_calls") or []
    split = [_pieces(str(c.get("arguments", "")), int(c.get("pieces", 2))) for c in calls]
    for index, call in enumerate(calls):
        head = {
            "index": index,
            "id": call.get("id", f"call_{number}_{index}"),
            "type": "function",
            "function": {"name": call["name"], "arguments": ""},
        }
        out.append(chunk(choice({"tool_calls": [head]})))
    for step in range(max((len(s) for s in split), default=0)):
        for index, pieces in enumerate(split):
            if step < len(pieces):
                delta = {"index": index, "function": {"arguments": pieces[step]}}
                out.append(chunk(choice({"tool_calls": [delta]})))
    finish = response.get("finish_reason") or ("tool_calls" if calls else "stop")
    out.append(chunk(choice({}, finish)))
    if include_usage:
        usage = response.get("usage") or {"prompt_tokens": 10, "completion_tokens": len(out)}
        prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        out.append(
            chunk(
                [],
                {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            )
        )
    return out


def create_app() -> Any:
    """The fake's Starlette app (imported lazily so the test helpers need no server deps)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    state: dict[str, Any] = {"responses": [], "default": None, "records": []}

    async def script(request: Request) -> Response:
        body = await request.json()
        state["responses"] = list(body.get("responses") or [])
        state["default"] = body.get("default")
        state["records"] = []
        return JSONResponse({"scripted": len(state["responses"])})

    async def requests(request: Request) -> Response:
        return JSONResponse(state["records"])

    async def completions(request: Request) -> Response:
        received = time.monotonic()
        body = await request.json()
        records: list[dict[str, Any]] = state["records"]
        number = len(records) + 1
        record: dict[str, Any] = {
            "n": number,
            "received": received,
            "first": None,
            "model": body.get("model"),
            "authorization": request.headers.get("authorization"),
            "body": body,
        }
        records.append(record)
        if state["responses"]:
            response: dict[str, Any] = state["responses"].pop(0)
        elif state["default"] is not None:
            response = state["default"]
        else:
            response = {"status": 500, "message": "fake: no scripted response left"}
        status = int(response.get("status", 200))
        if status != 200:
            error = {
                "message": response.get("message", f"fake error {status}"),
                "type": "rate_limit_error" if status == 429 else "server_error",
                "code": None,
            }
            return JSONResponse(
                {"error": error}, status, headers=dict(response.get("headers") or {})
            )
        if body.get("stream") is not True:
            return JSONResponse({"error": {"message": "this fake only streams"}}, 400)
        payloads = _chunks(number, body, response)
        drop_after = response.get("drop_after")
        delay, gap = float(response.get("delay", 0)), float(response.get("gap", 0))

        async def stream() -> AsyncIterator[str]:
            await asyncio.sleep(max(0.0, received + delay - time.monotonic()))
            for sent, payload in enumerate(payloads):
                if drop_after is not None and sent >= int(drop_after):
                    raise DroppedConnection(f"dropped after {sent} chunks")
                if sent > 1 and gap:  # the role chunk and the first text go at once
                    await asyncio.sleep(gap)
                yield f"data: {json.dumps(payload)}\n\n"
                if sent == 1 and record["first"] is None:
                    record["first"] = time.monotonic()
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/_script", script, methods=["POST"]),
            Route("/_requests", requests),
        ]
    )


class FakeOpenAI:
    """A handle on a running fake: its base URL and its script."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base_url = f"{url}/v1"

    async def script(
        self, *responses: dict[str, Any], default: dict[str, Any] | None = None
    ) -> None:
        """Set the responses the next requests get, in order (and reset the records)."""
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{self.url}/_script", json={"responses": list(responses), "default": default}
            )
            reply.raise_for_status()

    async def requests(self) -> list[dict[str, Any]]:
        """What each request since the last :meth:`script` carried."""
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"{self.url}/_requests")
            reply.raise_for_status()
            records: list[dict[str, Any]] = reply.json()
            return records


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_fake(port: int | None = None) -> Iterator[FakeOpenAI]:
    """Start the fake as a process of its own and stop it afterwards."""
    port = port or _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai", "--port", str(port)],
        cwd=ROOT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_requests", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake OpenAI server did not start") from None
                time.sleep(0.05)
        yield FakeOpenAI(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    """Serve the fake until terminated."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # "critical": a dropped connection is logged by uvicorn as an application error.
    uvicorn.run(
        create_app(), host="127.0.0.1", port=args.port, log_level="critical", access_log=False
    )


if __name__ == "__main__":
    main()
