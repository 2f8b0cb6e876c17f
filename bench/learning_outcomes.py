"""CPU of the learning service's closed outcomes for a realistic user, per snapshot.

Five daily habits over 90 days with a done log on about 80% of them, written at a random hour of
the day they are for, in Europe/Lisbon with the day starting at 04:00 — what each log event makes
the learning service rebuild for its user (docs/performance.md).

    .venv/bin/python bench/learning_outcomes.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.learning.outcomes import (
    Calendar,
    HabitFacts,
    LogFact,
    closed_outcomes,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(1)
    today = date(2026, 12, 7)
    calendar = Calendar("Europe/Lisbon", clock(4, 0))
    habits = [
        HabitFacts(
            habit_id=str(uuid.uuid4()),
            title=f"habit {i}",
            kind="boolean",
            schedule={"every": 1, "unit": "day"},
            start_date=today - timedelta(days=90),
        )
        for i in range(5)
    ]
    logs = {
        h.habit_id: [
            LogFact(day, "done", None, datetime.combine(day, clock(rng.randrange(6, 23)), UTC))
            for k in range(90)
            if rng.random() < 0.8
            for day in [today - timedelta(days=k + 1)]
        ]
        for h in habits
    }
    through = today - timedelta(days=1)

    def snapshot() -> None:
        for habit in habits:
            closed_outcomes(habit, logs[habit.habit_id], through, calendar)

    snapshot()
    began = time.process_time()
    for _ in range(args.repeat):
        snapshot()
    spent = (time.process_time() - began) / args.repeat
    print(f"closed outcomes, 5 habits x 90 days: {spent * 1000:.2f} ms CPU per snapshot")


if __name__ == "__main__":
    main()
