"""Offline chat throughput by ``TURN_WORKERS``: the agent restarted with each setting in turn.

Starts the stack once (``bench/chat_stack.py``), then for each ``--workers`` value restarts the
agent with ``TURN_WORKERS`` set to it and has ``--clients`` users send ``--turns`` turns each
(the public evaluation messages), after a short warm-up. Prints turns per second, failures, the
agent's CPU seconds and the p50/p99 time to the terminal event.

    .venv/bin/python bench/turn_workers.py [--workers 8 16 64] [--clients 20] [--turns 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

import psutil
from chat_stack import BenchStack, pct, register_users
from run import chat_turns
from workloads import eval_messages


async def sweep(stack: BenchStack, args: argparse.Namespace) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        tokens = await register_users(client, args.clients, "bench-turn-workers")
    messages = eval_messages()
    for n in args.workers:
        stack.restart("agent", {"TURN_WORKERS": str(n)})
        await chat_turns(stack.url, tokens[:2], [messages[:3], messages[3:6]])  # warm-up
        agent = psutil.Process(stack.pid("agent"))
        cpu = sum(agent.cpu_times()[:2])
        plan = [
            [messages[(c * 5 + k) % len(messages)] for k in range(args.turns)]
            for c in range(args.clients)
        ]
        began = time.monotonic()
        turns = await chat_turns(stack.url, tokens, plan)
        wall = time.monotonic() - began
        outcomes = Counter(t.outcome for t in turns)
        done = [d for t in turns if (d := t.since_sent(t.terminal)) is not None]
        print(
            f"TURN_WORKERS={n:<3} {len(turns)} turns in {wall:5.1f}s = {len(turns) / wall:5.1f} "
            f"turns/s; agent CPU {sum(agent.cpu_times()[:2]) - cpu:5.1f}s; to terminal p50 "
            f"{pct(done, 0.5):6.0f} ms p99 {pct(done, 0.99):6.0f} ms; {dict(outcomes)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 16, 64])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5, help="turns per client")
    parser.add_argument("--port-base", type=int, default=19200)
    parser.add_argument("--database", default="habyss_bench_turns")
    parser.add_argument("--redis-index", type=int, default=12)
    args = parser.parse_args()
    stack = BenchStack(
        port_base=args.port_base,
        env={"LLM_PROVIDER": "offline"},
        drop_env=("OPENAI_BASE_URL", "OPENAI_API_KEY", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        database=args.database,
        redis_index=args.redis_index,
    )
    with stack:
        asyncio.run(sweep(stack, args))


if __name__ == "__main__":
    main()
