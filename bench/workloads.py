"""The fixed amounts of work ``bench/run.py`` measures, each against a running stack.

Every function takes URLs and tokens and returns what it observed; none starts or stops a
process. ``wait_idle`` is what every CPU window ends with: the outbox drained and every
JetStream consumer with nothing pending or unacknowledged, so the window holds all the work a
unit caused downstream (relay, metrics recompute, learning, agent sequences).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from chat_stack import conversation

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval" / "agent_public.jsonl"
REPLY = re.compile(r"\(reply (\d+)\)")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_habits(url: str, token: str, count: int, start: str | None = None) -> list[str]:
    """Create ``count`` daily habits (from ``start``, an ISO date, when given); their ids."""
    body: dict[str, Any] = {"start_date": start} if start else {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        ids = []
        for i in range(count):
            r = await client.post(
                "/v1/habits", json={"title": f"b{i}", **body}, headers=auth(token)
            )
            if r.status_code != 201:
                raise SystemExit(f"create habit: {r.status_code} {r.text}")
            ids.append(str(r.json()["id"]))
    return ids


Writer = tuple[str, str]  # (a user's token, one of their habits)


async def writers(url: str, tokens: list[str], start: str | None = None) -> list[Writer]:
    """One new habit for each user: what a client of the write loops logs to."""
    return [(t, (await new_habits(url, t, 1, start))[0]) for t in tokens]


async def closed_loop_writes(
    url: str, pairs: list[Writer], seconds: float, *, warmup: float = 1.0
) -> float:
    """One client per (user, habit) logs as fast as it is answered; acknowledged writes/s.

    Failed writes are not counted; the first kinds are logged.
    """
    failed: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=len(pairs), max_keepalive_connections=len(pairs))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def loop(token: str, habit: str, stop: float) -> int:
            done = 0
            headers = auth(token)
            while time.monotonic() < stop:
                r = await client.post(f"/v1/habits/{habit}/logs", json={}, headers=headers)
                if r.status_code == 201:
                    done += 1
                else:  # an overloaded server's 500 or 503 is a write not acknowledged
                    failed[f"{r.status_code} {r.text[:120]}"] += 1
            return done

        await asyncio.gather(*(loop(t, h, time.monotonic() + warmup) for t, h in pairs))
        began = time.monotonic()
        counts = await asyncio.gather(*(loop(t, h, began + seconds) for t, h in pairs))
        rate = sum(counts) / (time.monotonic() - began)
    if failed:
        print(f"[bench] {url}: {sum(failed.values())} writes failed: {dict(failed.most_common(2))}")
    return rate


async def steady_writes(
    url: str, nats_url: str, tokens: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Log at ``rate`` per second for ``seconds``, each on a new past date of its habit.

    The writes go round the users (``tokens``), each of whom has enough habits for 30 logs each.

    Every write raises its habit's ``total_completions`` by one. The metrics service caches the
    new metrics (readable through the API) before it publishes ``metrics.habit.updated.v1``, so
    the time from a write's acknowledgement to the first event showing its count bounds "write
    acknowledged → metrics readable" from above.
    """
    total = max(1, int(rate * seconds))
    per_habit = 30
    count = max(len(tokens), math.ceil(total / per_habit))
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        probe = await client.post("/v1/habits", json={"title": "probe"}, headers=auth(tokens[0]))
        today = date.fromisoformat(probe.json()["start_date"])
    start = (today - timedelta(days=per_habit + 6)).isoformat()
    owner: dict[str, str] = {}
    for k, token in enumerate(tokens):
        mine = count // len(tokens) + (1 if k < count % len(tokens) else 0)
        owner.update(dict.fromkeys(await new_habits(url, token, mine, start), token))
    habits = list(owner)
    seen: dict[str, list[tuple[int, float]]] = {h: [] for h in habits}
    nc = await nats.connect(nats_url)

    async def on_metrics(msg: Any) -> None:
        body = json.loads(msg.data)
        if body.get("habit_id") in seen:
            seen[body["habit_id"]].append(
                (body["metrics"]["total_completions"], time.perf_counter())
            )

    await nc.subscribe("metrics.habit.updated.v1", cb=on_metrics)
    acked: dict[tuple[str, int], float] = {}
    counts = dict.fromkeys(habits, 0)
    failures = 0
    reasons: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def write(i: int) -> None:
            nonlocal failures
            habit = habits[i % len(habits)]
            # From yesterday back: "today" is the first user's, and users in other zones may
            # still be on the day before.
            day = (today - timedelta(days=1 + i // len(habits))).isoformat()
            r = await client.post(
                f"/v1/habits/{habit}/logs", json={"date": day}, headers=auth(owner[habit])
            )
            if r.status_code != 201:
                failures += 1
                reasons[f"{r.status_code} {r.text[:120]}"] += 1
                return
            counts[habit] += 1
            acked[(habit, counts[habit])] = time.perf_counter()

        began = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(write(i)))
        await asyncio.gather(*tasks)
        sent_for = time.perf_counter() - began
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        any(c >= n for c, _ in seen[h]) for (h, n) in acked
    ):
        await asyncio.sleep(0.05)
    await nc.close()
    lags, missing = [], 0
    for (habit, n), ack in acked.items():
        when = [t for c, t in seen[habit] if c >= n]
        if when:
            lags.append(max(0.0, min(when) - ack))
        else:
            missing += 1
    return {
        "acked": len(acked),
        "failed": failures,
        "failures": dict(reasons.most_common(3)),
        "offered_per_s": rate,
        "achieved_per_s": len(acked) / sent_for,
        "missing": missing,
        "lags": lags,
    }


async def wait_idle(nats_url: str, dsn: str, timeout: float = 120.0) -> None:
    """Return once the outbox is empty and no JetStream consumer has work, twice in a row."""
    nc = await nats.connect(nats_url)
    conn = await asyncpg.connect(dsn)
    jsm = nc.jsm()
    quiet = 0
    deadline = time.monotonic() + timeout
    try:
        while quiet < 2 and time.monotonic() < deadline:
            busy = await conn.fetchval(
                "SELECT count(*) FROM core.outbox WHERE published_at IS NULL"
            )
            for stream in await jsm.streams_info():
                for consumer in await jsm.consumers_info(stream.config.name):
                    busy += consumer.num_pending + consumer.num_ack_pending
            quiet = quiet + 1 if busy == 0 else 0
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
        await nc.close()


def knowledge_questions() -> list[str]:
    found = []
    for path in sorted((ROOT / "services" / "knowledge" / "eval").glob("*.jsonl")):
        found += [json.loads(line)["question"] for line in path.read_text().splitlines() if line]
    return found


async def knowledge_queries(nats_url: str, count: int, callers: int = 4) -> int:
    """Send ``count`` ``rpc.knowledge.search.v1`` requests from ``callers`` at once; answered."""
    from shared.config import CommonSettings
    from shared.contracts.knowledge import SEARCH
    from shared.messaging import create_broker
    from shared.rpc import call

    broker = create_broker(CommonSettings(service_name="bench", nats_url=nats_url))
    await broker.connect()
    asked = knowledge_questions()
    answered = 0

    async def caller(k: int) -> None:
        nonlocal answered
        while k < count:
            await call(broker, SEARCH, {"query": asked[k % len(asked)], "k": 5})
            answered += 1
            k += callers

    try:
        await asyncio.gather(*(caller(k) for k in range(callers)))
    finally:
        await broker.stop()
    return answered


def embedding_forward_cpu_ms(count: int) -> dict[str, Any]:
    """CPU ms of one query's embedding forward pass, in this process, one query at a time.

    The embedder is the one the services build from the settings (``EMBEDDING_RUNTIME``,
    ``EMBEDDING_PRECISION``, ``EMBEDDING_THREADS``): onnxruntime by default, NumPy when asked or
    when onnxruntime is missing. ``bench/embedding.py`` compares the two runtimes side by side.
    """
    from services.knowledge.embedding import MiniLMEmbedder
    from shared.config import CommonSettings

    settings = CommonSettings()
    questions = knowledge_questions()[:count]
    embedder = MiniLMEmbedder(
        workers=1,
        runtime=settings.embedding_runtime,
        precision=settings.embedding_precision,
        threads=settings.embedding_threads,
    )
    embedder.load()
    try:
        for q in questions[:5]:  # warm-up
            embedder.embed([q])
        cpu = time.process_time()
        for q in questions:
            embedder.embed([q])
        spent = time.process_time() - cpu
    finally:
        embedder.close()
    path = f"{embedder.runtime} {embedder.precision}" if embedder.runtime == "onnx" else "NumPy"
    return {"cpu_ms": spent * 1000 / len(questions), "queries": len(questions), "path": path}


def eval_messages() -> list[str]:
    """The public evaluation messages of the assistant, in file order."""
    return [json.loads(line)["message"] for line in EVAL.read_text().splitlines() if line.strip()]


async def openai_overhead(url: str, fake: Any, token: str, turns: int) -> list[float]:
    """Per turn: first ``text.delta`` at the client minus the fake model's own time to it.

    That is the time before the request reached the model (gateway, JetStream, agent, prompt)
    plus the time after its first chunk left (SDK, live NATS, gateway SSE, client).
    """
    from chat_openai import bench_reply

    await fake.script(default=bench_reply(0.05, 0.0))
    messages = eval_messages()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await conversation(client, token, messages[:2])  # warm-up: connections, prompt caches
        skip = len(await fake.requests())
        done = await conversation(
            client, token, [messages[i % len(messages)] for i in range(turns)]
        )
        records = {r["n"]: r for r in (await fake.requests())[skip:]}
    out = []
    for turn in done:
        found = REPLY.search(turn.text)
        record = records.get(int(found.group(1))) if found else None
        if record is None or record["first"] is None or turn.first_delta is None:
            continue
        out.append(turn.first_delta - turn.sent - (record["first"] - record["received"]))
    return out
