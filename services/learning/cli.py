"""Operator commands against a running learning service, over its rpc subjects.

python -m services.learning.cli sweep <user_id>       # churn-sweep one user now
python -m services.learning.cli report nudge_tone     # an experiment's report
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

from services.learning.config import LearningSettings
from shared.contracts.learning import EXPERIMENT_REPORT, SWEEP, ReportQuery, UserQuery
from shared.messaging import create_broker
from shared.rpc import call


async def run(command: str, argument: str) -> Any:
    settings = LearningSettings(service_name="learning-cli")
    broker = create_broker(settings)
    await broker.connect()
    try:
        if command == "sweep":
            return await call(broker, SWEEP, UserQuery(user_id=uuid.UUID(argument)), timeout=30)
        return await call(broker, EXPERIMENT_REPORT, ReportQuery(experiment=argument))
    finally:
        await broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.learning.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sweep", help="churn-sweep one user now").add_argument("user_id")
    sub.add_parser("report", help="print an experiment's report").add_argument("experiment")
    args = parser.parse_args()
    target = args.user_id if args.command == "sweep" else args.experiment
    print(json.dumps(asyncio.run(run(args.command, target)), indent=2))


if __name__ == "__main__":
    main()
