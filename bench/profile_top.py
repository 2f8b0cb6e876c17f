"""The top frames of a py-spy profile, for the tables in docs/performance.md.

Reads the collapsed stacks ``py-spy record --format raw`` writes (one ``frame;frame;… count``
line per distinct stack) and prints, per frame, the share of samples it was on the stack
(inclusive) and at the top of it (self), out of the samples where the process was busy (a
thread waiting in epoll, a queue or a pipe is idle). Frames on nearly every busy stack (the event
loop's, the server's) say nothing and are left out of the inclusive list.

    .venv/bin/py-spy record --pid PID --duration 30 --format raw -o gateway.raw
    .venv/bin/python bench/profile_top.py gateway.raw [--top 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# "function (path/to/file.py:line)": the line number differs by call site; group by function.
LINE = re.compile(r":\d+\)$")
# A stack ending here is a thread waiting (the event loop in epoll, an idle worker thread, the
# uvicorn worker's ping pipe), not CPU: such samples are left out.
IDLE = ("Runner.run (", "Condition.wait (", "Queue.get (", "Connection._recv (", "select (")


def read(path: Path) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [LINE.sub(")", f) for f in stack.split(";") if f]
        if not frames or frames[-1].startswith(IDLE):
            continue
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    return inclusive, own, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--max-share", type=float, default=0.9, help="skip frames on more stacks")
    args = parser.parse_args()
    for path in args.profiles:
        inclusive, own, total = read(path)
        print(f"## {path.name}: {total} samples")
        print("| inclusive | frame |\n|---:|---|")
        shown = 0
        for frame, n in inclusive.most_common():
            if n / total > args.max_share:
                continue
            print(f"| {n / total:.0%} | `{frame}` |")
            shown += 1
            if shown == args.top:
                break
        print("\n| self | frame |\n|---:|---|")
        for frame, n in own.most_common(args.top):
            print(f"| {n / total:.0%} | `{frame}` |")
        print()


if __name__ == "__main__":
    main()
