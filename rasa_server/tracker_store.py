"""Rasa's SQL tracker store, except that an erasure really erases.

Configure it in endpoints.yml as `type: rasa_server.tracker_store.ErasingSQLTrackerStore` with
the same keys as `type: SQL`. Why a tracker store: `SQLTrackerStore.save` appends the events
beyond those it finds stored, so rows deleted by an action in the middle of a turn would be
written back, the whole conversation with them, when Rasa saves at the end of the turn.
Here the save itself notices the erasure marker among the conversation's events and deletes
every row of the conversation instead of saving: nothing is written back, and the
applicant's next message starts a new conversation (Rasa keeps no other copy: its lock
store holds locks, not conversations).

It also keeps recent conversations in memory between turns instead of rebuilding them from
every stored event on each message (rasa_server/tracker_cache.py): `cached_conversations`
in endpoints.yml says how many (default 128; 0 turns it off). An erasure drops that copy too.

A tracker store is Rasa's public extension point (endpoints.yml `type:`), but keeping the
cache right needs one private method: `SQLTrackerStore._additional_events`, overridden
below, so the store refuses to start on any Rasa but the pinned one (rasa_server/versions.py;
docs/upgrading.md).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Dict, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session

from observability.metrics import ERASURES
from privacy import tracker_events
from privacy.erasure import asks_for_erasure
from rasa_server.tracker_cache import Fingerprint, TrackerCache
from rasa_server.versions import require

logger = logging.getLogger(__name__)


def _write_ahead_log(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class ErasingSQLTrackerStore(SQLTrackerStore):
    engine: sa.engine.Engine

    def __init__(self, *args: Any, cached_conversations: int = 128, **kwargs: Any) -> None:
        require("tracker_store: SQLTrackerStore._additional_events overridden")
        self.cache = TrackerCache(int(cached_conversations))
        # Per conversation being saved: its fingerprint once this save's rows are in.
        self._stored: Dict[str, Fingerprint] = {}
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._pool_sqlite_connections()

    def _pool_sqlite_connections(self) -> None:
        """Reuse connections to the SQLite file, in write-ahead log (WAL) mode.

        SQLAlchemy 1.4 opens a new connection to a SQLite file for every query, and each
        new connection reads the schema again; the default rollback journal syncs the disk
        several times per commit. A pool (SQLAlchemy 2's default for SQLite files) and WAL
        (one sync per commit; readers such as the purge do not block the server) took a
        quarter off the time a turn spends in the store here.
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # A new model may bring other slots: trackers built with the old ones must go.
        self.cache.clear()
        self._domain = domain or Domain.empty()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self.cache.size <= 0:
            return await super().retrieve(sender_id)
        fingerprint = self.fingerprint(sender_id)
        kept = self.cache.take(sender_id, fingerprint)
        if kept is not None:
            return kept
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self.cache.lend(sender_id, tracker, fingerprint)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        # The marker is never stored (an erasing save stores nothing), so one in the tracker
        # was added during this turn.
        if asks_for_erasure(tracker.events):
            deleted = self.erase(tracker.sender_id)
            ERASURES.labels(store="tracker").inc()
            logger.info("privacy.erasure.tracker events_deleted=%d", deleted)
            return
        try:
            await super().save(tracker)
        except BaseException:
            self._stored.pop(tracker.sender_id, None)  # noted, but the commit failed
            raise
        # Nothing touches the database after Rasa's commit: an error then would refuse a
        # stored turn, and the client would send it again (stored twice). What the rows
        # now hold was noted inside the transaction, by `_added_and_noted`.
        stored = self._stored.pop(tracker.sender_id, None)
        if stored is None:
            self.cache.forget(tracker.sender_id)  # built or written elsewhere: read it again
        else:
            self.cache.saved(tracker.sender_id, tracker, stored)

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        """The events Rasa's save appends, and (for a tracker the cache lent) what they make.

        Rasa's version counts the stored events of the latest session with one query on
        every save; for a tracker the cache lent out, the count is known while the
        fingerprint is unchanged. The override is needed for correctness, not speed: the
        fingerprint of the rows must be noted inside Rasa's transaction (`_added_and_noted`),
        since any query after the commit could fail and refuse a turn already stored.
        Private in Rasa 3.6 (rasa/core/tracker_store.py): on an upgrade check that `save`
        still calls it with (session, tracker) inside the transaction and appends exactly
        the events it yields.
        """
        lent = self.cache.lent_at(tracker.sender_id, tracker)
        if lent is not None:
            fingerprint, stored = lent
            if tracker_events.fingerprint(session.connection(), tracker.sender_id) == fingerprint:
                added = itertools.islice(tracker.events, stored, len(tracker.events))
                return self._added_and_noted(session, tracker.sender_id, added, fingerprint)
        return super()._additional_events(session, tracker)

    def _added_and_noted(
        self, session: Session, sender_id: str, added: Iterator, before: Fingerprint
    ) -> Iterator:
        """The events to add; once Rasa has added them all, the fingerprint they make."""
        yield from added
        rows = [row for row in session.new if isinstance(row, self.SQLEvent)]
        session.flush()  # the rows get their ids (Rasa's commit would flush them anyway)
        ids = [row.id for row in rows]
        count, highest = before
        known = [*ids, *([] if highest is None else [highest])]
        self._stored[sender_id] = (count + len(ids), max(known, default=None))

    def fingerprint(self, sender_id: str) -> Fingerprint:
        with self.engine.connect() as db:
            return tracker_events.fingerprint(db, sender_id)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; how many there were."""
        self.cache.forget(sender_id)
        with self.engine.begin() as db:
            return tracker_events.erase_sender(db, sender_id)

    def ping(self) -> None:
        """Raises if the database cannot be reached (the Rasa server's readiness check)."""
        with self.engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
