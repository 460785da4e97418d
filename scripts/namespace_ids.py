"""Move conversations stored before channel namespaces to their namespaced ids, once.

Before issue 15 a conversation's id was the channel's own id (an Instagram IGSID, a REST
``sender``, a web chat session id), so the channels shared one namespace. Now each channel
keeps its conversations under ``<namespace>:<id>`` (channels/conversation_ids.py). This
renames, in place and idempotently:

- the tracker store's ``events``: a conversation goes to the namespace of the channel of its
  latest applicant message (``input_channel``);
- the desk's handoffs and recruiters' training flags: to the same id, or by the handoff's
  own ``channel`` for a conversation the tracker store no longer holds.

Ids already in a namespace are left alone; so are conversations whose channel is unknown
(counted in the summary). Run it with the Rasa server stopped:
``python -m scripts.namespace_ids [--endpoints endpoints.prod.yml]`` (docs/privacy.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channels.conversation_ids import NAMESPACES, channel_of, conversation_id
from desk.settings import database_url as desk_database_url
from desk.storage import handoffs, make_engine, training_flags
from privacy.settings import DEFAULT_ENDPOINTS, tracker_db_url
from privacy.tracker_events import events

# The event data column, which privacy.tracker_events does not need.
EVENT_DATA = sa.column("data")


@dataclass
class Renamed:
    conversations: int = 0
    unknown_channel: int = 0
    handoffs: int = 0
    flags: int = 0


def legacy_channels(engine: Engine) -> Dict[str, str | None]:
    """Each conversation outside every namespace, with the channel of its latest message."""
    query = (
        sa.select(events.c.sender_id, EVENT_DATA)
        .select_from(events)
        .where(events.c.type_name == "user")
        .order_by(events.c.id)
    )
    found: Dict[str, str | None] = {}
    with engine.connect() as db:
        for sender_id in db.execute(sa.select(events.c.sender_id).distinct()).scalars():
            if channel_of(sender_id) is None:
                found[sender_id] = None
        for sender_id, data in db.execute(query):
            if sender_id in found:
                channel = (json.loads(data or "{}") or {}).get("input_channel")
                found[sender_id] = channel if channel in NAMESPACES else found[sender_id]
    return found


def rename_tracker_store(engine: Engine, channels: Dict[str, str | None]) -> Renamed:
    done = Renamed()
    with engine.begin() as db:
        for old, channel in channels.items():
            if channel is None:
                done.unknown_channel += 1
                continue
            new = conversation_id(channel, old)
            db.execute(events.update().where(events.c.sender_id == old).values(sender_id=new))
            done.conversations += 1
    return done


def rename_desk(engine: Engine, channels: Dict[str, str | None], done: Renamed) -> None:
    with engine.begin() as db:
        rows = db.execute(sa.select(handoffs.c.id, handoffs.c.sender_id, handoffs.c.channel))
        for handoff_id, old, channel in list(rows):
            if channel_of(old) is not None:
                continue
            channel = channels.get(old) or (channel if channel in NAMESPACES else None)
            if channel is None:
                continue
            new = conversation_id(channel, old)
            db.execute(handoffs.update().where(handoffs.c.id == handoff_id).values(sender_id=new))
            done.handoffs += 1
            channels.setdefault(old, channel)
        for old, channel in channels.items():
            if channel is None:
                continue
            moved = db.execute(
                training_flags.update()
                .where(training_flags.c.sender_id == old)
                .values(sender_id=conversation_id(channel, old))
            )
            done.flags += int(moved.rowcount or 0)


def migrate(tracker_url: str, desk_url: str) -> Renamed:
    tracker_engine, desk_engine = make_engine(tracker_url), make_engine(desk_url)
    try:
        channels = legacy_channels(tracker_engine)
        done = rename_tracker_store(tracker_engine, channels)
        rename_desk(desk_engine, channels, done)
    finally:
        tracker_engine.dispose()
        desk_engine.dispose()
    return done


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.namespace_ids", description=__doc__)
    parser.add_argument("--endpoints", type=Path, default=DEFAULT_ENDPOINTS)
    args = parser.parse_args(argv)
    done = migrate(tracker_db_url(args.endpoints), desk_database_url())
    print(
        f"renamed: {done.conversations} conversations, {done.handoffs} handoffs, "
        f"{done.flags} training flags; left alone (channel unknown): {done.unknown_channel}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
