"""Label an applicant's question: `python -m training.label "text" --topic NAME` (or --new-topic).

Exit status 0: written; 2: refused (the message says why; nothing was written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from training.labelling import Added, LabellingError, add_example, add_topic, topics
from training.topics import DATA, Layout, area_names

REFUSED = 2


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m training.label",
        description="Add an applicant's question to the training data, under an existing topic "
        "or as the first example of a new one.",
    )
    parse.add_argument("text", nargs="?", help="the applicant's words (quote them)")
    target = parse.add_mutually_exclusive_group()
    target.add_argument(
        "--topic", help="an existing topic, e.g. process_vetting, or an intent, e.g. greet"
    )
    target.add_argument("--new-topic", metavar="NAME", help="start a new FAQ topic, e.g. life_pets")
    target.add_argument("--list", action="store_true", help="list the topics and intents")
    parse.add_argument(
        "--area", choices=area_names(), help="the new topic's area (default: from its prefix)"
    )
    parse.add_argument("--data-dir", type=Path, default=DATA, help=argparse.SUPPRESS)
    return parse


def report(added: Added, data_dir: Path) -> None:
    layout = Layout.from_data_dir(data_dir)
    for change in added.changes:
        print(f"{layout.relative(change.path)}:{change.line}: {change.what}")
    for note in added.notes:
        print(f"note: {note}")
    print("Next: `make check`, then `make train` (or `make run`) to retrain with it.")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.list:
            print("\n".join(topics(args.data_dir)))
            return 0
        if not args.topic and not args.new_topic:
            raise LabellingError(
                "refused: say where the question goes: --topic NAME (see --list) "
                "or --new-topic NAME"
            )
        if args.text is None:
            raise LabellingError("refused: give the applicant's words as the first argument")
        if args.area and not args.new_topic:
            raise LabellingError("refused: --area only goes with --new-topic")
        if args.new_topic:
            added = add_topic(args.new_topic, args.text, args.area, data_dir=args.data_dir)
        else:
            added = add_example(args.topic, args.text, data_dir=args.data_dir)
    except LabellingError as error:
        print(error.message, file=sys.stderr)
        return REFUSED
    report(added, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
