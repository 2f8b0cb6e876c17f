"""Chat latency with the offline planner: ``POST /v1/chat`` at 20 concurrent clients.

Starts the whole stack (gateway, metrics, knowledge, learning, agent; see ``bench/chat_stack.py``:
its own NATS, database ``habyss_bench_chat`` and temp dir, all removed at the end) with no OpenAI
settings, so the agent answers with the offline planner. Registers one user per client; each
client holds one conversation and sends ``--turns`` messages one after another, cycling through a
mix (a goal to plan, a habit to create, a progress question, a slump, a timing question) in an
order of its own. A warm-up of ``--warmup`` turns from other users is not counted.

Per turn the client measures the time from sending the request to ``run.started`` and to the
terminal event, and counts failures: a ``run.failed``, a stream that ended without a terminal
event, an HTTP or transport error.

    .venv/bin/python bench/chat_offline.py [--clients 20] [--turns 10] [--warmup 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import defaultdict

import httpx
from chat_stack import (
    MESSAGES,
    BenchStack,
    Turn,
    conversation,
    line,
    outcomes,
    register_users,
)

STARTED_TARGET_MS = 100
COMPLETED_TARGET_MS = 300


def plan(clients: int, turns: int, seed: int) -> list[list[str]]:
    """Each client's messages: every message in turn, in an order of the client's own."""
    rng = random.Random(seed)
    out = []
    for _ in range(clients):
        order = list(MESSAGES)
        rng.shuffle(order)
        out.append([order[i % len(order)] for i in range(turns)])
    return out


async def run(url: str, args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=args.clients + 8, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        warm_users = max(1, min(5, args.warmup))
        tokens = await register_users(client, args.clients + warm_users, "bench-chat")
        warm, users = tokens[:warm_users], tokens[warm_users:]
        # Warm-up: pools, caches, the knowledge model's first search; every message kind.
        per_user = -(-args.warmup // warm_users)
        warm_turns = await asyncio.gather(
            *(
                conversation(
                    client, t, [MESSAGES[(i + k) % len(MESSAGES)] for k in range(per_user)]
                )
                for i, t in enumerate(warm)
            )
        )
        warm_flat = [t for ts in warm_turns for t in ts]
        print(f"warm-up: {len(warm_flat)} turns (not counted): {outcomes(warm_flat)}")

        began = time.monotonic()
        results = await asyncio.gather(
            *(
                conversation(client, token, messages)
                for token, messages in zip(
                    users, plan(args.clients, args.turns, args.seed), strict=True
                )
            )
        )
        elapsed = time.monotonic() - began
    turns = [t for ts in results for t in ts]
    started = [d for t in turns if (d := t.since_sent(t.started)) is not None]
    completed = [
        d for t in turns if t.outcome == "completed" and (d := t.since_sent(t.terminal)) is not None
    ]
    delta = [d for t in turns if (d := t.since_sent(t.first_delta)) is not None]
    print(
        f"chat, offline planner: {args.clients} concurrent clients x {args.turns} turns = "
        f"{len(turns)} turns in {elapsed:.1f}s ({len(turns) / elapsed:.1f} turns/s)"
    )
    print(line("request → run.started", started, STARTED_TARGET_MS))
    print(line("request → run.completed", completed, COMPLETED_TARGET_MS))
    print(line("request → 1st text.delta", delta))
    print(f"turns: {outcomes(turns)}")
    by_message: dict[str, list[Turn]] = defaultdict(list)
    for t in turns:
        by_message[t.message].append(t)
    print("by message (request → terminal):")
    for message in MESSAGES:
        ts = by_message.get(message, [])
        done = [d for t in ts if (d := t.since_sent(t.terminal)) is not None]
        tools = sorted({e for t in ts for e in t.events if e in ("card", "tool.call.started")})
        print(f"  {line(repr(message)[:44], done, width=44)}  {','.join(tools) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10, help="turns per client")
    parser.add_argument("--warmup", type=int, default=10, help="turns before measuring")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port-base", type=int, default=19000)
    parser.add_argument("--log-level", default="WARNING", help="the services' LOG_LEVEL")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    stack = BenchStack(
        port_base=args.port_base,
        # The offline planner: no OpenAI settings reach the agent.
        env={"LLM_PROVIDER": "offline"},
        drop_env=("OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_MODEL", "LLM_FALLBACK_MODEL"),
        log_level=args.log_level,
        keep=args.keep,
    )
    with stack:
        asyncio.run(run(stack.url, args))


if __name__ == "__main__":
    main()
