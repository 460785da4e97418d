"""The desk's JSON API and CLI, with a real desk process and a stand-in Rasa HTTP API."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict

import requests

from contracts.recruiter_reply import ReplyRefused, reply_event
from tests.desk_support import Desk, StandInRasa, desk_cli


def call(desk: Desk, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{desk.url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        **kwargs,
    )


def test_create_token_prints_only_a_working_token(desk: Desk):
    token = desk.add_recruiter("alice")
    again = desk_cli(desk.database_url, "create-token", "alice")
    assert again.stdout.count("\n") == 1 and len(again.stdout.strip()) >= 40
    assert again.stdout.strip() != token
    assert call(desk, again.stdout.strip(), "GET", "/api/handoffs").status_code == 200
    unknown = desk_cli(desk.database_url, "create-token", "nobody")
    assert unknown.returncode == 1 and unknown.stdout == ""


def test_a_short_password_is_refused(desk: Desk):
    made = desk_cli(desk.database_url, "create-user", "bob", stdin="short\n")
    assert made.returncode == 1 and "12 characters" in made.stderr
    assert desk.store.user("bob") is None


def test_missing_wrong_and_expired_tokens_get_401(desk: Desk):
    desk.add_recruiter("alice")
    expired = desk_cli(desk.database_url, "create-token", "alice", "--days", "0").stdout.strip()
    handoff = desk.add_handoff("someone")
    routes = [
        ("GET", "/api/handoffs"),
        ("GET", f"/api/handoffs/{handoff}"),
        ("POST", f"/api/handoffs/{handoff}/claim"),
        ("POST", f"/api/handoffs/{handoff}/messages"),
        ("POST", f"/api/handoffs/{handoff}/release"),
        ("POST", f"/api/handoffs/{handoff}/close"),
    ]
    for method, path in routes:
        assert requests.request(method, desk.url + path, timeout=10).status_code == 401, path
        assert call(desk, "wrong", method, path).status_code == 401, path
        assert call(desk, expired, method, path).status_code == 401, path
    assert (desk.store.get_handoff(handoff) or {})["status"] == "waiting"


def test_the_queue_is_longest_wait_first_with_topic_and_preview(desk: Desk):
    token = desk.add_recruiter("alice")
    now = time.time()
    newer = desk.add_handoff("newer", "second question", at=now - 60)
    older = desk.add_handoff("older", "first question", at=now - 600)
    waiting = call(desk, token, "GET", "/api/handoffs?status=waiting").json()["handoffs"]
    assert [h["id"] for h in waiting] == [older, newer]
    assert waiting[0]["preview"] == "first question"
    assert waiting[0]["topic"] == "eligibility_residency"
    assert call(desk, token, "GET", "/api/handoffs?status=nonsense").status_code == 400
    assert call(desk, token, "GET", "/api/handoffs/999").status_code == 404


def test_claim_reply_release(desk: Desk, rasa: StandInRasa):
    alice, bob = desk.add_recruiter("alice"), desk.add_recruiter("bob")
    wrote_at = time.time()
    rasa.conversation("applicant-1", "socketio", ("can I apply from abroad?", wrote_at))
    handoff = desk.add_handoff("applicant-1", "can I apply from abroad?")

    not_yet = call(desk, alice, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "hi"})
    assert not_yet.status_code == 409 and "Claim" in not_yet.json()["error"]

    claimed = call(desk, alice, "POST", f"/api/handoffs/{handoff}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "alice"
    assert rasa.posted[-1] == ("applicant-1", [{"event": "pause"}])
    second = call(desk, bob, "POST", f"/api/handoffs/{handoff}/claim")
    assert second.status_code == 409 and "alice" in second.json()["error"]

    sent = call(desk, alice, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "Yes."})
    assert sent.status_code == 201 and sent.json()["delivered"] is True
    # Channel-neutral: a person typed it, after the applicant's last message.
    assert rasa.posted[-1] == ("applicant-1", [reply_event("Yes.", handoff, wrote_at)])
    theirs = call(desk, bob, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "Me"})
    assert theirs.status_code == 409 and "claimed by alice" in theirs.json()["error"]
    empty = call(desk, alice, "POST", f"/api/handoffs/{handoff}/messages", json={"text": " "})
    assert empty.status_code == 400
    huge = call(desk, alice, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "é" * 600})
    assert huge.status_code == 400 and "1000 bytes" in huge.json()["error"]

    detail = call(desk, alice, "GET", f"/api/handoffs/{handoff}").json()
    assert [(e["who"], e["text"]) for e in detail["transcript"]] == [
        ("applicant", "can I apply from abroad?"),
        ("recruiter", "Yes."),
    ]

    released = call(desk, alice, "POST", f"/api/handoffs/{handoff}/release")
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["outcome"]) == ("closed", "released")
    events = rasa.posted[-1][1]
    assert events[0] == {"event": "resume"}
    assert events[1]["event"] == "bot" and "automated assistant" in events[1]["text"]
    closed = call(desk, alice, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "x"})
    assert closed.status_code == 409 and "closed" in closed.json()["error"]

    actions = [(e["actor"], e["action"]) for e in reversed(desk.store.audit_log())]
    assert ("alice", "claimed") in actions and ("alice", "replied") in actions
    assert ("alice", "released") in actions


def test_a_reply_rasa_cannot_deliver_is_kept_and_shown_as_not_delivered(
    desk: Desk, rasa: StandInRasa
):
    token = desk.add_recruiter("alice")
    rasa.conversation("applicant-2", "instagram", ("hello", time.time()))
    handoff = desk.add_handoff("applicant-2", "hello")
    call(desk, token, "POST", f"/api/handoffs/{handoff}/claim")
    rasa.fail = True
    sent = call(desk, token, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "Hi!"})
    assert sent.status_code == 502 and "Not delivered" in sent.json()["error"]
    rasa.fail = False
    transcript = call(desk, token, "GET", f"/api/handoffs/{handoff}").json()["transcript"]
    failed = [entry for entry in transcript if entry.get("delivery") == "failed"]
    assert [entry["text"] for entry in failed] == ["Hi!"]
    assert "500" in failed[0]["error"]


def test_a_reply_the_channel_refuses_is_a_conflict_with_the_channels_reason(
    desk: Desk, rasa: StandInRasa
):
    """The desk knows no channel's rules (contracts/recruiter_reply.py): Instagram's windows
    are the channel's (tests/test_instagram_e2e.py); its refusal reaches the recruiter."""
    token = desk.add_recruiter("alice")
    wrote_at = time.time() - 8 * 24 * 3600
    rasa.conversation("instagram:ig-too-late", "instagram", ("hello?", wrote_at))
    too_late = desk.add_handoff("instagram:ig-too-late", channel="instagram")
    call(desk, token, "POST", f"/api/handoffs/{too_late}/claim")
    rasa.refusal = str(ReplyRefused("Only within 7 days of the applicant's last message."))

    refused = call(desk, token, "POST", f"/api/handoffs/{too_late}/messages", json={"text": "Hi"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "Only within 7 days of the applicant's last message."
    assert rasa.refused == [("instagram:ig-too-late", [reply_event("Hi", too_late, wrote_at)])]
    transcript = call(desk, token, "GET", f"/api/handoffs/{too_late}").json()["transcript"]
    assert [e["delivery"] for e in transcript if e.get("text") == "Hi"] == ["failed"]


def test_a_reply_goes_to_the_handoffs_channel_whatever_the_latest_channel(
    desk: Desk, rasa: StandInRasa
):
    token = desk.add_recruiter("alice")
    # Opened on Instagram; since then something else wrote to the conversation.
    rasa.conversation("instagram:ig-moved", "socketio", ("hello", time.time() - 60))
    handoff = desk.add_handoff("instagram:ig-moved", channel="instagram")
    call(desk, token, "POST", f"/api/handoffs/{handoff}/claim")
    sent = call(desk, token, "POST", f"/api/handoffs/{handoff}/messages", json={"text": "Hi."})
    assert sent.status_code == 201
    assert rasa.posted[-1][0] == "instagram:ig-moved"
    assert rasa.output_channels[-2:] == ["instagram", "instagram"]  # the pause, then the reply


def test_two_recruiters_claiming_at_once_exactly_one_wins(desk: Desk):
    tokens = {"alice": desk.add_recruiter("alice"), "bob": desk.add_recruiter("bob")}
    for round_number in range(20):
        handoff = desk.add_handoff(f"race-{round_number}")
        barrier = threading.Barrier(2)
        results: Dict[str, int] = {}

        def claim(
            name: str,
            handoff: int = handoff,
            barrier: threading.Barrier = barrier,
            results: Dict[str, int] = results,
        ) -> None:
            barrier.wait()
            results[name] = call(
                desk, tokens[name], "POST", f"/api/handoffs/{handoff}/claim"
            ).status_code

        threads = [threading.Thread(target=claim, args=(name,)) for name in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [200, 409], results
        winner = next(name for name, status in results.items() if status == 200)
        assert (desk.store.get_handoff(handoff) or {})["claimed_by"] == winner
