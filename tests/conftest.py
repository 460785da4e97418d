"""Shared fixtures: the real domain, rasa-sdk trackers, the trained model and live servers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from channels.conversation_ids import conversation_id
from scripts.stack import ROOT, Stack, action_endpoint_yaml, free_port
from tests.desk_support import Desk, StandInRasa, running_desk, stand_in_rasa
from tests.ops_support import PgRedisStack
from tests.ops_support import pg_redis_stack as pg_redis_stack_running
from tests.support import kinds

# CAREERS_MODEL lets a test run use a model trained elsewhere (e.g. while another trains).
MODEL = Path(os.environ.get("CAREERS_MODEL", ROOT / "models" / "careers.tar.gz"))

TrackerFactory = Callable[..., Tracker]


def say(stack: Stack, sender: str, message: str) -> List[Dict[str, Any]]:
    """One applicant message over the REST channel; the replies it got."""
    reply = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def rest_id(sender: str) -> str:
    """The conversation id the REST channel keeps `sender`'s messages under."""
    return conversation_id("rest", sender)


def webchat_id(session_id: str) -> str:
    """The conversation id of a web chat session id the server issued (key.signature)."""
    return conversation_id("socketio", session_id.split(".")[0])


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return Domain.load(str(ROOT / "domain.yml")).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(intent: str, text: str = "", confidence: float = 0.9) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text or intent,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": [],
            "text": text or intent,
        },
    }


@pytest.fixture
def make_tracker() -> TrackerFactory:
    """A rasa-sdk Tracker whose user turns have the given intents (or are the given user
    events, see `user_event`), oldest first."""

    def make(
        intents: List[str | Dict[str, Any]],
        slots: Dict[str, Any] | None = None,
        sender: str = "applicant",
    ) -> Tracker:
        events = [item if isinstance(item, dict) else user_event(item) for item in intents]
        latest = events[-1]["parse_data"] if events else {}
        return Tracker(
            sender_id=sender,
            slots=slots or {},
            latest_message=latest,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return make


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it first).")
    return MODEL


@pytest.fixture(scope="session")
def stack(trained_model: Path) -> Iterator[Stack]:
    """The real action server and Rasa server on free ports, with a fresh tracker store."""
    with tempfile.TemporaryDirectory(prefix="careers-e2e-") as tmp:
        action_port = free_port()
        endpoints = Path(tmp) / "endpoints.yml"
        endpoints.write_text(
            action_endpoint_yaml(action_port)
            + "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
            f'  dialect: sqlite\n  db: "{tmp}/tracker.db"\n',
            encoding="utf-8",
        )
        with open(Path(tmp) / "servers.log", "wb") as log:
            servers = Stack(
                rasa_port=free_port(),
                action_port=action_port,
                token="test-token",
                desk_port=free_port(),
                endpoints=endpoints,
                model=trained_model,
                log=log,
                # Handoffs go to the test's own database, never to var/.
                env={"DESK_DATABASE_URL": f"sqlite:///{tmp}/tracker.db"},
            )
            with servers.running(timeout=300):
                yield servers


@pytest.fixture(scope="session")
def pg_redis_stack(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgRedisStack]:
    """Action server and Rasa server on PostgreSQL and a Redis lock store of their own."""
    with pg_redis_stack_running(trained_model, tmp_path_factory.mktemp("pg-redis")) as running:
        yield running


@pytest.fixture(scope="session")
def desk_stack(stack: Stack) -> Stack:
    """The same stack, whose desk (started with it) the test uses directly."""
    return stack


@pytest.fixture
def rasa() -> Iterator[StandInRasa]:
    """A stand-in for the Rasa HTTP API, for desk tests that need no model."""
    with stand_in_rasa() as server:
        yield server


@pytest.fixture
def desk(tmp_path: Path, rasa: StandInRasa) -> Iterator[Desk]:
    """A real desk process on its own database, talking to the stand-in Rasa."""
    with running_desk(tmp_path, rasa) as running:
        yield running


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Debian's headless Chromium, never a downloaded one, with no background traffic."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Every test gets one kind marker (unit, e2e, browser, production) from what it uses."""
    for item in items:
        kinds.mark(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with kinds.in_process_only(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with kinds.in_process_only(item):
        yield
