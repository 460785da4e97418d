"""The issue's walk-through in one headless Chromium: web chat → recruiter desk → and back.

One window is the applicant in the real web chat page (socket.io), the other a recruiter
signed in to the desk with an account made by the desk's CLI. Both talk to the real Rasa
server, action server and desk.
"""

from __future__ import annotations

from typing import Dict, List

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from desk.messages import BACK_WITH_ASSISTANT
from desk.storage import WAITING, Store
from scripts.stack import ROOT, Stack
from tests.conftest import webchat_id
from tests.desk_support import PASSWORD, desk_cli, sign_in_browser

WAIT_S = 90
RECRUITER = "rita"
SESSION_KEY = "careers-assistant-session"
QUESTION = "I lived in Dubai for four years and my partner is Italian. Can I still apply?"
PROMISE = "A recruiter will reply here"
REPLY = "Hello, I'm Rita, a recruiter. Time abroad doesn't rule you out. When did you come back?"
ANSWER = "We moved back to London two years ago, in 2024."
FAQ_QUESTION = "what is developed vetting and what does it involve?"


def wait(driver: WebDriver) -> WebDriverWait:
    """Pages that poll or reload replace their elements; a stale one just means look again.
    Chromedriver can also answer "unknown error: unhandled inspector error" when an element
    is read while the page is being replaced (seen once after the hand-back form posted): a
    wait looks again then too, and still fails when its time is up."""
    # WebDriverException covers StaleElementReferenceException too.
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=[WebDriverException])


def flat(text: str) -> str:
    return " ".join(text.split())


def bot_messages(driver: WebDriver) -> List[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "li.bot:not(.typing)")]


def say(driver: WebDriver, text: str) -> int:
    """Type into the web chat and press Enter; how many bot messages there were before."""
    before = len(bot_messages(driver))
    box = driver.find_element(By.ID, "message")
    box.send_keys(text)
    box.submit()
    return before


def next_bot_message(driver: WebDriver, before: int, containing: str = "") -> str:
    """The first bot message after the first `before` that contains `containing`."""

    def found(d: WebDriver) -> str | None:
        return next((m for m in bot_messages(d)[before:] if flat(containing) in flat(m)), None)

    return str(wait(driver).until(found))


def click_when_shown(driver: WebDriver, selector: str) -> None:
    def click(d: WebDriver) -> bool:
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True

    wait(driver).until(click)


def transcript(driver: WebDriver, who: str = "") -> List[str]:
    selector = f"#transcript li{'.' + who if who else ''} .text"
    return [entry.text for entry in driver.find_elements(By.CSS_SELECTOR, selector)]


@pytest.fixture(scope="module")
def faq_answers() -> Dict[str, str]:
    responses = load_data(str(ROOT / "data" / "responses")).responses
    return {name: variants[0]["text"] for name, variants in responses.items()}


def test_applicant_to_recruiter_and_back_in_the_browser(
    desk_stack: Stack, browser: WebDriver, faq_answers: Dict[str, str]
):
    database_url = desk_stack.env["DESK_DATABASE_URL"]
    made = desk_cli(database_url, "create-user", RECRUITER, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr

    # The recruiter signs in to the desk in one window...
    sign_in_browser(browser, desk_stack.desk_url, RECRUITER)
    desk_window = browser.current_window_handle

    # ...and the applicant opens the web chat in another.
    browser.switch_to.new_window("window")
    chat_window = browser.current_window_handle
    browser.get(desk_stack.webchat_url)
    wait(browser).until(expected.text_to_be_present_in_element((By.ID, "status"), "Connected"))
    applicant = browser.execute_script(f"return sessionStorage.getItem('{SESSION_KEY}')")

    # A question that depends on their circumstances, then they ask for a person.
    next_bot_message(browser, say(browser, QUESTION))
    next_bot_message(browser, say(browser, "can I talk to a recruiter"), containing=PROMISE)
    [handoff] = [
        h
        for h in Store(database_url).list_handoffs(WAITING)
        if h["sender_id"] == webchat_id(applicant)
    ]
    assert handoff["channel"] == "socketio"
    handoff_url = f"{desk_stack.desk_url}/handoffs/{handoff['id']}"

    # The queue (which reloads itself) shows the conversation; the recruiter claims it.
    browser.switch_to.window(desk_window)
    click_when_shown(browser, f"#waiting form[action='/handoffs/{handoff['id']}/claim'] button")
    wait(browser).until(expected.url_to_be(handoff_url))
    assert "claimed (rita)" in browser.find_element(By.ID, "status").text
    assert QUESTION in transcript(browser, "applicant"), transcript(browser)

    # The recruiter replies; the applicant sees it in the web chat.
    browser.find_element(By.ID, "reply").send_keys(REPLY)
    browser.find_element(By.ID, "send").click()
    wait(browser).until(lambda d: REPLY in transcript(d, "recruiter"))
    browser.switch_to.window(chat_window)
    assert next_bot_message(browser, 0, containing=REPLY) == REPLY

    # The applicant answers; the assistant stays quiet and the desk's transcript, which
    # polls, shows the answer without a reload.
    bot_count = len(bot_messages(browser))
    say(browser, ANSWER)
    browser.switch_to.window(desk_window)
    wait(browser).until(lambda d: ANSWER in transcript(d, "applicant"))
    assert browser.current_url == handoff_url
    assert transcript(browser)[-1] == ANSWER, "nobody but the recruiter answers now"
    browser.switch_to.window(chat_window)
    assert len(bot_messages(browser)) == bot_count
    # Nor does the chat pretend it is typing while it waits for the recruiter.
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "li.typing"))

    # The recruiter hands back; the assistant says so and answers the next FAQ question.
    browser.switch_to.window(desk_window)
    browser.find_element(By.ID, "release").click()
    wait(browser).until(expected.text_to_be_present_in_element((By.ID, "status"), "closed"))
    browser.switch_to.window(chat_window)
    next_bot_message(browser, bot_count, containing=BACK_WITH_ASSISTANT)
    answer = next_bot_message(browser, say(browser, FAQ_QUESTION))
    assert flat(answer).startswith(flat(faq_answers["utter_faq/process_vetting"])), answer
