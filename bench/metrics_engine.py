"""Time compute_metrics on habits with years of daily logs.

Run from the repository root: ``.venv/bin/python bench/metrics_engine.py``. The budget (issue 3)
is a median under 2 ms for ten years of daily logs and under 0.3 ms for one year.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.metrics.engine import (
    HabitSpec,
    LogEntry,
    Schedule,
    Target,
    compute_metrics,
)

AS_OF = date(2026, 2, 15)


def daily_logs(years: int, quantity: bool, seed: int = 7) -> list[LogEntry]:
    """A log on most days, a few skipped or missed, so streaks break now and then."""
    rng = random.Random(seed)
    days = 365 * years
    logs = []
    for k in range(days):
        day = AS_OF - timedelta(days=days - 1 - k)
        roll = rng.random()
        if roll < 0.03:
            continue
        if roll < 0.05:
            logs.append(LogEntry(day, "skip"))
        else:
            logs.append(
                LogEntry(day, "done", float(rng.randint(4000, 14000)) if quantity else None)
            )
    rng.shuffle(logs)
    return logs


def measure(run: Callable[[], object], repetitions: int) -> tuple[float, float]:
    for _ in range(10):
        run()
    timings = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        run()
        timings.append(time.perf_counter() - t0)
    timings.sort()
    return statistics.median(timings) * 1e3, timings[int(0.95 * (len(timings) - 1))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=300)
    args = parser.parse_args()
    habits = {
        "boolean daily": HabitSpec("boolean", Schedule(), date(2000, 1, 1)),
        "boolean 3x/week": HabitSpec(
            "boolean", Schedule(unit="week", times=3), date(2000, 1, 1), week_start=6
        ),
        "boolean mon/wed/fri": HabitSpec(
            "boolean", Schedule(type="weekdays", days=(0, 2, 4)), date(2000, 1, 1)
        ),
        "quantity daily at_least": HabitSpec(
            "quantity", Schedule(), date(2000, 1, 1), Target(10000, "steps")
        ),
        "negative": HabitSpec("negative", Schedule(), date(2000, 1, 1)),
    }
    print(f"compute_metrics, {args.repetitions} repetitions, as of {AS_OF}")
    print(f"{'habit':<26}{'years':>6}{'logs':>7}{'median ms':>11}{'p95 ms':>9}")
    for name, habit in habits.items():
        for years in (10, 1):
            start = AS_OF - timedelta(days=365 * years - 1)
            spec = HabitSpec(habit.kind, habit.schedule, start, habit.target, habit.week_start)
            logs = daily_logs(years, quantity=habit.kind == "quantity")
            median, p95 = measure(partial(compute_metrics, spec, logs, AS_OF), args.repetitions)
            print(f"{name:<26}{years:>6}{len(logs):>7}{median:>11.3f}{p95:>9.3f}")


if __name__ == "__main__":
    main()
