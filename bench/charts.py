"""Time the chart path's CPU parts: the history, the spec, and PNG/SVG rendering.

Run from the repository root: ``.venv/bin/python bench/charts.py``. Prints the median of each
step per period for a daily habit with ten years of logs (about 70% of days done).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.metrics.engine import HabitSpec, LogEntry, Schedule
from services.metrics.history import history
from shared.charts import CHART_TYPES, PERIODS, build_spec, render
from shared.contracts.metrics import HistoryDay, HistoryOut, HistoryPeriod, HistoryStreak

END = date(2026, 3, 15)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    rng = random.Random(7)
    first = END - timedelta(days=3652)
    habit = HabitSpec(kind="boolean", schedule=Schedule(), start_date=first)
    logs = [LogEntry(first + timedelta(i)) for i in range(3653) if rng.random() < 0.7]
    render(build_spec(_out(habit, logs, "30d"), "bar", "30d"), "png")  # V8 start-up, once
    print(
        f"{'period':<6} {'history':>9} {'spec':>7}  " + "  ".join(f"{t:>15}" for t in CHART_TYPES)
    )
    for period in PERIODS:
        out = _out(habit, logs, period)
        days, window, granularity = PERIODS[period]
        since = END - timedelta(days=days - 1)
        h_ms = _median_ms(partial(history, habit, logs, since, END, window, granularity), 20)
        s_ms = _median_ms(partial(_all_specs, out, period), 20) / len(CHART_TYPES)
        cells = []
        for chart in CHART_TYPES:
            spec = build_spec(out, chart, period)
            png = _median_ms(partial(render, spec, "png"), 5)
            svg = _median_ms(partial(render, spec, "svg"), 5)
            cells.append(f"{png:6.0f}/{svg:5.0f} ms")
        print(f"{period:<6} {h_ms:7.2f}ms {s_ms:5.2f}ms  " + "  ".join(f"{c:>15}" for c in cells))
    print("(per chart type: PNG/SVG render time, median)")


def _all_specs(out: HistoryOut, period: str) -> list[dict[str, object]]:
    return [build_spec(out, t, period) for t in CHART_TYPES]  # type: ignore[arg-type]


def _out(habit: HabitSpec, logs: list[LogEntry], period: str) -> HistoryOut:
    days, window, granularity = PERIODS[period]
    h = history(habit, logs, END - timedelta(days=days - 1), END, window, granularity)
    return HistoryOut(
        habit_id=uuid.UUID(int=1),
        title="Running",
        kind="boolean",
        target=None,
        start=END - timedelta(days=days - 1),
        end=END,
        window=window,
        granularity=granularity,
        streak_unit=h.streak_unit,
        days=[HistoryDay(**asdict(d)) for d in h.days],
        streaks=[HistoryStreak(**asdict(s)) for s in h.streaks],
        periods=[HistoryPeriod(**asdict(p)) for p in h.periods],
    )


if __name__ == "__main__":
    main()
