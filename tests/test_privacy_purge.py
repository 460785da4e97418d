"""`make purge` on real stores, SQLite and PostgreSQL: `python -m privacy.purge` for the
tracker store and `python -m desk purge` for the desk's own database.

Conversations are written by the tracker store the Rasa server uses and handoffs by the
desk's storage, at times around the retention; each purge runs as cron runs it, and must
delete exactly what is older than the retention, in its store, and nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa

from desk.storage import NewHandoff, Store, audit, handoffs, messages, migrate
from tests.privacy_support import (
    BACKENDS,
    DAY,
    Database,
    database,
    desk_purge_cli,
    event_count,
    purge_cli,
    save_conversation,
    session,
    stored_texts,
)

RETENTION_DAYS = 30


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database(request.param, tmp_path) as found:
        migrate(found.url)
        yield found


def add_handoff(store: Store, sender: str, created: float, text: str) -> int:
    return store.create_handoff(
        NewHandoff(
            sender_id=sender,
            channel="instagram",
            topic="general",
            reason="asked for a person",
            preview=text,
            transcript=[{"who": "applicant", "text": text, "at": created}],
            created_at=created,
        )
    )


def handoff_ids(db: Database) -> List[int]:
    with db.engine().connect() as connection:
        return sorted(connection.execute(sa.select(handoffs.c.id)).scalars())


def message_texts(db: Database) -> Dict[int, List[str]]:
    found: Dict[int, List[str]] = {}
    with db.engine().connect() as connection:
        for handoff_id, text in connection.execute(
            sa.select(messages.c.handoff_id, messages.c.text).order_by(messages.c.id)
        ):
            found.setdefault(handoff_id, []).append(text)
    return found


def test_purge_deletes_exactly_what_is_older_than_the_retention(db: Database, tmp_path: Path):
    now = time.time()
    old, recent = now - 40 * DAY, now - DAY
    store = db.store()
    # Idle since before the retention: the whole conversation goes.
    save_conversation(store, "idle-applicant", session(old, "idle first", "idle second"))
    # Came back yesterday: the old session goes, yesterday's stays.
    save_conversation(
        store,
        "returning-applicant",
        session(old, "returning old") + session(recent, "returning new"),
    )
    # Its latest session began before the cutoff but went on after it: in progress, kept whole.
    spanning = (
        session(now - 31 * DAY, "spanning first") + session(now - 29 * DAY, "spanning later")[3:]
    )  # the same session, without a second start
    save_conversation(store, "spanning-applicant", spanning)
    save_conversation(store, "recent-applicant", session(recent, "recent only"))

    desk = Store(db.url)
    closed_long_ago = add_handoff(desk, "idle-applicant", now - 45 * DAY, "closed long ago")
    desk.claim(closed_long_ago, "alice", now - 44 * DAY)
    desk.add_message(closed_long_ago, "alice", "reply", "old reply", now - 44 * DAY)
    desk.finish(closed_long_ago, "alice", "closed", now - 40 * DAY)
    add_handoff(desk, "idle-applicant", now - 40 * DAY, "never claimed")  # still waiting
    noted_lately = add_handoff(desk, "returning-applicant", now - 40 * DAY, "noted lately")
    desk.add_message(noted_lately, "bob", "note", "recent note", now - 10 * DAY)
    closed_lately = add_handoff(desk, "spanning-applicant", now - 40 * DAY, "closed lately")
    desk.claim(closed_lately, "bob", now - 39 * DAY)
    desk.finish(closed_lately, "bob", "closed", now - 5 * DAY)
    new = add_handoff(desk, "recent-applicant", now - 2 * DAY, "new")
    desk.add_message(new, "alice", "reply", "new reply", now - DAY)

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(db.endpoints_yaml(), encoding="utf-8")
    # Batches of 2 so that every store needs several.
    settings = {"RETENTION_DAYS": str(RETENTION_DAYS), "PURGE_BATCH_SIZE": "2"}
    run = purge_cli(endpoints, **settings)
    assert run.returncode == 0, run.stderr
    desk_run = desk_purge_cli(db.url, **settings)
    assert desk_run.returncode == 0, desk_run.stderr
    engine = db.engine()
    assert stored_texts(engine, "idle-applicant") == []
    assert event_count(engine, "idle-applicant") == 0
    assert stored_texts(engine, "returning-applicant") == ["returning new"]
    assert event_count(engine, "returning-applicant") == len(session(recent, "returning new"))
    assert stored_texts(engine, "spanning-applicant") == ["spanning first", "spanning later"]
    assert event_count(engine, "spanning-applicant") == len(spanning)
    assert stored_texts(engine, "recent-applicant") == ["recent only"]

    assert handoff_ids(db) == sorted([noted_lately, closed_lately, new])
    assert message_texts(db) == {noted_lately: ["recent note"], new: ["new reply"]}
    idle_events = len(session(old, "idle first", "idle second"))
    returning_old = len(session(old, "returning old"))
    for done in (run, desk_run):
        assert done.stdout.startswith(f"purge done: retention {RETENTION_DAYS} days (before ")
        assert done.stdout.count("\n") == 1
        for private in ("applicant", "idle first", "closed long ago", "old reply"):
            assert private not in done.stdout + done.stderr
    assert run.stdout.endswith(
        f"; tracker store: {idle_events + returning_old} events deleted (1 idle conversations)\n"
    )
    assert desk_run.stdout.endswith(
        "; desk: 2 handoffs deleted (1 messages, notes and other rows)"
        "; live q&a: 0 questions deleted (broadcasts with none since)\n"
    )
    with engine.connect() as connection:
        purged = connection.execute(audit.select().where(audit.c.action == "purged")).mappings()
        entries = [dict(entry) for entry in purged]
    assert [entry["actor"] for entry in entries] == ["purge"]
    assert "applicant" not in entries[0]["detail"]

    again = purge_cli(endpoints, RETENTION_DAYS=str(RETENTION_DAYS))
    assert again.returncode == 0, again.stderr
    assert "tracker store: 0 events deleted (0 idle conversations)" in again.stdout
    desk_again = desk_purge_cli(db.url, RETENTION_DAYS=str(RETENTION_DAYS))
    assert desk_again.returncode == 0, desk_again.stderr
    assert "desk: 0 handoffs deleted" in desk_again.stdout
    assert stored_texts(engine, "returning-applicant") == ["returning new"]
    assert handoff_ids(db) == sorted([noted_lately, closed_lately, new])


def test_a_desk_database_that_does_not_answer_fails_in_one_line():
    run = desk_purge_cli("postgresql://postgres@127.0.0.1:1/nowhere")
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith("purge failed: ") and run.stderr.count("\n") == 1
    assert "desk: FAILED (OperationalError" in run.stderr
    assert "live q&a: FAILED (OperationalError" in run.stderr  # tried even after the first


def test_a_tracker_store_that_does_not_answer_fails_in_one_line(tmp_path: Path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 1\n"
        "  db: nowhere\n  username: postgres\n",
        encoding="utf-8",
    )
    run = purge_cli(endpoints)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("purge failed: ")
    assert "tracker store: FAILED (OperationalError" in run.stderr


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS must be at least 1 day"),
        ({"PURGE_BATCH_SIZE": "many"}, "PURGE_BATCH_SIZE must be a whole number"),
    ],
)
def test_the_desk_purge_with_bad_settings_touches_nothing(env, complaint, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate(url)
    desk = Store(url)
    old = add_handoff(desk, "idle-applicant", time.time() - 400 * DAY, "old")
    run = desk_purge_cli(url, **env)
    assert run.returncode == 2
    assert run.stderr.startswith("purge not run: ") and complaint in run.stderr
    assert desk.get_handoff(old) is not None


@pytest.mark.parametrize(
    "env, endpoints_text, complaint",
    [
        ({"RETENTION_DAYS": "0"}, None, "RETENTION_DAYS must be at least 1 day"),
        ({"RETENTION_DAYS": "thirty"}, None, "RETENTION_DAYS must be a number of days"),
        ({"PURGE_BATCH_SIZE": "-5"}, None, "PURGE_BATCH_SIZE must be between 1 and"),
        ({}, "tracker_store:\n  type: redis\n", "the purge supports SQL tracker stores"),
        ({}, "action_endpoint:\n  url: http://x\n", "configures no tracker store"),
    ],
)
def test_bad_configuration_touches_nothing(env, endpoints_text, complaint, tmp_path: Path):
    with database("sqlite", tmp_path) as db:
        save_conversation(db.store(), "idle-applicant", session(time.time() - 40 * DAY, "old"))
        endpoints = tmp_path / "endpoints.yml"
        endpoints.write_text(endpoints_text or db.endpoints_yaml(), encoding="utf-8")
        run = purge_cli(endpoints, **env)
        assert run.returncode == 2
        assert run.stderr.startswith("purge not run: ") and complaint in run.stderr
        assert event_count(db.engine(), "idle-applicant") > 0


def test_the_tracker_store_is_read_from_the_endpoints_file_rasa_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from privacy.settings import PROJECT_ROOT, tracker_db_url

    production = tmp_path / "endpoints.prod.yml"
    production.write_text(
        "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
        "  dialect: postgresql\n  url: ${DB_HOST}\n  port: ${DB_PORT}\n  db: ${DB_NAME}\n"
        "  username: ${DB_USER}\n  password: ${DB_PASSWORD}\n",
        encoding="utf-8",
    )
    for name, value in {"DB_HOST": "db.internal", "DB_PORT": "6432", "DB_NAME": "careers",
                        "DB_USER": "rasa", "DB_PASSWORD": "p@ss:w/rd"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    url = sa.engine.make_url(tracker_db_url(production))
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql", "db.internal", 6432, "careers"
    )  # fmt: skip
    assert (url.username, url.password) == ("rasa", "p@ss:w/rd")

    local = tmp_path / "endpoints.yml"
    local.write_text("tracker_store:\n  type: SQL\n  db: var/tracker.db\n", encoding="utf-8")
    assert tracker_db_url(local) == f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
    # The purge reads the tracker store only: it needs none of the action server's settings.
    monkeypatch.delenv("ACTION_SERVER_SECRET", raising=False)
    project = tracker_db_url(PROJECT_ROOT / "endpoints.yml")
    assert project == f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
