"""Who may use the REST channel (channels/reliable_rest.py): loopback peers in `make run`,
nobody in production until REST_CHANNEL_TOKEN is set, then only requests carrying it.

The peer address cannot be anything but loopback on a test machine, so these call the
channel's check with the request's address and headers; tests/test_conversation_ownership.py
covers the token against the real server.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from channels.reliable_rest import ReliableRestInput


def request(ip: str, authorization: str | None = None) -> Any:
    headers = {"authorization": authorization} if authorization else {}
    return SimpleNamespace(ip=ip, headers=headers)


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.0.0.2", "::1"])
def test_make_run_answers_this_machine(ip: str):
    assert ReliableRestInput()._refuse_caller(request(ip)) is None


@pytest.mark.parametrize("ip", ["10.0.0.5", "192.168.1.20", "2001:db8::1", ""])
def test_make_run_refuses_other_machines(ip: str):
    refused = ReliableRestInput()._refuse_caller(request(ip))
    assert refused is not None and refused.status == 403


def test_production_is_off_without_a_token_even_for_loopback():
    channel = ReliableRestInput.from_credentials({"require_token": True})
    assert isinstance(channel, ReliableRestInput) and not channel.token
    refused = channel._refuse_caller(request("127.0.0.1"))
    assert refused is not None and refused.status == 403
    assert b"REST_CHANNEL_TOKEN" in (refused.body or b"")


def test_with_a_token_only_requests_carrying_it_get_in(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "s3cret-token")
    channel = ReliableRestInput.from_credentials({"require_token": True})
    assert channel._refuse_caller(request("10.0.0.5", "Bearer s3cret-token")) is None
    for wrong in (None, "Bearer wrong", "s3cret-token"):
        refused = channel._refuse_caller(request("127.0.0.1", wrong))
        assert refused is not None and refused.status == 401
