"""``make bench``: every figure of issue 16 from one run of the whole stack, as a table and JSON.

Starts the stack as ``make run`` does (``bench/chat_stack.py``: migrate, ingest, the five services,
a JetStream server of its own, a database and Redis index of its own; tracing off), then runs a
fixed amount of work per figure and reads CPU seconds per process with psutil
(``bench/cpu.py``: every service process and its workers, the stack's nats-server, the
PostgreSQL backends of the stack's database; the load client apart). "CPU ms per unit" is the
servers' total CPU over the work and until the bus is idle again, divided by the units.

Phases, in order: log writes at 32 clients against the gateway and against ``bench/limit.py``
(the limit; as many processes as the gateway); a steady write rate with the time from each
acknowledgement to its metrics; knowledge queries over the bus and one embedding forward; offline
chat turns of the public evaluation messages at 20 clients; chat overhead against the fake OpenAI
model at one client (the agent restarted on the OpenAI provider); the gateway restarted with one
worker process, then with two, for the scaling figure.

    .venv/bin/python bench/run.py [--smoke] [--gateway-workers N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chat_stack import BenchStack, conversation, pct, port_free, register_users  # noqa: E402
from cpu import CpuMeter, Groups, servers_total  # noqa: E402
from workloads import (  # noqa: E402
    Writer,
    closed_loop_writes,
    embedding_forward_cpu_ms,
    eval_messages,
    knowledge_queries,
    openai_overhead,
    steady_writes,
    wait_idle,
    writers,
)

from tests.fake_openai import running_fake  # noqa: E402

CORES = os.cpu_count() or 1


@dataclass
class Amounts:
    """The fixed work of each phase."""

    write_seconds: float = 20.0  # closed loop, each of gateway / limit / 1 and 2 workers
    write_clients: int = 32
    steady_rate: float = 50.0
    steady_seconds: float = 60.0
    knowledge_queries: int = 400
    chat_turns: int = 200
    chat_clients: int = 20
    overhead_turns: int = 20
    warmup_turns: int = 10


SMOKE = Amounts(
    write_seconds=1.0,
    write_clients=4,
    steady_rate=20.0,
    steady_seconds=1.0,
    knowledge_queries=10,
    chat_turns=6,
    chat_clients=3,
    overhead_turns=2,
    warmup_turns=2,
)


@dataclass
class Row:
    key: str
    figure: str
    measured: float | None
    unit: str
    goal: str
    met: bool | None
    detail: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> tuple[str, str, str, str]:
        value = "n/a" if self.measured is None else f"{self.measured:.2f} {self.unit}".strip()
        met = "-" if self.met is None else ("yes" if self.met else "NO")
        return self.figure, value, self.goal, met


# Every row of issue 16's table, for a row whose phase failed (its figure reads n/a).
EXPECTED = {
    "write_ratio": ("write ratio: gateway ÷ limit", "≥ 0.6"),
    "cpu_per_write_ms": ("CPU per acknowledged write, end to end", "≤ 4 ms"),
    "ack_to_metrics_p99_ms": ("write ack → metrics readable p99", "p99 < 100 ms"),
    "knowledge_cpu_beyond_embedding_ms": ("CPU per knowledge query beyond one forward", "≤ 1 ms"),
    "embedding_forward_ms": ("embedding forward, one query", "≤ 2 ms"),
    "cpu_per_chat_turn_ms": ("CPU per offline chat turn", "≤ 20 ms"),
    "chat_throughput_ratio": ("chat throughput ratio", "≥ 0.8"),
    "chat_overhead_ms": ("chat overhead, 1 client (p50)", "< 15 ms"),
    "gateway_scaling": ("gateway scaling: 2 processes ÷ 1", "≥ 1.7"),
}


def at_most(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


def at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


class Run:
    """One bench run: the stack, its CPU meter, and the rows measured so far."""

    def __init__(self, stack: BenchStack, amounts: Amounts, workers: int) -> None:
        self.stack = stack
        self.amounts = amounts
        self.workers = workers
        dsn = stack.database_url.replace("+asyncpg", "")
        self.dsn = dsn
        self.meter = CpuMeter(stack.pids, dsn, stack.database)
        self.rows: list[Row] = []
        self.cpu: dict[str, Groups] = {}
        self.work_seconds: dict[str, float] = {}
        self.errors: dict[str, str] = {}

    async def measure_cpu(self, phase: str, work: Any) -> tuple[Any, float]:
        """Run ``work`` (a coroutine), then wait for the bus to drain; its result and CPU s."""
        before = await self.meter.snapshot()
        began = time.monotonic()
        result = await work
        self.work_seconds[phase] = time.monotonic() - began
        await wait_idle(self.stack.env["NATS_URL"], self.dsn)
        spent = self.meter.spent(before, await self.meter.snapshot())
        self.cpu[phase] = spent
        return result, servers_total(spent)

    # --- writes --------------------------------------------------------------------------

    async def writes(self, tokens: list[str]) -> None:
        a = self.amounts
        pairs = await writers(self.stack.url, tokens)
        gateway = await closed_loop_writes(
            self.stack.url, pairs, a.write_seconds, warmup=min(1.0, a.write_seconds)
        )
        await wait_idle(self.stack.env["NATS_URL"], self.dsn)
        limit = await self.with_limit(pairs)
        ratio = gateway / limit if limit else None
        self.rows.append(
            Row(
                "write_ratio",
                f"write ratio: gateway ÷ limit, {a.write_clients} clients, {self.workers} proc.",
                ratio,
                "",
                "≥ 0.6",
                at_least(ratio, 0.6),
                {"gateway_per_s": gateway, "limit_per_s": limit, "processes": self.workers},
            )
        )

    async def with_limit(self, pairs: list[Writer]) -> float:
        port = self.stack.ports["gateway"] + 9
        if not port_free(port):
            raise SystemExit(f"port {port} (bench/limit.py) is in use")
        env = {**self.stack.env, "DATABASE_URL": self.stack.database_url}
        argv = [sys.executable, str(ROOT / "bench" / "limit.py"), "--port", str(port)]
        argv += ["--workers", str(self.workers)]
        proc = start_logged(argv, env, self.stack.logs / "limit.log")
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_listening(url, proc)
            a = self.amounts
            return await closed_loop_writes(
                url, pairs, a.write_seconds, warmup=min(1.0, a.write_seconds)
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    async def steady(self, tokens: list[str]) -> None:
        a = self.amounts
        result, cpu = await self.measure_cpu(
            "steady_writes",
            steady_writes(
                self.stack.url, self.stack.env["NATS_URL"], tokens, a.steady_rate, a.steady_seconds
            ),
        )
        acked = result["acked"]
        per = cpu * 1000 / acked if acked else None
        client = self.cpu["steady_writes"].get("client", 0.0)
        self.rows.append(
            Row(
                "cpu_per_write_ms",
                f"CPU per acknowledged write, end to end, {a.steady_rate:.0f} writes/s",
                per,
                "ms",
                "≤ 4 ms",
                at_most(per, 4.0),
                {**result, "cpu_s": self.cpu["steady_writes"], "client_cpu_s": client},
            )
        )
        lags = result["lags"]
        p50, p99 = pct(lags, 0.5), pct(lags, 0.99)
        self.rows.append(
            Row(
                "ack_to_metrics_p99_ms",
                f"write ack → metrics readable p99 (p50 {p50:.1f} ms)",
                p99 if lags else None,
                "ms",
                "p99 < 100 ms",
                None if not lags else p99 < 100,
                {"p50_ms": p50, "p99_ms": p99, "n": len(lags), "missing": result["missing"]},
            )
        )
        del result["lags"]

    # --- knowledge -----------------------------------------------------------------------

    async def knowledge(self) -> None:
        n = self.amounts.knowledge_queries
        answered, cpu = await self.measure_cpu(
            "knowledge", knowledge_queries(self.stack.env["NATS_URL"], n)
        )
        forward = embedding_forward_cpu_ms(min(n, 100))
        per_query = cpu * 1000 / answered if answered else None
        beyond = None if per_query is None else per_query - forward["cpu_ms"]
        self.rows.append(
            Row(
                "knowledge_cpu_beyond_embedding_ms",
                "CPU per knowledge query beyond one embedding forward",
                beyond,
                "ms",
                "≤ 1 ms",
                at_most(beyond, 1.0),
                {
                    "queries": answered,
                    "cpu_ms_per_query": per_query,
                    "cpu_s": self.cpu["knowledge"],
                },
            )
        )
        self.rows.append(
            Row(
                "embedding_forward_ms",
                f"embedding forward, one query ({forward['path']})",
                forward["cpu_ms"],
                "ms",
                "≤ 2 ms",
                at_most(forward["cpu_ms"], 2.0),
                forward,
            )
        )

    # --- chat ----------------------------------------------------------------------------

    async def chat(self, tokens: list[str]) -> None:
        a = self.amounts
        messages = eval_messages()
        warm_token, users = tokens[0], tokens[1:]
        await chat_turns(self.stack.url, [warm_token], messages[: a.warmup_turns])
        plan = [
            [messages[(c * 7 + k) % len(messages)] for k in range(a.chat_turns // a.chat_clients)]
            for c in range(a.chat_clients)
        ]
        turns, cpu = await self.measure_cpu("chat", chat_turns(self.stack.url, users, plan))
        wall = self.work_seconds["chat"]
        done = sum(1 for t in turns if t.outcome == "completed")
        per = cpu * 1000 / done if done else None
        spent = self.cpu["chat"]
        self.rows.append(
            Row(
                "cpu_per_chat_turn_ms",
                f"CPU per offline chat turn ({len(turns)} eval turns)",
                per,
                "ms",
                "≤ 20 ms",
                at_most(per, 20.0),
                {"turns": len(turns), "completed": done, "wall_s": wall, "cpu_s": spent},
            )
        )
        rate = done / wall if wall else 0.0
        ratio = rate / (CORES / (per / 1000)) if per else None
        self.rows.append(
            Row(
                "chat_throughput_ratio",
                f"chat throughput: turns/s at {a.chat_clients} clients ÷ (cores ÷ CPU per turn)",
                ratio,
                "",
                "≥ 0.8",
                at_least(ratio, 0.8),
                {"turns_per_s": rate, "cores": CORES},
            )
        )

    async def overhead(self, token: str) -> None:
        with running_fake() as fake:
            self.stack.restart(
                "agent",
                {
                    "LLM_PROVIDER": "openai",
                    "OPENAI_BASE_URL": fake.base_url,
                    "OPENAI_API_KEY": "test",
                },
            )
            overheads = await openai_overhead(
                self.stack.url, fake, token, self.amounts.overhead_turns
            )
        p50 = statistics.median(overheads) * 1000 if overheads else None
        self.rows.append(
            Row(
                "chat_overhead_ms",
                "chat overhead: 1st text.delta − fake model's 1st token, 1 client (p50)",
                p50,
                "ms",
                "< 15 ms",
                None if p50 is None else p50 < 15,
                {"turns": len(overheads), "p99_ms": pct(overheads, 0.99)},
            )
        )

    async def scaling(self, tokens: list[str]) -> None:
        a = self.amounts
        pairs = await writers(self.stack.url, tokens)
        rates = {}
        for workers in (1, 2):
            self.stack.restart("gateway", {"GATEWAY_WORKERS": str(workers)})
            await wait_idle(self.stack.env["NATS_URL"], self.dsn)
            rates[workers] = await closed_loop_writes(
                self.stack.url, pairs, a.write_seconds, warmup=min(1.0, a.write_seconds)
            )
        ratio = rates[2] / rates[1] if rates[1] else None
        self.rows.append(
            Row(
                "gateway_scaling",
                "gateway scaling: writes/s with 2 gateway processes ÷ with 1",
                ratio,
                "",
                "≥ 1.7",
                at_least(ratio, 1.7),
                {"writes_per_s": rates},
            )
        )


async def chat_turns(url: str, tokens: list[str], plan: list[list[str]] | list[str]) -> list[Any]:
    """Each user holds one conversation of its planned messages; every turn, flattened."""
    import httpx

    plans: list[list[str]] = (
        [plan] if plan and isinstance(plan[0], str) else plan  # type: ignore[list-item]
    )
    limits = httpx.Limits(max_connections=len(plans) + 8)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        results = await asyncio.gather(
            *(conversation(client, t, p) for t, p in zip(tokens, plans, strict=False))
        )
    return [t for ts in results for t in ts]


def start_logged(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_listening(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit("bench/limit.py exited early; see limit.log")
            try:
                await client.get(url)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise SystemExit("bench/limit.py did not listen in time")


async def measure(
    stack: BenchStack, amounts: Amounts, workers: int, only: tuple[str, ...] = ()
) -> Run:
    import httpx

    run = Run(stack, amounts, workers)
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        tokens = await register_users(
            client, amounts.write_clients + amounts.chat_clients + 2, "bench"
        )
    # Writes spread over many users, as real traffic is: the learning service's work per log
    # grows with the user's logs, so one user with thousands of logs would not be typical.
    writer_users, tokens = tokens[: amounts.write_clients], tokens[amounts.write_clients :]
    openai_user, chat_users = tokens[0], tokens[1:]
    steps = (
        ("writes: gateway and limit", run.writes(writer_users)),
        ("steady writes and metrics lag", run.steady(writer_users)),
        ("knowledge queries", run.knowledge()),
        ("offline chat", run.chat(chat_users)),
        ("chat overhead (fake OpenAI)", run.overhead(openai_user)),
        ("gateway scaling", run.scaling(writer_users)),
    )
    for name, step in steps:
        if only and not any(word in name for word in only):
            step.close()  # never awaited: not run
            continue
        began = time.monotonic()
        print(f"[bench] {name} …", flush=True)
        try:
            await step
        except Exception as exc:  # the other figures still count; this one's rows show n/a
            run.errors[name] = repr(exc)
            print(f"[bench] {name} FAILED: {exc!r}", flush=True)
        print(f"[bench] {name}: {time.monotonic() - began:.1f}s", flush=True)
    measured = {r.key for r in run.rows}
    for key, (figure, goal) in EXPECTED.items():
        if key not in measured and not only:
            run.rows.append(Row(key, f"{figure} (its phase failed)", None, "", goal, None))
    return run


def table(rows: list[Row]) -> str:
    header = ("figure", "measured", "goal", "met?")
    cells = [header, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(4)) for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny amounts: proves every row runs")
    parser.add_argument("--gateway-workers", type=int, default=CORES)
    parser.add_argument("--port-base", type=int, default=19100)
    parser.add_argument("--database", default="habyss_bench")
    parser.add_argument("--redis-index", type=int, default=15)
    parser.add_argument("--json", type=Path, default=ROOT / ".data" / "bench" / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    parser.add_argument(
        "--only", nargs="+", default=(), help="run the phases whose names hold these words"
    )
    args = parser.parse_args()
    amounts = SMOKE if args.smoke else Amounts()
    began = time.monotonic()
    load = os.getloadavg()
    stack = BenchStack(
        port_base=args.port_base,
        env={"LLM_PROVIDER": "offline", "GATEWAY_WORKERS": str(args.gateway_workers)},
        drop_env=(
            "OPENAI_BASE_URL",
            "OPENAI_API_KEY",
            "LLM_MODEL",
            "LLM_FALLBACK_MODEL",
            "OTEL_EXPORTER_OTLP_ENDPOINT",  # tracing off
        ),
        database=args.database,
        redis_index=args.redis_index,
        keep=args.keep,
    )
    with stack:
        run = asyncio.run(measure(stack, amounts, args.gateway_workers, tuple(args.only)))
    print()
    print(table(run.rows))
    report = {
        "command": " ".join(sys.argv),
        "smoke": args.smoke,
        "amounts": asdict(amounts),
        "cores": CORES,
        "gateway_workers": args.gateway_workers,
        "load_average_before": load,
        "load_average_after": os.getloadavg(),
        "seconds": time.monotonic() - began,
        "rows": [asdict(r) for r in run.rows],
        "cpu_s_by_phase": run.cpu,
        "work_seconds_by_phase": run.work_seconds,
        "errors": run.errors,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(
        f"\nwritten {args.json} (load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
