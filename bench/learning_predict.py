"""Time the success predictor in-process: ``predict`` with factors, ``probability``, ``update``.

Trains a model on the simulated population from the unit tests (200 users, 60 days by default),
then times single calls on that population's habit-days. Run from the repository root::

    .venv/bin/python bench/learning_predict.py [--users 200] [--days 60] [--calls 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.learning.prediction import Example, SuccessPredictor
from tests.unit.learning.population import SimDay, simulate_population


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    mean = statistics.fmean(ordered) / 1000
    return f"p50 {p50:7.1f} µs   p99 {p99:7.1f} µs   mean {mean:7.1f} µs"


def timed(days: list[SimDay], calls: int, run: Callable[[SimDay], object]) -> list[int]:
    samples = []
    for i in range(calls):
        day = days[i % len(days)]
        start = time.perf_counter_ns()
        run(day)
        samples.append(time.perf_counter_ns() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()

    population = simulate_population(n_users=args.users, n_days=args.days)
    days = [d for d in population.days if d.status != "skipped"]
    model = SuccessPredictor()
    start = time.perf_counter()
    for d in days:
        model.update(Example(d.profile, d.history, d.on), d.done)
    trained_in = time.perf_counter() - start
    print(f"trained on {len(days)} outcomes of {args.users} users in {trained_in:.2f} s")

    results = {
        "predict": timed(days, args.calls, lambda d: model.predict(d.profile, d.history, d.on)),
        "probability": timed(
            days, args.calls, lambda d: model.probability(d.profile, d.history, d.on)
        ),
        "update": timed(
            days, args.calls, lambda d: model.update(Example(d.profile, d.history, d.on), d.done)
        ),
    }
    for name, samples in results.items():
        print(f"{name:<12} {percentiles(samples)}   ({len(samples)} calls)")


if __name__ == "__main__":
    main()
