"""Sign-in, sessions, CSRF, lock-out, and untrusted transcripts in a real headless Chromium."""

from __future__ import annotations

import re
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.desk_support import PASSWORD, Browser, Desk, StandInRasa, sign_in_browser

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def page_routes(handoff: int) -> list:
    return [
        ("GET", "/"),
        ("GET", "/audit"),
        ("GET", "/insights"),
        ("GET", "/insights.csv"),
        ("GET", f"/handoffs/{handoff}"),
        ("GET", f"/handoffs/{handoff}/transcript.json"),
        ("POST", "/logout"),
        ("POST", f"/handoffs/{handoff}/claim"),
        ("POST", f"/handoffs/{handoff}/reply"),
        ("POST", f"/handoffs/{handoff}/note"),
        ("POST", f"/handoffs/{handoff}/release"),
        ("POST", f"/handoffs/{handoff}/close"),
    ]


def test_every_page_needs_a_session(desk: Desk):
    handoff = desk.add_handoff("someone")
    made_up = Browser(desk.url)
    made_up.cookies["desk_session"] = "made-up"
    # A real session whose time is up.
    desk.store.add_user("alice", "not a usable hash", time.time())
    alice = desk.store.user("alice") or {}
    secret, _ = desk.store.create_session(alice["id"], time.time() - 7200, time.time() - 1)
    expired = Browser(desk.url)
    expired.cookies["desk_session"] = secret
    for client in (Browser(desk.url), made_up, expired):
        for method, path in page_routes(handoff):
            reply = client.request(method, path, data={"csrf": "x", "text": "x"})
            if method == "GET" and not path.endswith(".json"):
                assert reply.status_code == 302 and reply.headers["Location"] == "/login", path
            else:
                assert reply.status_code == 401, path
    assert (desk.store.get_handoff(handoff) or {})["status"] == "waiting"


def test_session_cookie_is_httponly_samesite_and_secure(desk: Desk):
    desk.add_recruiter("alice")
    signed_in = Browser(desk.url).sign_in("alice")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    cookie = signed_in.headers["Set-Cookie"]
    session = next(c for c in re.split(r",(?=\s*desk_)", cookie) if "desk_session=" in c)
    for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert attribute.lower() in session.lower(), attribute


def test_forged_csrf_is_refused(desk: Desk):
    desk.add_recruiter("alice")
    handoff = desk.add_handoff("someone")
    # Sign-in form without the matching cookie value.
    anonymous = Browser(desk.url)
    anonymous.csrf("/login")
    forged = anonymous.request(
        "POST", "/login", data={"csrf": "forged", "name": "alice", "password": PASSWORD}
    )
    assert forged.status_code == 403

    client = Browser(desk.url)
    client.sign_in("alice")
    for path in (f"/handoffs/{handoff}/claim", f"/handoffs/{handoff}/note", "/logout"):
        assert client.request("POST", path, data={"csrf": "forged", "text": "x"}).status_code == 403
        assert client.request("POST", path, data={"text": "x"}).status_code == 403
    assert (desk.store.get_handoff(handoff) or {})["status"] == "waiting"
    good = client.csrf("/")
    assert (
        client.request("POST", f"/handoffs/{handoff}/claim", data={"csrf": good}).status_code == 302
    )
    assert (desk.store.get_handoff(handoff) or {})["claimed_by"] == "alice"


def test_repeated_failed_sign_ins_lock_the_account(desk: Desk):
    desk.add_recruiter("alice")
    client = Browser(desk.url)
    for _ in range(5):
        assert client.sign_in("alice", "wrong password!").status_code == 401
    locked = client.sign_in("alice")
    assert locked.status_code == 429 and "locked" in locked.text
    assert "desk_session" not in client.cookies
    assert Browser(desk.url).sign_in("nobody", "whatever").status_code == 401


def test_a_recruiter_signs_out(desk: Desk):
    desk.add_recruiter("alice")
    client = Browser(desk.url)
    client.sign_in("alice")
    old_session = client.cookies["desk_session"]
    assert client.request("POST", "/logout", data={"csrf": client.csrf("/")}).status_code == 302
    client.cookies["desk_session"] = old_session
    assert client.request("GET", "/").status_code == 302


def test_applicant_markup_is_shown_as_text_in_the_browser(
    desk: Desk, rasa: StandInRasa, browser: WebDriver
):
    desk.add_recruiter("alice")
    long_message = "why " * 2_500
    rasa.conversation(
        "xss-applicant", "socketio", (XSS, time.time() - 5), (long_message, time.time())
    )
    handoff = desk.add_handoff("xss-applicant", XSS)
    sign_in_browser(browser, desk.url, "alice")

    preview = browser.find_element(By.CSS_SELECTOR, "#waiting td.preview")
    assert preview.text.startswith("<img src=x")
    browser.find_element(
        By.CSS_SELECTOR, f"form[action='/handoffs/{handoff}/claim'] button"
    ).click()
    WebDriverWait(browser, 30).until(lambda d: f"/handoffs/{handoff}" in d.current_url)

    def texts(driver: WebDriver) -> list:
        return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#transcript .text")]

    assert texts(browser)[0] == XSS
    assert texts(browser)[1].strip() == long_message.strip()
    # The page polls for new messages; what it adds must be text too.
    rasa.conversation(
        "xss-applicant",
        "socketio",
        (XSS, time.time() - 5),
        ("<b>new</b><script>x</script>", time.time()),
    )
    WebDriverWait(browser, 30).until(lambda d: "<b>new</b><script>x</script>" in texts(d))
    assert not browser.find_elements(By.CSS_SELECTOR, "#transcript img, #transcript b")
    assert browser.execute_script("return window.__xss === undefined")


def test_a_recruiter_replies_in_the_browser_and_sees_failures(
    desk: Desk, rasa: StandInRasa, browser: WebDriver
):
    desk.add_recruiter("bob")
    rasa.conversation("browser-applicant", "socketio", ("hello, anyone there?", time.time()))
    handoff = desk.add_handoff("browser-applicant", "hello, anyone there?")
    sign_in_browser(browser, desk.url, "bob")
    browser.get(f"{desk.url}/handoffs/{handoff}")
    browser.find_element(By.ID, "claim").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "reply"))

    # A saved reply fills the box; the recruiter can edit it before sending.
    browser.find_element(By.CSS_SELECTOR, "#saved-replies option:nth-child(2)").click()
    assert "recruiter at MI5" in (browser.find_element(By.ID, "reply").get_attribute("value") or "")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 30).until(
        lambda d: any(
            e.text.startswith("Hello, I'm a recruiter")
            for e in d.find_elements(By.CSS_SELECTOR, "#transcript .recruiter .text")
        )
    )
    assert rasa.posted[-1][1][0]["text"].startswith("Hello, I'm a recruiter")

    rasa.fail = True
    box = browser.find_element(By.ID, "reply")
    box.clear()
    box.send_keys("This one will not arrive")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li.failed")
    )
    failed = browser.find_element(By.CSS_SELECTOR, "#transcript li.failed")
    assert "This one will not arrive" in failed.text and "not delivered" in failed.text
    rasa.fail = False
    requests.get(f"{desk.url}/health", timeout=5)


ATTACKER = "127.0.0.2"


def test_wrong_passwords_from_one_address_do_not_lock_the_recruiter_out_elsewhere(desk: Desk):
    desk.add_recruiter("alice")
    attacker = Browser(desk.url, address=ATTACKER)
    for _ in range(5):
        assert attacker.sign_in("alice", "wrong password!").status_code == 401
    # That address may no longer try alice's account, even with her password ...
    refused = attacker.sign_in("alice")
    assert refused.status_code == 429 and "locked" in refused.text
    assert "desk_session" not in attacker.cookies
    # ... but alice, at her own address, signs in as usual.
    alice = Browser(desk.url)
    assert alice.sign_in("alice").status_code == 302 and "desk_session" in alice.cookies


def test_one_address_cannot_try_name_after_name(desk: Desk):
    desk.add_recruiter("alice")
    sprayer = Browser(desk.url, address="127.0.0.3")
    for number in range(20):
        assert sprayer.sign_in(f"user{number}", "guess number one").status_code == 401
    assert sprayer.sign_in("alice").status_code == 429
    assert Browser(desk.url).sign_in("alice").status_code == 302


def test_guessing_from_many_addresses_locks_only_addresses_new_to_the_account(desk: Desk):
    desk.add_recruiter("alice")
    assert Browser(desk.url).sign_in("alice").status_code == 302  # her usual address
    for number in range(50):
        guesser = Browser(desk.url, address=f"127.0.1.{number + 1}")
        assert guesser.sign_in("alice", f"guess {number} of many").status_code == 401
    newcomer = Browser(desk.url, address="127.0.2.1")
    refused = newcomer.sign_in("alice")
    assert refused.status_code == 429 and "this account" in refused.text
    assert Browser(desk.url).sign_in("alice").status_code == 302
    assert any(entry["action"] == "locked out" for entry in desk.store.audit_log())


MALFORMED_IDS = ("99999999999999999999", "9223372036854775808", "0", "-1", "123456")


def test_malformed_or_unknown_handoff_ids_are_not_found(desk: Desk):
    token = desk.add_recruiter("alice")
    client = Browser(desk.url)
    client.sign_in("alice")
    csrf = client.csrf("/")
    api = {"Authorization": f"Bearer {token}"}
    for handoff in MALFORMED_IDS:
        for method, path in page_routes(int(handoff)):
            if not path.startswith("/handoffs/"):
                continue  # a page without a handoff id
            page = client.request(method, path, data={"csrf": csrf, "text": "x", "at": "1"})
            assert page.status_code == 404, (path, page.status_code, page.text[:200])
        flag = client.request("POST", f"/handoffs/{handoff}/flag", data={"csrf": csrf, "at": "1"})
        assert flag.status_code == 404, flag.text[:200]
        for method, path in (
            ("GET", ""), ("POST", "/claim"), ("POST", "/messages"),
            ("POST", "/release"), ("POST", "/close"),
        ):  # fmt: skip
            url = f"{desk.url}/api/handoffs/{handoff}{path}"
            answer = requests.request(method, url, headers=api, json={"text": "x"}, timeout=30)
            assert answer.status_code == 404, (url, answer.status_code, answer.text[:200])
            assert "error" in answer.json()
