"""The trainers' inbox on the command line: real applicant messages the assistant got wrong,
redacted and grouped (training/inbox_groups.py; which messages: training/missed_messages.py;
how it works: docs/inbox.md).

    python -m desk.inbox_command [--since DAYS] [--limit N] [--export FILE.csv|FILE.jsonl]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from desk.settings import database_url
from desk.training_inbox import collect
from training.grouping import DEFAULT_SIMILARITY
from training.inbox_groups import Inbox, InboxItem, InboxQuery
from training.inbox_settings import InboxSettings
from training.missed_messages import DEFAULT_CONFIDENCE


def export(inbox: Inbox, path: Path) -> None:
    rows = [item.as_row() for item in inbox.items]
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: export to a .csv or a .jsonl file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        if suffix == ".csv":
            writer = csv.DictWriter(out, fieldnames=list(InboxItem("", "").as_row()))
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def table(inbox: Inbox) -> str:
    """A plain-text table, most asked first; each message whole, on one line."""
    if not inbox.items:
        return "Nothing in the inbox: no missed messages in this period."
    header = f"{'#':>3} {'count':>5}  {'reasons':<26} {'topic':<32} {'conf':>5}  message"
    lines = [header, "-" * 100]
    for number, item in enumerate(inbox.items, 1):
        confidence = "" if item.confidence is None else f"{item.confidence:.2f}"
        text = " ".join(item.text.split())
        lines.append(
            f"{number:>3} {item.count:>5}  {_cut(item.reason, 26):<26} {_cut(item.topic, 32):<32} "
            f"{confidence:>5}  {text}"
        )
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(inbox: Inbox) -> str:
    return (
        f"{inbox.rows} events read in {inbox.pages} pages; {inbox.messages} missed messages in "
        f"{inbox.groups} groups ({inbox.excluded} left out: already labelled or ignored); "
        f"showing {len(inbox.items)}."
    )


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m desk.inbox_command",
        description="Applicant messages the assistant fell back on, answered with low "
        "confidence, handed to a recruiter or that a recruiter flagged; redacted and grouped.",
    )
    parse.add_argument(
        "--since", type=float, metavar="DAYS", help="messages of the last DAYS days (0: all)"
    )
    parse.add_argument("--limit", type=int, metavar="N", help="at most N groups, most asked first")
    parse.add_argument("--export", type=Path, metavar="FILE", help="write FILE.csv or FILE.jsonl")
    parse.add_argument(
        "--confidence",
        type=float,
        metavar="P",
        help=f"below this is low confidence (default {DEFAULT_CONFIDENCE})",
    )
    parse.add_argument(
        "--similarity",
        type=float,
        metavar="S",
        help=f"word overlap that makes near-duplicates (default {DEFAULT_SIMILARITY})",
    )
    parse.add_argument("--page-size", type=int, metavar="N", help="events read per query")
    parse.add_argument("--db-url", help="the tracker store (default: TRACKER_DB_URL, ...)")
    parse.add_argument("--desk-db-url", help="the desk's database (default: DESK_DATABASE_URL)")
    return parse


def main(argv: Sequence[str] | None = None, now: Callable[[], float] = time.time) -> int:
    args = parser().parse_args(argv)
    settings = InboxSettings.from_env(database_url())
    since_days = settings.since_days if args.since is None else (args.since or None)
    if args.limit is not None and args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    if args.export and args.export.suffix.lower() not in (".csv", ".jsonl"):
        print(f"--export {args.export}: give a .csv or a .jsonl file", file=sys.stderr)
        return 2
    query = InboxQuery(
        since=None if since_days is None else now() - since_days * 86400,
        confidence=settings.confidence if args.confidence is None else args.confidence,
        similarity=settings.similarity if args.similarity is None else args.similarity,
        page_size=args.page_size or settings.page_size,
        limit=args.limit if args.limit or args.export else 50,
    )
    if not 0 < query.similarity <= 1 or query.page_size < 1:
        print("--similarity must be in (0, 1] and --page-size at least 1", file=sys.stderr)
        return 2
    tracker_url = args.db_url or settings.tracker_url
    desk_url = args.desk_db_url or (args.db_url if args.db_url else settings.desk_url)
    try:
        inbox = collect(
            InboxSettings(tracker_url=tracker_url, desk_url=desk_url, data_dir=settings.data_dir),
            query,
        )
    except FileNotFoundError as error:  # the spaCy pipeline is missing
        print(str(error), file=sys.stderr)
        return 1
    except Exception as error:  # a bad URL or an unreachable database
        print(f"Cannot read the tracker store at {_safe(tracker_url)}: {error}", file=sys.stderr)
        return 1
    if args.export:
        export(inbox, args.export)
        print(f"{len(inbox.items)} groups written to {args.export}", file=sys.stderr)
    else:
        print(table(inbox))
    print(summary(inbox), file=sys.stderr)
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


if __name__ == "__main__":
    sys.exit(main())
