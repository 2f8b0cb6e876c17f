"""Read a generated Apple Health export of about 200 MB: records per second and peak RSS.

Run from the repository root: ``.venv/bin/python bench/health_import.py [--mb 200] [--zip]``.
The export (a watch wearer's: heart rate every few minutes, steps, energy, sleep stages,
workouts) is generated into a temporary directory, then read in a fresh child process exactly
as an import job reads it (``services.gateway.health.uploads.prepare`` + ``read``), so the peak
RSS printed is the reader's alone. Goal: at least 50,000 records/s and under 200 MB RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ZONE = "Europe/Berlin"


def _read(path: Path) -> None:
    from services.gateway.health.uploads import Limits, Progress, prepare

    started = time.perf_counter()
    prepared = prepare("apple_health", path, ZONE, clock(0, 0), Limits(2**40, 2**30))
    progress = Progress()
    totals = prepared.read(progress)
    seconds = time.perf_counter() - started
    rows = totals.all_rows()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "records": totals.records,
                "seconds": round(seconds, 2),
                "records_per_second": round(totals.records / seconds),
                "mb_per_second": round(progress.processed / seconds / 1e6, 1),
                "daily_rows": len(rows),
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--zip", action="store_true", help="read it from an export.zip")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        _read(args.read)
        return
    from tests.health_exports import write_large_apple_export

    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "export.xml"
        with xml.open("wb") as out:
            records = write_large_apple_export(out, args.mb * 1024 * 1024, ZONE)
        target = xml
        if args.zip:
            target = Path(tmp) / "export.zip"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(xml, "apple_health_export/export.xml")
        size = xml.stat().st_size
        print(f"generated {size / 1e6:.0f} MB, {records} records ({target.name})", flush=True)
        subprocess.run([sys.executable, __file__, "--read", str(target)], check=True)


if __name__ == "__main__":
    main()
