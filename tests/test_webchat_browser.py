"""The local web chat in a real headless browser (Debian's chromium and chromedriver).

Also guards the python-socketio trap: with session_persistence on, Rasa 3.6.21 calls
enter_room without await, and from python-socketio 5.10 the browser never gets a reply.
"""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import WebDriverWait

from scripts.stack import Stack

WAIT_S = 60


def bot_messages(driver: WebDriver) -> list:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "li.bot:not(.typing)")]


def send(driver: WebDriver, text: str) -> str:
    """Type a message, press Enter and return the first new bot message."""
    before = len(bot_messages(driver))
    box = driver.find_element(By.ID, "message")
    box.send_keys(text)
    box.submit()
    WebDriverWait(driver, WAIT_S).until(lambda d: len(bot_messages(d)) > before)
    return str(bot_messages(driver)[before])


def test_chat_in_the_browser(stack: Stack, browser: WebDriver):
    browser.get(stack.webchat_url)
    WebDriverWait(browser, WAIT_S).until(
        expected.text_to_be_present_in_element((By.ID, "status"), "Connected")
    )

    assert "automated assistant" in send(browser, "hello")

    # Quick replies are buttons; clicking one asks that topic.
    before = len(bot_messages(browser))
    browser.find_element(
        By.XPATH, "//div[@class='quick-replies']/button[.='What is vetting?']"
    ).click()
    WebDriverWait(browser, WAIT_S).until(lambda d: len(bot_messages(d)) > before)
    assert "vetting" in bot_messages(browser)[before].lower()


def test_markup_is_shown_as_text_never_run(stack: Stack, browser: WebDriver):
    browser.get(stack.webchat_url)
    WebDriverWait(browser, WAIT_S).until(
        expected.text_to_be_present_in_element((By.ID, "status"), "Connected")
    )
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    send(browser, payload)
    users = browser.find_elements(By.CSS_SELECTOR, "li.user")
    assert users[-1].text == payload
    assert not browser.find_elements(By.CSS_SELECTOR, "#messages img")
    assert browser.execute_script("return window.__xss === undefined")


def test_the_conversation_survives_a_reload(stack: Stack, browser: WebDriver):
    browser.get(stack.webchat_url)
    WebDriverWait(browser, WAIT_S).until(
        expected.text_to_be_present_in_element((By.ID, "status"), "Connected")
    )
    session = browser.execute_script("return sessionStorage.getItem('careers-assistant-session')")
    browser.refresh()
    WebDriverWait(browser, WAIT_S).until(
        expected.text_to_be_present_in_element((By.ID, "status"), "Connected")
    )
    assert (
        browser.execute_script("return sessionStorage.getItem('careers-assistant-session')")
        == session
    )
    assert send(browser, "thanks")
