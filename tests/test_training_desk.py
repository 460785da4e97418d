"""The desk's Training page for trainers, and "flag for training" on transcripts.

A real desk process on its own database, which also holds a synthetic tracker store; labelling
writes to a copy of the project's content (TRAINING_DATA_DIR), never to data/. The Rasa HTTP
API is the stand-in of tests/desk_support.py.
"""

from __future__ import annotations

import html
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from desk.storage import MIGRATIONS, Store, migrate
from desk.training_store import TrainingStore
from scripts.stack import Stack, free_port
from tests.desk_support import (
    PASSWORD,
    TOKEN,
    Browser,
    Desk,
    StandInRasa,
    desk_cli,
    sign_in_browser,
    stand_in_rasa,
)
from tests.training_store_support import content_copy, fallback, tracker_store, turn, user

NOW = time.time()
POLYGRAPH = "what's the deal with polygraphs at interview"
HAMSTER = "Can I bring my pet hamster to the office?"
HAMSTER_PHONE = "can I bring my hamster to work? call 07700 900123"
PARKING = "is there free parking at thames house for staff"


def rows() -> list:
    found = []
    found += turn(
        "amy",
        fallback("amy", HAMSTER, NOW - 50, "faq/life_benefits", 0.41),
        "action_not_understood",
    )
    found += turn(
        "ben",
        fallback("ben", HAMSTER.lower().rstrip("?"), NOW - 40, "faq/life_benefits", 0.35),
        "action_not_understood",
    )
    found += turn(
        "cat",
        user("cat", HAMSTER_PHONE, "out_of_scope", 0.93, NOW - 30),
        "action_not_understood",
    )
    found += turn(
        "dan",
        user("dan", POLYGRAPH, "faq", 0.88, NOW - 20, "faq/process_vetting", 0.42),
        "utter_faq",
    )
    found += turn(
        "eve",
        user("eve", PARKING, "faq", 0.9, NOW - 10, "faq/life_benefits", 0.3),
        "utter_faq",
    )
    return found


class TrainingDesk:
    def __init__(self, desk: Desk, data_dir: Path, rasa: StandInRasa) -> None:
        self.desk = desk
        self.data_dir = data_dir
        self.rasa = rasa
        self.url = desk.url

    def signed_in(self, name: str) -> Browser:
        client = Browser(self.url)
        assert client.sign_in(name).status_code == 302
        return client


@contextmanager
def training_desk(tmp_path: Path) -> Iterator[TrainingDesk]:
    data_dir = content_copy(tmp_path / "project")
    url = tracker_store(tmp_path / "tracker.db", rows())
    migrate(url)
    with stand_in_rasa() as rasa, open(tmp_path / "desk.log", "wb") as log:
        stack = Stack(
            rasa_port=rasa.server_address[1],
            token=TOKEN,
            desk_port=free_port(),
            log=log,
            env={
                "DESK_DATABASE_URL": url,
                "TRAINING_DATA_DIR": str(data_dir),
                "INBOX_SINCE_DAYS": "1",
            },
        )
        with stack.running(timeout=60, desk_only=True):
            desk = Desk(stack, url)
            desk.add_recruiter("rita")
            made = desk_cli(url, "create-user", "tom", "--role", "trainer", stdin=PASSWORD + "\n")
            assert made.returncode == 0 and "Trainer 'tom' added" in made.stderr, made.stderr
            yield TrainingDesk(desk, data_dir, rasa)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrainingDesk]:
    with training_desk(tmp_path_factory.mktemp("training-desk")) as started:
        yield started


def inbox_rows(page: str) -> dict:
    """Message text -> the row's cells, from the Training page."""
    found = {}
    for row in re.findall(r'<tr class="inbox-item".*?</tr>', page, re.S):
        cells = re.findall(r'<td class="(\w+)">(.*?)</td>', row, re.S)
        values = {
            name: html.unescape(re.sub(r"<[^>]+>", "", value)).strip() for name, value in cells
        }
        found[values["text"]] = values
    return found


def decide(client: Browser, text: str, decision: str, **fields: str):
    csrf = client.csrf("/training")
    return client.request(
        "POST",
        "/training/decide",
        data={"csrf": csrf, "text": text, "decision": decision, **fields},
    )


def test_only_trainers_see_the_training_page(running: TrainingDesk):
    rita = running.signed_in("rita")
    queue = rita.request("GET", "/")
    assert queue.status_code == 200 and 'href="/training"' not in queue.text
    assert rita.request("GET", "/training").status_code == 403
    csrf = rita.csrf("/")
    refused = rita.request(
        "POST", "/training/decide", data={"csrf": csrf, "text": PARKING, "decision": "ignored"}
    )
    assert refused.status_code == 403

    tom = running.signed_in("tom")
    assert 'href="/training"' in tom.request("GET", "/").text
    page = tom.request("GET", "/training")
    assert page.status_code == 200
    items = inbox_rows(page.text)
    assert items[HAMSTER]["count"] == "2"
    assert items[HAMSTER]["reason"] == "fell back x2"
    assert items[HAMSTER]["topic"] == "faq/life_benefits (0.38)"
    assert items[POLYGRAPH]["topic"] == "faq/process_vetting (0.42)"
    assert items[POLYGRAPH]["reason"] == "low confidence"
    # Redacted before it reaches the page, in the table and in the form.
    assert "can I bring my hamster to work? call [PHONE]" in items
    assert "07700" not in page.text
    # The assistant's guess is the preselected topic.
    assert re.search(r'<option value="process_vetting" selected>', page.text)
    audit = tom.request("GET", "/audit").text
    assert "tom (trainer)" in audit and "rita (recruiter)" in audit


def test_labelling_under_a_topic_writes_the_example_and_the_group_leaves(running: TrainingDesk):
    tom = running.signed_in("tom")
    nlu = running.data_dir / "nlu" / "process.yml"
    before = nlu.read_text(encoding="utf-8")
    done = decide(tom, POLYGRAPH, "labelled", topic="process_vetting")
    assert done.status_code == 302, done.text
    notice = unquote(done.headers["Location"])
    match = re.search(r"Added to faq/process_vetting: data/nlu/process\.yml:(\d+)", notice)
    assert match, notice
    after = nlu.read_text(encoding="utf-8").splitlines()
    assert after[int(match.group(1)) - 1].strip() == f"- {POLYGRAPH}"
    assert len(after) == len(before.splitlines()) + 1

    page = tom.request("GET", "/training").text
    assert POLYGRAPH not in inbox_rows(page)
    assert "Added to faq/process_vetting" in html.unescape(
        tom.request("GET", done.headers["Location"]).text
    )
    again = decide(tom, POLYGRAPH, "labelled", topic="process_vetting")
    assert again.status_code == 409
    assert "Already decided: tom labelled (faq/process_vetting) this message." in html.unescape(
        again.text
    )
    assert "training labelled" in tom.request("GET", "/audit").text
    (stored,) = [
        d
        for d in TrainingStore(Store(running.desk.database_url).engine).decisions()
        if d.text == POLYGRAPH
    ]
    assert (stored.decision, stored.topic, stored.actor) == (
        "labelled",
        "faq/process_vetting",
        "tom",
    )


def test_refusals_are_shown_with_their_reason_and_nothing_is_written(running: TrainingDesk):
    tom = running.signed_in("tom")
    files = {path: path.read_bytes() for path in running.data_dir.rglob("*.yml")}
    existing = decide(tom, "what is vetting", "labelled", topic="process_vetting")
    assert existing.status_code == 400
    message = html.unescape(existing.text)
    assert re.search(
        r"already an example of faq/process_vetting at data/nlu/process\.yml:\d+", message
    )
    bad_name = decide(tom, PARKING, "new topic", new_topic="Parking!")
    assert bad_name.status_code == 400
    assert "breaks the naming rules" in html.unescape(bad_name.text)
    no_topic = decide(tom, PARKING, "labelled", topic="")
    assert no_topic.status_code == 400 and "Give a topic." in no_topic.text
    unknown = decide(tom, PARKING, "labelled", topic="life_parking")
    assert unknown.status_code == 400 and "there is no topic" in html.unescape(unknown.text)
    assert {path: path.read_bytes() for path in running.data_dir.rglob("*.yml")} == files
    assert PARKING in inbox_rows(tom.request("GET", "/training").text)


def test_a_new_topic_and_ignoring_take_groups_out_of_the_inbox(running: TrainingDesk):
    tom = running.signed_in("tom")
    created = decide(tom, HAMSTER, "new topic", new_topic="life_pets")
    assert created.status_code == 302, created.text
    assert "faq/life_pets" in (running.data_dir / "nlu" / "working_life.yml").read_text()
    assert (
        "utter_faq/life_pets" in (running.data_dir / "responses" / "working_life.yml").read_text()
    )
    ignored = decide(tom, "can I bring my hamster to work? call [PHONE]", "ignored")
    assert ignored.status_code == 302, ignored.text
    items = inbox_rows(tom.request("GET", "/training").text)
    assert HAMSTER not in items and "can I bring my hamster to work? call [PHONE]" not in items
    audit = tom.request("GET", "/audit").text
    assert "training new topic" in audit and "training ignored" in audit


def test_personal_data_posted_back_is_redacted_again(running: TrainingDesk):
    tom = running.signed_in("tom")
    done = decide(tom, "ring me on 07700 900456 about parking", "ignored")
    assert done.status_code == 302
    texts = [d.text for d in TrainingStore(Store(running.desk.database_url).engine).decisions()]
    assert "ring me on [PHONE] about parking" in texts
    assert not any("07700" in text for text in texts)


def test_forms_need_the_csrf_token(running: TrainingDesk):
    tom = running.signed_in("tom")
    handoff = running.desk.add_handoff("someone")
    for path, data in (
        ("/training/decide", {"text": PARKING, "decision": "ignored"}),
        (f"/handoffs/{handoff}/flag", {"at": "1"}),
    ):
        assert tom.request("POST", path, data={**data, "csrf": "forged"}).status_code == 403
        assert tom.request("POST", path, data=data).status_code == 403
    assert PARKING in inbox_rows(tom.request("GET", "/training").text)


def test_a_recruiter_flags_an_applicant_message_from_a_transcript(running: TrainingDesk):
    asked = NOW - 5
    running.rasa.conversation(
        "sam",
        "socketio",
        ("my NI number is AB123456C, can I apply with a police caution?", asked),
        ("thanks", asked + 1),
    )
    handoff = running.desk.add_handoff("sam", preview="my NI number is ...", at=asked)
    rita = running.signed_in("rita")
    page = rita.request("GET", f"/handoffs/{handoff}").text
    assert page.count('class="flag-form"') == 2  # one per applicant message
    assert f'data-flag-action="/handoffs/{handoff}/flag"' in page
    csrf = rita.csrf(f"/handoffs/{handoff}")

    def flag(at: float):
        return rita.request(
            "POST", f"/handoffs/{handoff}/flag", data={"csrf": csrf, "at": repr(at)}
        )

    done = flag(asked)
    assert done.status_code == 302 and done.headers["Location"].endswith("?notice=flagged")
    assert "Flagged for the trainers" in rita.request("GET", done.headers["Location"]).text
    assert flag(asked).headers["Location"].endswith("?notice=already-flagged")
    assert flag(asked + 100).status_code == 404
    flags = TrainingStore(Store(running.desk.database_url).engine).flags()
    (stored,) = [flag for flag in flags if flag.sender_id == "sam"]
    assert stored.text == "my NI number is [NI_NUMBER], can I apply with a police caution?"
    assert (stored.sender_id, stored.handoff_id, stored.flagged_by) == ("sam", handoff, "rita")
    assert "flagged for training" in rita.request("GET", "/audit").text

    items = inbox_rows(running.signed_in("tom").request("GET", "/training").text)
    assert items[stored.text]["reason"] == "flagged"


def test_existing_users_become_recruiters_when_the_schema_is_upgraded(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0001")
    engine = sa.create_engine(url, future=True)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO desk_users (name, password_hash, failed_logins, created_at) "
                "VALUES ('olga', 'x', 0, 0)"
            )
        )
    engine.dispose()
    migrate(url)
    assert (Store(url).user("olga") or {})["role"] == "recruiter"
    bad = desk_cli(url, "create-user", "ian", "--role", "admin", stdin=PASSWORD + "\n")
    assert bad.returncode == 2 and "invalid choice: 'admin'" in bad.stderr


def test_the_flag_button_survives_the_live_transcript_in_a_browser(
    running: TrainingDesk, browser: WebDriver
):
    first = NOW - 3
    running.rasa.conversation("una", "socketio", ("hello, I'm Una", first))
    handoff = running.desk.add_handoff("una", preview="hello", at=first)
    sign_in_browser(browser, running.url, "rita")
    browser.get(f"{running.url}/handoffs/{handoff}")
    # A message that arrives while the recruiter reads is drawn by desk.js, with its button.
    later = time.time()
    late = "and can I apply from Jersey? my postcode is JE2 3AB"
    running.rasa.trackers["una"]["events"].append(
        {"event": "user", "text": late, "timestamp": later}
    )
    selector = "#transcript li.applicant"

    def drawn(driver: WebDriver) -> list:
        items = driver.find_elements(By.CSS_SELECTOR, selector)
        return [
            i for i in items if late in i.text and i.find_elements(By.CSS_SELECTOR, "button.flag")
        ]

    (item,) = WebDriverWait(browser, 30).until(drawn)
    item.find_element(By.CSS_SELECTOR, "button.flag").click()
    WebDriverWait(browser, 30).until(lambda d: "notice=flagged" in d.current_url)
    flagged = [
        f
        for f in TrainingStore(Store(running.desk.database_url).engine).flags()
        if f.sender_id == "una"
    ]
    assert [(f.text, f.message_at) for f in flagged] == [
        ("and can I apply from Jersey? my postcode is [POSTCODE]", pytest.approx(later, abs=0.002))
    ]
