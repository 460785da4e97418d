"""`python -m desk.insights rollup [--every SECONDS]`: update the Insights figures (cron-safe).

Reads the tracker store (TRACKER_DB_URL, else the one endpoints.yml names) and the desk's
database (DESK_DATABASE_URL) read-only; writes the insights tables (INSIGHTS_DATABASE_URL,
default the desk's database). Prints one line of counts, never an id or a message.
Exit status 0 done, 1 failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import List

from desk.insights.rollup import Rollup
from desk.insights.settings import InsightsSettings


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.insights", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rollup = commands.add_parser("rollup", help="roll up new events and handoffs")
    rollup.add_argument("--every", type=float, default=0, help="repeat every N seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    job = Rollup(InsightsSettings.from_env())
    try:
        while True:
            try:
                print(job.run().line(), flush=True)
            except Exception as error:  # the kind only: SQL parameters could hold a sender id
                print(f"insights roll-up failed: {type(error).__name__}", file=sys.stderr)
                if not args.every:
                    return 1
            if not args.every:
                return 0
            time.sleep(args.every)
    finally:
        job.dispose()


if __name__ == "__main__":
    sys.exit(main())
