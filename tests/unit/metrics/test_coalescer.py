import asyncio
import uuid

from services.metrics.service import Coalescer


async def test_a_burst_of_events_runs_few_recomputes_and_the_last_sees_everything() -> None:
    coalescer = Coalescer()
    habit = uuid.uuid4()
    state = {"writes": 0}
    seen: list[int] = []

    async def recompute(key: uuid.UUID) -> None:
        seen.append(state["writes"])  # what the database holds when the recompute reads it
        await asyncio.sleep(0.01)

    async def event() -> None:
        state["writes"] += 1  # committed before its event is handled
        await coalescer.run(habit, recompute)

    await asyncio.gather(*(event() for _ in range(30)))
    assert 1 <= len(seen) <= 3
    assert seen[-1] == 30


async def test_different_habits_do_not_wait_for_each_other() -> None:
    coalescer = Coalescer()
    ran: list[uuid.UUID] = []

    async def recompute(key: uuid.UUID) -> None:
        ran.append(key)

    keys = [uuid.uuid4() for _ in range(5)]
    await asyncio.gather(*(coalescer.run(k, recompute) for k in keys))
    assert sorted(ran) == sorted(keys)
    assert not coalescer._locks  # nothing left behind


async def test_an_event_after_a_finished_recompute_recomputes_again() -> None:
    coalescer = Coalescer()
    habit = uuid.uuid4()
    calls = 0

    async def recompute(key: uuid.UUID) -> None:
        nonlocal calls
        calls += 1

    await coalescer.run(habit, recompute)
    await coalescer.run(habit, recompute)
    assert calls == 2
