"""The incremental roll-up: new events and desk handoffs into anonymous daily figures.

Reads the tracker store's `events` table and the desk's handoff tables read-only; writes only
the insights tables (desk/insights/store.py). Each run:

1. every applicant with an event newer than the last run (less a look-back, so a transaction
   that committed late is not missed) has all their stored conversations summarised again,
   and the days those conversations belong to are rebuilt (late events land on the right day);
2. ledger conversations of open days whose first event is gone were erased: they leave the
   ledger and their days are rebuilt;
3. the open days' handoffs are read again from the desk (claims and replies come later);
4. days older than the open window close: their ledger rows go, their daily counts stay.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterator, List, Sequence, Set
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from desk.insights import store
from desk.insights.conversations import Event, local_day, summarise
from desk.insights.settings import InsightsSettings
from desk.office_hours import OfficeHours
from desk.storage import handoffs as desk_handoffs
from desk.storage import make_engine
from desk.storage import messages as desk_messages

logger = logging.getLogger(__name__)
SENDER_BATCH = 500
KEY_BATCH = 5000
# Event ids below the last run's highest that are read again: a save that took an id before
# the last run but committed after it is still counted.
LOOKBACK_IDS = 5000
# The advisory lock that keeps roll-ups from running at once ("insights" in ASCII).
LOCK_KEY = 0x696E736967687473
EVENT_COLUMNS = ("id", "sender_id", "type_name", "timestamp", "action_name", "data")
# The columns the roll-up reads of rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6).
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


@dataclass
class RollupResult:
    senders: int = 0
    conversations: int = 0
    erased: int = 0
    handoffs: int = 0
    days_rebuilt: Set[str] = field(default_factory=set)
    seconds: float = 0.0
    skipped: bool = False
    steps: Dict[str, float] = field(default_factory=dict)  # seconds each step took

    def line(self) -> str:
        if self.skipped:
            return "insights roll-up: skipped, another one is running"
        return (
            f"insights roll-up: {self.senders} applicants read again, {self.conversations} "
            f"conversations new or changed, {self.erased} erased, {self.handoffs} open handoffs, "
            f"{len(self.days_rebuilt)} days rebuilt in {self.seconds:.1f} s"
        )


class Rollup:
    def __init__(self, settings: InsightsSettings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.office.timezone)
        self.office = OfficeHours.from_settings(settings.office)
        self.tracker = make_engine(settings.tracker_db_url)
        self.desk = (
            self.tracker
            if settings.desk_db_url == settings.tracker_db_url
            else make_engine(settings.desk_db_url)
        )
        self.insights = make_engine(settings.insights_db_url)
        store.create_tables(self.insights)

    def dispose(self) -> None:
        for engine in {self.tracker, self.desk, self.insights}:
            engine.dispose()

    def run(self, now: float | None = None) -> RollupResult:
        started = time.monotonic()
        now = time.time() if now is None else now
        result = RollupResult()
        opens = self.first_open_day(now)
        with self.insights.begin() as out:
            if not _only_one_running(out):
                result.skipped = True
                return result
            lap = _Laps(result.steps)
            if sa.inspect(self.tracker).has_table("events"):
                self._new_events(out, opens, result)
                lap("new events")
                self._erased(out, opens, result)
                lap("erasures")
            if sa.inspect(self.desk).has_table(desk_handoffs.name):
                self._handoffs(out, opens, now, result)
                lap("handoffs")
            store.rebuild_days(out, {day for day in result.days_rebuilt if day >= opens})
            store.close_days(out, opens)
            store.write_state(out, store.LAST_RUN, now)
            lap("daily rows")
        result.seconds = time.monotonic() - started
        return result

    def first_open_day(self, now: float) -> str:
        today = date.fromisoformat(local_day(now, self.zone))
        return (today - timedelta(days=self.settings.open_days)).isoformat()

    def _new_events(self, out: Connection, opens: str, result: RollupResult) -> None:
        watermark = int(store.read_state(out, store.WATERMARK) or 0)
        with self.tracker.connect() as db:
            highest = db.execute(sa.select(sa.func.max(events.c.id))).scalar() or 0
            changed = sa.select(events.c.sender_id).where(
                events.c.id > watermark - LOOKBACK_IDS, events.c.id <= highest
            )
            senders = [row[0] for row in db.execute(changed.distinct())]
            result.senders = len(senders)
            for batch in _chunks(senders, SENDER_BATCH):
                self._summarise_senders(db, out, batch, opens, result)
        store.write_state(out, store.WATERMARK, float(highest))

    def _summarise_senders(
        self, db: Connection, out: Connection, senders: List[str], opens: str, result: RollupResult
    ) -> None:
        query = (
            sa.select(*(events.c[name] for name in EVENT_COLUMNS))
            .where(events.c.sender_id.in_(senders))
            .order_by(events.c.id)
        )
        by_sender: Dict[str, List[Event]] = defaultdict(list)
        for row in db.execute(query):
            by_sender[row.sender_id].append(
                Event(row.id, row.type_name, row.timestamp, row.action_name, row.data)
            )
        summarised = [
            item
            for sender_events in by_sender.values()
            for item in summarise(sender_events, self.zone)
            if item.day >= opens
        ]
        before = store.ledger_entries(out, (item.key for item in summarised))
        found = [item for item in summarised if before.get(item.key) != (item.day, item.last_id)]
        changed = [key for key in (item.key for item in found) if key in before]
        result.days_rebuilt.update(before[key][0] for key in changed)
        result.days_rebuilt.update(item.day for item in found)
        store.forget_conversations(out, changed)
        store.write_conversations(out, found)
        result.conversations += len(found)

    def _erased(self, out: Connection, opens: str, result: RollupResult) -> None:
        """Open conversations whose first event is no longer stored were erased."""
        ledger = store.conversations
        open_rows = sa.select(ledger.c.key, ledger.c.day).where(ledger.c.day >= opens)
        if self.settings.tracker_db_url == self.settings.insights_db_url:
            # One anti-join, by primary key, where both tables are.
            missing = open_rows.where(~sa.exists().where(events.c.id == ledger.c.key))
            days = {int(key): str(day) for key, day in out.execute(missing)}
            gone = list(days)
        else:
            days = {int(key): str(day) for key, day in out.execute(open_rows)}
            gone = []
            with self.tracker.connect() as db:
                for batch in _chunks(list(days), KEY_BATCH):
                    found = db.execute(sa.select(events.c.id).where(events.c.id.in_(batch)))
                    present = {int(row[0]) for row in found}
                    gone.extend(key for key in batch if key not in present)
        store.forget_conversations(out, gone)
        result.erased = len(gone)
        result.days_rebuilt.update(days[key] for key in gone)

    def _handoffs(self, out: Connection, opens: str, now: float, result: RollupResult) -> None:
        """Read the open days' handoffs again: they are claimed and answered after creation."""
        start = datetime.combine(date.fromisoformat(opens), datetime.min.time(), self.zone)
        m = desk_messages.c
        first_reply = (
            sa.select(m.handoff_id, sa.func.min(m.created_at).label("replied"))
            .where(m.kind == "reply", m.delivery == "delivered")
            .group_by(m.handoff_id)
            .subquery()
        )
        h = desk_handoffs.c
        query = (
            sa.select(h.id, h.channel, h.reason, h.created_at, h.claimed_at, first_reply.c.replied)
            .select_from(desk_handoffs.outerjoin(first_reply, first_reply.c.handoff_id == h.id))
            .where(h.created_at >= start.timestamp())
        )
        with self.desk.connect() as db:
            rows = [self._handoff_row(row, now) for row in db.execute(query)]
        out.execute(store.handoffs.delete().where(store.handoffs.c.day >= opens))
        if rows:
            out.execute(store.handoffs.insert(), rows)
        result.handoffs = len(rows)

    def _handoff_row(self, row: sa.Row, now: float) -> Dict[str, object]:
        created = float(row.created_at)
        deadline = self.promised_by(created)
        replied = None if row.replied is None else float(row.replied)
        if replied is not None:
            within: int | None = int(replied <= deadline)
        else:
            within = 0 if now > deadline else None
        return {
            "handoff_id": int(row.id),
            "day": local_day(created, self.zone),
            "channel": str(row.channel)[:64],
            "reason": str(row.reason)[:100],
            "claim_s": None if row.claimed_at is None else float(row.claimed_at) - created,
            "reply_s": None if replied is None else replied - created,
            "within_promise": within,
        }

    def promised_by(self, created: float) -> float:
        """The end of the reply time the applicant was promised (desk/office_hours.promise).

        In office hours: "usually within N minutes". Outside: "on the next working day",
        which is kept by a reply before that day's closing time.
        """
        moment = datetime.fromtimestamp(created, timezone.utc)
        if self.office.is_open(moment):
            return created + self.settings.office.reply_minutes * 60
        opening = self.office.next_opening(moment)
        return datetime.combine(opening.date(), self.office.closes, self.office.zone).timestamp()


class _Laps:
    """Seconds since the previous lap, by step name (for the benchmark's breakdown)."""

    def __init__(self, into: Dict[str, float]) -> None:
        self.into, self.last = into, time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.into[name] = now - self.last
        self.last = now


def _only_one_running(out: Connection) -> bool:
    """Several desk replicas may each run the roll-up: on PostgreSQL one at a time runs, the
    others skip (a transaction-scoped advisory lock). SQLite writers queue on the file anyway."""
    if out.dialect.name != "postgresql":
        return True
    return bool(
        out.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}).scalar()
    )


def _chunks(items: Sequence, size: int) -> Iterator[List]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
