"""One fault under a steady write load, and the checks that say nothing was lost or doubled.

:func:`run_fault` writes habit logs at a steady rate through the gateway, ``kill -9`` s one
component a third of the way in, restarts it at once (as a supervisor would), keeps writing to
the end (and at least a third of the time past the recovery), then waits for the system to
settle and checks, against the private database and bus:

- every acknowledged write (a 201) is stored;
- every stored log's event was published (the outbox is empty) and consumed exactly once in
  effect: learning holds one log event per log, the stream no log event twice, and the stored
  metrics of every habit equal a fresh recompute from its logs;
- no durable consumer holds a message unacknowledged or pending;
- the dead-letter stream holds nothing (no message truly failed under this load).

``recovery`` is the time from the kill until the component answered again and a write made then
had reached metrics and learning (for the agent: a chat turn completed; for knowledge: a search
through a chat turn returned passages).
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from nats.js.api import ConsumerInfo

from services.metrics import repository as metrics_repository
from services.metrics.engine import LogEntry, compute_metrics
from services.metrics.service import habit_spec, metrics_out
from shared.db.engine import create_engine, session_factory
from tests.faults import infra
from tests.faults.stack import FaultStack

FAULTS = ("gateway", "relay", "metrics", "learning", "agent", "knowledge", "nats", "postgres")
# SIGTERM, as an orchestrator stops a pod: in-flight requests, messages and turns are drained.
DRAINS = ("gateway", "metrics", "learning", "agent")
SHUTDOWN_TIMEOUT_SECONDS = 10.0  # the stack's SHUTDOWN_TIMEOUT_SECONDS (tests/faults/stack.py)
START = date(2000, 1, 1)
SETTLE_SECONDS = 90.0
MAX_IN_FLIGHT = 100


@dataclass
class FaultResult:
    fault: str
    acked: int = 0
    readable: int = 0
    failed_requests: int = 0
    server_errors: int = 0
    published: int = 0
    consumed: int = 0
    duplicates: int = 0
    metrics_mismatches: int = 0
    unacked: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    recovery_seconds: float = 0.0
    drain_seconds: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.acked - self.readable

    @property
    def survived(self) -> bool:
        return not self.problems


@dataclass
class Users:
    """The load's users and habits, and the next unused date of each habit."""

    headers: list[dict[str, str]]
    habits: list[tuple[int, str]]  # (user index, habit id)
    next_day: dict[str, int] = field(default_factory=dict)

    def write(self, n: int) -> tuple[str, dict[str, str], dict[str, Any]]:
        user, habit = self.habits[n % len(self.habits)]
        day = self.next_day.get(habit, 0)
        self.next_day[habit] = day + 1
        body = {"date": (START + timedelta(days=day)).isoformat()}
        headers = {**self.headers[user], "Idempotency-Key": uuid.uuid4().hex}
        return habit, headers, body


async def make_users(client: httpx.AsyncClient, users: int = 4, habits: int = 5) -> Users:
    headers, owned = [], []
    for u in range(users):
        email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
        reg = await client.post(
            "/v1/auth/register", json={"email": email, "password": "fault suite password"}
        )
        reg.raise_for_status()
        headers.append({"Authorization": f"Bearer {reg.json()['access_token']}"})
        for h in range(habits):
            created = await client.post(
                "/v1/habits",
                json={"title": f"Habit {h}", "start_date": START.isoformat()},
                headers=headers[-1],
            )
            created.raise_for_status()
            owned.append((u, created.json()["id"]))
    return Users(headers, owned)


class Load:
    """Writes at ``rate`` per second, each on its own task, so a stalled server does not slow
    the schedule; records the log ids of the acknowledged writes."""

    def __init__(self, client: httpx.AsyncClient, users: Users, rate: float) -> None:
        self.client, self.users, self.rate = client, users, rate
        self.acked: list[str] = []
        self.failed = 0
        self.server_errors = 0  # 5xx other than 503: a dependency down must say so, not crash
        self.tasks: set[asyncio.Task[None]] = set()
        self.count = 0
        self.stop_at = 0.0

    async def _one(self) -> None:
        habit, headers, body = self.users.write(self.count)
        self.count += 1
        try:
            response = await self.client.post(
                f"/v1/habits/{habit}/logs", json=body, headers=headers
            )
        except httpx.HTTPError:
            self.failed += 1
            return
        if response.status_code == 201:
            self.acked.append(response.json()["id"])
            return
        self.failed += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.server_errors += 1

    async def run(self, seconds: float) -> None:
        """Write until ``seconds`` passed, or later if :attr:`stop_at` was moved meanwhile."""
        began = time.monotonic()
        self.stop_at = began + seconds
        n = 0
        while (now := time.monotonic()) < self.stop_at:
            due = began + n / self.rate
            if now < due:
                await asyncio.sleep(due - now)
            n += 1
            if len(self.tasks) >= MAX_IN_FLIGHT:
                # A client gives up rather than queue without end while the server is away
                # (httpx's pool gets quadratically slow with thousands of queued requests).
                self.failed += 1
                continue
            task = asyncio.create_task(self._one())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await asyncio.gather(*self.tasks)


async def _chat(client: httpx.AsyncClient, headers: dict[str, str], message: str) -> list[Any]:
    response = await client.post(
        "/v1/chat",
        json={"message": message},
        headers={**headers, "Accept": "application/json"},
        timeout=60,
    )
    response.raise_for_status()
    events: list[Any] = response.json()["events"]
    return events


async def rows(stack: FaultStack, query: str, *args: Any, every: float = 0.05) -> list[Any]:
    """Poll ``query`` until it returns rows."""
    while True:
        found = await stack.sql(query, *args)
        if found:
            return found
        await asyncio.sleep(every)


async def _probe(stack: FaultStack, client: httpx.AsyncClient, users: Users, fault: str) -> None:
    """Wait until a fresh write reached metrics and learning (and the killed part answers)."""
    while True:
        try:
            habit, headers, body = users.write(0)
            response = await client.post(f"/v1/habits/{habit}/logs", json=body, headers=headers)
            if response.status_code == 201:
                break
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    log_id = response.json()["id"]
    await rows(stack, "SELECT 1 FROM learning.events WHERE payload->>'log_id' = $1", log_id)
    await rows(
        stack,
        "SELECT 1 FROM metrics.habit_metrics WHERE habit_id = $1 AND last_completed_on >= $2",
        uuid.UUID(habit),
        date.fromisoformat(body["date"]),
    )
    if fault == "agent":
        await stack.llm.script(default={"text": ["Noted."]})
        events = await _chat(client, users.headers[0], "hello again")
        assert events[-1]["type"] == "run.completed", events[-1]
    if fault == "knowledge":
        search = {
            "tool_calls": [{"name": "search_knowledge", "arguments": '{"query": "habit loop"}'}]
        }
        await stack.llm.script(search, {"text": ["Found it."]}, default={"text": ["Noted."]})
        events = await _chat(client, users.headers[0], "what is a habit loop?")
        done = [e for e in events if e["type"] == "tool.call.completed"]
        assert done and not done[0]["is_error"] and done[0]["result"]["results"], done


async def _inject(stack: FaultStack, client: httpx.AsyncClient, users: Users, fault: str) -> None:
    """Kill the fault's component (``relay``: the gateway, whose outbox relay is mid-batch)."""
    if fault == "agent":
        # Hold a turn open in the model, then kill the agent while it runs.
        await stack.llm.script(default={"delay": 5, "text": ["late"]})
        turn = asyncio.create_task(_chat(client, users.headers[-1], "tell me something"))
        await rows(stack, "SELECT 1 FROM agent.turns WHERE status = 'running'")
        stack.kill("agent")
        turn.cancel()  # the gateway would wait its idle timeout for a turn that died
        await asyncio.gather(turn, return_exceptions=True)
        return
    if fault == "relay":
        # The relay runs in the gateway: kill it while committed events wait to be published.
        await rows(stack, "SELECT 1 FROM core.outbox WHERE published_at IS NULL", every=0.005)
    stack.kill("gateway" if fault == "relay" else fault)


async def _drain(
    stack: FaultStack, client: httpx.AsyncClient, users: Users, name: str, result: FaultResult
) -> None:
    """SIGTERM a service; it must exit cleanly within the shutdown timeout, and the agent must
    finish the turn it was running."""
    turn = None
    if name == "agent":
        await stack.llm.script(default={"delay": 3, "text": ["Finished ", "in time."]})
        turn = asyncio.create_task(_chat(client, users.headers[-1], "tell me something"))
        await rows(stack, "SELECT 1 FROM agent.turns WHERE status = 'running'")
    began = time.monotonic()
    code = await asyncio.to_thread(stack.component(name).terminate, SHUTDOWN_TIMEOUT_SECONDS + 20)
    result.drain_seconds = time.monotonic() - began
    # uvicorn re-raises the signal once it has shut down gracefully, so -SIGTERM is a clean exit.
    if code not in (0, -signal.SIGTERM):
        result.problems.append(f"{name} exited with {code} on SIGTERM")
    if result.drain_seconds > SHUTDOWN_TIMEOUT_SECONDS + 5:
        result.problems.append(f"{name} took {result.drain_seconds:.1f}s to stop")
    if turn is not None:
        events = await turn
        if events[-1]["type"] != "run.completed" or events[-1]["text"] != "Finished in time.":
            result.problems.append(f"the turn in flight ended with {events[-1]}")
        await stack.llm.script(default={"text": ["Noted."]})


async def _restart(stack: FaultStack, fault: str) -> None:
    name = "gateway" if fault == "relay" else fault
    if name == "postgres":
        await asyncio.to_thread(stack.postgres.start)
    else:
        await asyncio.to_thread(stack.component(name).start)


def _in_hand(stack: FaultStack, consumer: ConsumerInfo, now: float, deadline: float) -> bool:
    """Whether a message held unacknowledged is within an ack wait that outlasts the settling.

    A process killed mid-message never acks it; JetStream hands it out again once the consumer's
    ack wait has passed since delivery (30 s, agent turns 180 s, webhooks 300 s). Until then it
    is in hand, not lost. A kill of NATS may lose an ack in flight the same way. A message that
    comes back before the deadline is waited for (its event must still be consumed once); only
    one whose ack wait ends after it is excused.
    """
    owner = consumer.name.split("-", 1)[0]
    wait = consumer.config.ack_wait or 0.0
    return any(
        now - stack.kills.get(name, -1e9) < wait and stack.kills.get(name, -1e9) + wait > deadline
        for name in (owner, "nats")
    )


async def _settle(stack: FaultStack) -> dict[str, int]:
    """Wait until the outbox is empty and no consumer holds work; return what is still held
    (beyond messages in hand, see :func:`_in_hand`)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    held: dict[str, int] = {}
    while time.monotonic() < deadline:
        unpublished = await stack.sql("SELECT 1 FROM core.outbox WHERE published_at IS NULL")
        now = time.monotonic()
        held = {
            c.name: (c.num_pending or 0) + (c.num_ack_pending or 0)
            for c in await stack.consumers()
            if c.num_pending or (c.num_ack_pending and not _in_hand(stack, c, now, deadline))
        }
        if not unpublished and not held:
            return {}
        await asyncio.sleep(0.25)
    return held


async def _metrics_mismatches(stack: FaultStack, habits: list[str]) -> list[str]:
    """Habits whose stored metrics differ from a fresh recompute from their logs."""
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=1)
    wrong = []
    try:
        async with session_factory(engine)() as session:
            for habit in habits:
                habit_id = uuid.UUID(habit)
                (row,) = await stack.sql(
                    "SELECT * FROM metrics.habit_metrics WHERE habit_id = $1", habit_id
                )
                record = await metrics_repository.habit_record(session, habit_id)
                assert record is not None
                logs = [
                    LogEntry(d, s, v)  # type: ignore[arg-type]
                    for d, s, v in await metrics_repository.habit_logs(session, habit_id)
                ]
                computed = compute_metrics(habit_spec(record), logs, row["as_of"])
                out = metrics_out(habit_id, row["as_of"], computed).model_dump()
                if any(out[k] != v for k, v in dict(row).items() if k in out):
                    wrong.append(habit)
    finally:
        await engine.dispose()
    return wrong


async def _check(
    stack: FaultStack, result: FaultResult, acked: list[str], habits: list[str], dlq_before: int
) -> None:
    """Fill in the figures of this fault's habits and list what went wrong."""
    ids = [uuid.UUID(h) for h in habits]
    found = await stack.sql("SELECT id::text FROM core.habit_logs WHERE id::text = ANY($1)", acked)
    result.readable = len(found)
    logs = await stack.sql("SELECT id FROM core.habit_logs WHERE habit_id = ANY($1)", ids)
    events = await stack.sql(
        "SELECT published_at FROM core.outbox WHERE subject = 'habits.log.recorded.v1' "
        "AND payload->>'habit_id' = ANY($1)",
        habits,
    )
    result.published = sum(1 for e in events if e["published_at"] is not None)
    consumed = await stack.sql(
        "SELECT payload->>'log_id' AS log_id, count(*) AS n FROM learning.events "
        "WHERE kind = 'log_recorded' AND habit_id = ANY($1) GROUP BY 1",
        ids,
    )
    result.consumed = sum(r["n"] for r in consumed)
    result.duplicates = sum(r["n"] - 1 for r in consumed) + await _stream_duplicates(
        stack, set(habits)
    )
    result.metrics_mismatches = len(await _metrics_mismatches(stack, habits))
    result.dead_letters = await stack.stream_messages("DEAD_LETTERS") - dlq_before
    if result.lost:
        result.problems.append(f"{result.lost} acknowledged writes not stored")
    if result.server_errors:
        result.problems.append(f"{result.server_errors} answers 5xx other than 503")
    if result.published != len(logs):
        result.problems.append(f"{len(logs)} logs but {result.published} events published")
    if result.consumed != len(logs):
        result.problems.append(f"{len(logs)} logs but learning consumed {result.consumed}")
    if result.duplicates:
        result.problems.append(f"{result.duplicates} duplicates")
    if result.metrics_mismatches:
        result.problems.append(f"{result.metrics_mismatches} habits' metrics differ")
    if result.unacked:
        result.problems.append(f"consumers still holding messages: {result.unacked}")
    if result.dead_letters:
        result.problems.append(f"{result.dead_letters} dead letters")


async def _stream_duplicates(stack: FaultStack, habits: set[str]) -> int:
    """Log events of these habits on the stream beyond one per log (re-publishes by the relay
    that JetStream's dedupe window should have dropped)."""
    found = await infra.log_events(stack.nats_url, habits)
    return len(found) - len(set(found))


async def run_fault(
    stack: FaultStack, fault: str, seconds: float, rate: float, *, sigterm: bool = False
) -> FaultResult:
    """Write for ``seconds`` at ``rate``; a third of the way in, ``kill -9`` the fault's
    component (or, with ``sigterm``, stop it gracefully) and restart it; then check."""
    result = FaultResult(f"SIGTERM {fault}" if sigterm else fault)
    dlq_before = await stack.stream_messages("DEAD_LETTERS")
    # Room in the pool beyond the load's writes, for the probe and the chat turns.
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT + 20, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15, limits=limits) as client:
        users = await make_users(client)
        load = Load(client, users, rate)
        writing = asyncio.create_task(load.run(seconds))
        await asyncio.sleep(seconds / 3)
        stopped = time.monotonic()
        if sigterm:
            await _drain(stack, client, users, fault, result)
        else:
            await _inject(stack, client, users, fault)
        await _restart(stack, fault)
        try:
            await asyncio.wait_for(_probe(stack, client, users, fault), SETTLE_SECONDS)
        except TimeoutError:
            result.problems.append(f"did not recover within {SETTLE_SECONDS:.0f}s")
        result.recovery_seconds = time.monotonic() - stopped
        # Keep writing a while after the recovery, however long it took.
        load.stop_at = max(load.stop_at, time.monotonic() + seconds / 3)
        await writing
        result.acked, result.failed_requests = len(load.acked), load.failed
        result.server_errors = load.server_errors
        result.unacked = await _settle(stack)
        await _check(stack, result, load.acked, [h for _, h in users.habits], dlq_before)
    return result


def table(results: list[FaultResult]) -> str:
    """The fault table: one row per fault, the figures the issue asks for (``unacked``: writes
    that got no 201, refused or cut off by the fault; committed or not, they were never lost)."""
    head = (
        f"{'fault':<17} {'acked':>6} {'unacked':>7} {'readable':>8} {'lost':>4} "
        f"{'published':>9} {'consumed':>8} {'dups':>4} {'metrics≠':>8} {'DLQ':>4} {'stop':>6} "
        f"{'recovery':>8}  result"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        stop = f"{r.drain_seconds:.1f}s" if r.drain_seconds is not None else "kill"
        lines.append(
            f"{r.fault:<17} {r.acked:>6} {r.failed_requests:>7} {r.readable:>8} {r.lost:>4} "
            f"{r.published:>9} {r.consumed:>8} {r.duplicates:>4} {r.metrics_mismatches:>8} "
            f"{r.dead_letters:>4} {stop:>6} {r.recovery_seconds:>7.1f}s  "
            + ("survived" if r.survived else "; ".join(r.problems))
        )
    return "\n".join(lines)
