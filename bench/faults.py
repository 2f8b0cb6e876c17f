"""Faults under a steady write load: ``kill -9`` each part of the stack in turn, then SIGTERM.

Starts the whole stack as real processes on a NATS, PostgreSQL and Redis of its own (never the
machine's shared ones; ports from ``HABYSS_TEST_SLOT``, see tests/faults/infra.py), with the
agent on the fake OpenAI server. For each fault it writes habit logs at ``--rate`` per second for
``--seconds``, ``kill -9`` s the part a third of the way in (the gateway; the relay, that is the
gateway while events wait in the outbox; metrics; learning; the agent mid-turn; knowledge; NATS;
PostgreSQL) and restarts it at once, as a supervisor would. Then the same with SIGTERM for the
services, which must drain in-flight requests, messages and turns within the shutdown timeout.

After each: every acknowledged write is stored; every log's event was published and consumed
exactly once in effect (learning holds one event per log, the stream no log twice, stored
metrics equal a fresh recompute from the logs); no consumer holds a message beyond its ack wait;
no dead letters. Prints one row per fault (tests/faults/runner.py) and exits 1 if any failed;
then waits for the turn the agent was killed in to be redelivered and ended as interrupted.

    .venv/bin/python bench/faults.py [--seconds 60] [--rate 50] [--only nats,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.faults.runner import DRAINS, FAULTS, FaultResult, run_fault, table
from tests.faults.stack import fault_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load per fault")
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    parser.add_argument("--only", default="", help="comma-separated faults (default: all)")
    parser.add_argument("--no-sigterm", action="store_true", help="skip the SIGTERM rows")
    args = parser.parse_args()
    chosen = [f for f in args.only.split(",") if f] or list(FAULTS)
    drains = [] if args.no_sigterm or args.only else list(DRAINS)
    results: list[FaultResult] = []
    turns: list[str] = []
    with fault_stack(Path(tempfile.mkdtemp(prefix="habyss-faults-"))) as stack:

        async def run() -> None:
            for fault in chosen:
                results.append(await run_fault(stack, fault, args.seconds, args.rate))
                print(table(results[-1:]).splitlines()[-1], flush=True)
            for service in drains:
                results.append(
                    await run_fault(stack, service, args.seconds, args.rate, sigterm=True)
                )
                print(table(results[-1:]).splitlines()[-1], flush=True)

            # The turn the agent was killed in is redelivered after the consumer's ack wait
            # (180 s) and then ended as interrupted: no turn, and no message, stays for ever.
            began = time.monotonic()
            while await stack.sql("SELECT 1 FROM agent.turns WHERE status = 'running'"):
                if time.monotonic() - began > 240:
                    break
                await asyncio.sleep(1)
            for row in await stack.sql(
                "SELECT status, stop_reason, count(*) AS n FROM agent.turns GROUP BY 1, 2"
            ):
                turns.append(f"{row['n']} {row['status']} ({row['stop_reason']})")

        asyncio.run(run())
    print()
    print("chat turns at the end: " + ", ".join(turns))
    print(f"{args.rate:.0f} writes/s for {args.seconds:.0f}s per fault")
    print(table(results))
    survived = sum(r.survived for r in results)
    lost = sum(max(0, r.lost) for r in results)
    print(f"\nfaults survived {survived}/{len(results)} with {lost} lost")
    sys.exit(0 if survived == len(results) else 1)


if __name__ == "__main__":
    main()
