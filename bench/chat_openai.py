"""Time to first token through the OpenAI provider, against a fake model, at 50 concurrent chats.

Runs the fake OpenAI-compatible server the tests use (``tests/fake_openai.py``, a process of
its own on a free port), scripted so every ``POST /v1/chat/completions`` waits ``--delay``
(300 ms) after the request arrived, then streams a few ``chat.completion.chunk`` text chunks
(no tool calls), ``finish_reason: stop``, the usage chunk (the provider asks for
``stream_options.include_usage``) and ``data: [DONE]``. Then starts the whole stack (see
``bench/chat_stack.py``) with the agent on ``LLM_PROVIDER=openai``, ``OPENAI_BASE_URL``
pointing at the fake and ``OPENAI_API_KEY=test``.

``--clients`` users chat at once, each ``--turns`` turns in one conversation, after a warm-up of
``--warmup`` turns that are not counted. The figure is the client's time from sending
``POST /v1/chat`` to the first ``text.delta``, and "our overhead": that minus the fake's delay.
The fake numbers its replies in the first chunk's text, and both processes read the same
monotonic clock, so each turn's overhead also splits into before the model request arrived
(gateway, JetStream, agent claim, context, prompt) and after the first chunk left the fake (SDK
parse, live NATS publish, gateway SSE relay, client).

    .venv/bin/python bench/chat_openai.py [--clients 50] [--turns 4] [--delay 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chat_stack import (
    MESSAGES,
    BenchStack,
    conversation,
    line,
    outcomes,
    register_users,
)

from tests.fake_openai import FakeOpenAI, running_fake

PIECES = ("Start small: ", "two minutes ", "a day, ", "right after ", "your morning coffee.")
TTFT_TARGET_MS = 400
OVERHEAD_TARGET_MS = 100
REPLY = re.compile(r"\(reply (\d+)\)")

# --- the fake model (tests/fake_openai.py, shared with the tests) -----------------------------


def bench_reply(delay: float, gap: float) -> dict[str, Any]:
    """The fake's answer to every request: numbered text, a stop, and the usage chunk."""
    words = len(PIECES) + 2
    return {
        "text": ["(reply {n}) ", *PIECES],
        "delay": delay,
        "gap": gap,
        "usage": {"prompt_tokens": 900, "completion_tokens": words},
    }


# --- the benchmark --------------------------------------------------------------------------


async def run(url: str, fake: FakeOpenAI, args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=args.clients + 8, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        warm_users = max(1, min(5, args.warmup))
        tokens = await register_users(client, args.clients + warm_users, "bench-openai")
        warm, users = tokens[:warm_users], tokens[warm_users:]
        per_user = -(-args.warmup // warm_users)
        warm_turns = await asyncio.gather(
            *(conversation(client, t, list(MESSAGES[i : i + per_user])) for i, t in enumerate(warm))
        )
        warm_flat = [t for ts in warm_turns for t in ts]
        print(f"warm-up: {len(warm_flat)} turns (not counted): {outcomes(warm_flat)}")
        skip = len(await fake.requests())

        began = time.monotonic()
        results = await asyncio.gather(
            *(
                conversation(
                    client,
                    token,
                    [MESSAGES[(i + k) % len(MESSAGES)] for k in range(args.turns)],
                )
                for i, token in enumerate(users)
            )
        )
        elapsed = time.monotonic() - began
        records = (await fake.requests())[skip:]

    turns = [t for ts in results for t in ts]
    delay = args.delay
    ttft = [d for t in turns if (d := t.since_sent(t.first_delta)) is not None]
    started = [d for t in turns if (d := t.since_sent(t.started)) is not None]
    completed = [
        d for t in turns if t.outcome == "completed" and (d := t.since_sent(t.terminal)) is not None
    ]
    by_n = {r["n"]: r for r in records}
    before, model, after = [], [], []
    for t in turns:
        found = REPLY.search(t.text)
        r = by_n.get(int(found.group(1))) if found else None
        if r is None or r["first"] is None or t.first_delta is None:
            continue
        before.append(r["received"] - t.sent)
        model.append(r["first"] - r["received"])
        after.append(t.first_delta - r["first"])

    print(
        f"chat, OpenAI provider against a fake model ({delay * 1000:.0f} ms to first chunk): "
        f"{args.clients} concurrent clients x {args.turns} turns = {len(turns)} turns in "
        f"{elapsed:.1f}s ({len(turns) / elapsed:.1f} turns/s)"
    )
    print(line("request → 1st text.delta", ttft, TTFT_TARGET_MS))
    print(line("our overhead (TTFT-delay)", [x - delay for x in ttft], OVERHEAD_TARGET_MS))
    print(line("request → run.started", started))
    print(line("request → run.completed", completed))
    print(f"turns: {outcomes(turns)}")
    print(f"where the time to first text.delta goes ({len(before)} turns matched to the fake):")
    print(
        f"  {line('before the model call', before, width=24)}  (gateway, JetStream, claim, context)"
    )
    print(f"  {line('fake model (delay)', model, width=24)}")
    print(
        f"  {line('after the first chunk', after, width=24)}  (SDK, live NATS, gateway SSE, client)"
    )
    models = sorted({str(r["model"]) for r in records})
    print(
        f"fake model: {len(records)} requests for {len(turns)} turns, models {models}, "
        f"stream={sorted({r['body'].get('stream') for r in records})}, "
        f"include_usage={sorted({str(usage(r)) for r in records})}, "
        f"tools offered {sorted({len(r['body'].get('tools') or ()) for r in records})}"
    )


def usage(record: dict[str, Any]) -> object:
    return (record["body"].get("stream_options") or {}).get("include_usage")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=4, help="turns per client")
    parser.add_argument("--warmup", type=int, default=5, help="turns before measuring")
    parser.add_argument("--delay", type=float, default=0.3, help="the fake's time to first chunk")
    parser.add_argument("--gap", type=float, default=0.02, help="between the fake's chunks")
    parser.add_argument("--port-base", type=int, default=19000)
    parser.add_argument("--log-level", default="WARNING", help="the services' LOG_LEVEL")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    with running_fake() as fake:
        asyncio.run(fake.script(default=bench_reply(args.delay, args.gap)))
        stack = BenchStack(
            port_base=args.port_base,
            env={
                "LLM_PROVIDER": "openai",
                "OPENAI_BASE_URL": fake.base_url,
                "OPENAI_API_KEY": "test",
            },
            log_level=args.log_level,
            keep=args.keep,
        )
        with stack:
            asyncio.run(run(stack.url, fake, args))


if __name__ == "__main__":
    main()
