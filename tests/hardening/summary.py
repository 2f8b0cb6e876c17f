"""Print the one table of ``make test-hardening`` from what its suites wrote to .data/hardening.

Each hardening suite adds its counts to ``tally-<worker>.json`` (tests/hardening/conftest.py);
pytest's JUnit report says which suites passed, the bus fuzz (tests/integration) included.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

REPORT_DIR = Path(".data/hardening")
SUITES = {
    "schema fuzzing": "test_schema_fuzz",
    "authorization matrix": "test_authorization_matrix",
    "limits": "test_limits",
    "authentication": "test_auth",
    "headers": "test_headers",
    "bus fuzzing": "test_bus_fuzz",
    "prompt injection": "test_prompt_injection",
    "faults": "test_faults",
    "degradation": "test_degradation",
}


def outcomes(junit: Path) -> dict[str, Counter[str]]:
    """Per suite module: how many tests passed, failed or were skipped."""
    per: dict[str, Counter[str]] = {name: Counter() for name in SUITES.values()}
    if not junit.exists():
        return per
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        if module not in per:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            per[module]["failed"] += 1
        elif case.find("skipped") is not None:
            per[module]["skipped"] += 1
        else:
            per[module]["passed"] += 1
    return per


def main() -> int:
    tally: Counter[str] = Counter()
    for path in [*REPORT_DIR.glob("tally-*.json"), *REPORT_DIR.glob("faults-*.json")]:
        tally.update(json.loads(path.read_text()))
    per = outcomes(REPORT_DIR / "junit.xml")
    figures = {
        "schema fuzzing": f"{tally['fuzz_cases']} cases over {tally['fuzz_operations']} "
        f"operations, {tally['fuzz_5xx']} 5xx, {tally['fuzz_failures']} failed runs",
        "authorization matrix": f"{tally['authz_pairs']} pairs (user B on user A's object), "
        f"{tally['authz_leaks']} leaks",
        "limits": f"{tally['limits_checked']} limits checked",
        "authentication": f"{tally['auth_checks']} auth checks",
        "headers": f"{tally['header_checks']} responses checked",
        "bus fuzzing": f"{per['test_bus_fuzz']['passed']} subscriber suites passed",
        "prompt injection": f"injections tried {tally['injection_runs']} "
        f"({tally['injection_cases']} cases × offline and OpenAI) with "
        f"{tally['injection_unauthorised'] + tally['injection_destroyed']} unauthorised actions; "
        f"{tally['injection_outside']} calls outside the request blocked, "
        f"{tally['injection_prompt_leaks'] + tally['injection_data_leaks']} leaks",
        "faults": f"faults survived {tally['faults_survived']}/{tally['faults_run']} "
        f"with {tally['faults_lost']} lost ({tally['faults_acked']} writes acknowledged)",
        "degradation": f"{per['test_degradation']['passed']} dependency outages answered "
        "without a 5xx or run.failed",
    }
    width = max(len(f) for f in figures.values())
    print()
    print(f"{'suite':<22} {'figures':<{width}}  tests       result")
    print(f"{'-' * 22} {'-' * width}  ----------  ------")
    failed = False
    for name, module in SUITES.items():
        counts = per[module]
        ran = counts["passed"] + counts["failed"]
        ok = ran > 0 and counts["failed"] == 0
        failed |= not ok
        tests = f"{counts['passed']}/{ran}"
        print(f"{name:<22} {figures[name]:<{width}}  {tests:<10}  {'PASS' if ok else 'FAIL'}")
    print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
