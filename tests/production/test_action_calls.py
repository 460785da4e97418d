"""Bounded custom action calls with an apology (rasa_server/action_calls.py), against a local
HTTP server standing in for an action server that fails, hangs or declines."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from rasa.__main__ import create_argument_parser
from rasa.core.actions import action as rasa_actions
from rasa.core.actions import forms as rasa_forms
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_server.__main__ import rasa_arguments, require_ops_channel
from rasa_server.action_calls import (
    APOLOGY,
    ActionCallSettingsError,
    BoundedRemoteAction,
    install,
    timeout_from_env,
)
from scripts.stack import ROOT, free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        await runner.cleanup()


async def run(url: str, timeout_s: float = 5) -> list:
    action = BoundedRemoteAction("action_search_vacancies", EndpointConfig(url=url))
    action.timeout_s = timeout_s
    domain = Domain.empty()
    return await action.run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        DialogueStateTracker("applicant", []),
        domain,
    )


def apologised(events: list) -> bool:
    return [type(e) for e in events] == [BotUttered] and events[0].text == APOLOGY


async def test_an_action_server_that_is_not_there_gets_the_applicant_an_apology() -> None:
    assert apologised(await run(f"http://127.0.0.1:{free_port()}/webhook"))


async def test_an_action_server_error_gets_the_applicant_an_apology() -> None:
    async def broken(_: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=500)

    async for url in serve(broken):
        assert apologised(await run(url))


async def test_a_hanging_action_server_is_cut_off_and_the_applicant_gets_an_apology() -> None:
    async def hangs(_: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    async for url in serve(hangs):
        assert apologised(await asyncio.wait_for(run(url, timeout_s=0.5), timeout=10))


async def test_an_answer_passes_through_unchanged() -> None:
    async def answers(_: web.Request) -> web.Response:
        return web.json_response({"events": [], "responses": [{"text": "Three roles match."}]})

    async for url in serve(answers):
        events = await run(url)
    assert [e.text for e in events] == ["Three roles match."]


async def test_an_answer_in_the_wrong_shape_gets_the_applicant_an_apology() -> None:
    async def misshapen(_: web.Request) -> web.Response:
        return web.json_response({"events": "set the slot", "responses": []})

    async for url in serve(misshapen):
        assert apologised(await run(url))


@pytest.mark.parametrize(
    "answer, valid",
    [
        ({"events": [], "responses": []}, True),
        ({"events": [{"event": "slot", "name": "location", "value": "Leeds"}]}, True),
        ({"responses": [{"text": "Hello", "buttons": []}]}, True),
        ({"events": "set the slot"}, False),
        ({"events": [{"name": "location"}]}, False),
        ({"responses": "Hello"}, False),
    ],
)
def test_answers_are_checked_against_rasas_schema_with_rasas_error(
    answer: dict, valid: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validator built once accepts and refuses exactly what Rasa's own check does."""
    from jsonschema import ValidationError

    monkeypatch.setattr(BoundedRemoteAction, "cached_validator", True)
    action = BoundedRemoteAction("action_search_vacancies", None)
    if valid:
        assert action._validate_action_result(answer) is True
        assert RemoteAction("action_search_vacancies", None)._validate_action_result(answer)
        return
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(answer)
    with pytest.raises(ValidationError):
        RemoteAction("action_search_vacancies", None)._validate_action_result(answer)


async def test_an_action_that_declines_to_run_is_left_to_rasa() -> None:
    async def declines(_: web.Request) -> web.Response:
        body = {"error": "no", "action_name": "action_search_vacancies"}
        return web.json_response(body, status=400)

    async for url in serve(declines):
        with pytest.raises(ActionExecutionRejection):
            await run(url)


def test_install_makes_rasa_build_bounded_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Undone afterwards: this test process is not a Rasa server.
    monkeypatch.setattr(rasa_actions, "RemoteAction", RemoteAction)
    monkeypatch.setattr(rasa_forms, "RemoteAction", RemoteAction)
    monkeypatch.setattr(BoundedRemoteAction, "timeout_s", BoundedRemoteAction.timeout_s)
    install(7.5)
    built = rasa_actions.action_for_name_or_text(
        "action_search_vacancies",
        Domain.from_dict({"actions": ["action_search_vacancies"]}),
        EndpointConfig(url="http://localhost/webhook"),
    )
    assert isinstance(built, BoundedRemoteAction)
    assert built.timeout_s == 7.5


@pytest.mark.parametrize("raw", ["0", "-1", "60", "600", "soon"])
def test_an_action_timeout_outside_the_lock_lifetime_is_refused(raw: str) -> None:
    with pytest.raises(ActionCallSettingsError, match="ACTION_TIMEOUT_S"):
        timeout_from_env({"ACTION_TIMEOUT_S": raw})


def test_the_action_timeout_defaults_to_20_seconds() -> None:
    assert timeout_from_env({}) == 20.0
    assert timeout_from_env({"ACTION_TIMEOUT_S": "12.5"}) == 12.5


def test_the_jwt_secret_comes_from_the_environment_not_the_command_line() -> None:
    run_args = ["run", "--enable-api", "--port", "5005"]
    assert rasa_arguments(run_args, {"RASA_JWT_SECRET": "s"}) == [
        *run_args, "--jwt-secret=s", "--jwt-method", "HS256",
    ]  # fmt: skip
    assert rasa_arguments(run_args, {}) == run_args
    assert rasa_arguments(["shell"], {"RASA_JWT_SECRET": "s"}) == ["shell"]


def test_the_api_token_comes_from_the_environment_not_the_command_line() -> None:
    run_args = ["run", "--enable-api", "--port", "5005"]
    assert rasa_arguments(run_args, {"RASA_TOKEN": "t"}) == [*run_args, "--auth-token=t"]
    for flag in ("--auth-token", "--jwt-secret"):
        for given in ([flag, "on-the-command-line"], [f"{flag}=on-the-command-line"]):
            with pytest.raises(SystemExit, match="RASA_"):
                rasa_arguments([*run_args, *given], {})


def test_secrets_that_begin_with_a_dash_reach_rasa_whole() -> None:
    """token_urlsafe() begins with "-" one time in 64: Rasa's own parser must still read it
    as the value (a CI run once failed with "--jwt-secret: expected one argument")."""
    run_args = ["run", "--enable-api", "--port", "5005"]
    environ = {"RASA_JWT_SECRET": "-secret-with-a-dash", "RASA_TOKEN": "-token"}
    parsed = create_argument_parser().parse_args(rasa_arguments(run_args, environ))
    assert (parsed.jwt_secret, parsed.auth_token) == ("-secret-with-a-dash", "-token")


def test_a_server_without_the_ops_channel_does_not_start(tmp_path: Path) -> None:
    """The ops channel installs log redaction at start-up (rasa_server/ops.py)."""
    without_ops = tmp_path / "credentials.yml"
    without_ops.write_text("rest:\n")
    for argv in (["run"], ["run", "--credentials", str(without_ops)]):
        with pytest.raises(SystemExit, match=r"rasa_server\.ops\.OpsInput"):
            require_ops_channel(argv)
    for credentials in ("credentials.yml", "credentials.prod.yml", "deploy/rasa/credentials.yml"):
        require_ops_channel(["run", "--credentials", str(ROOT / credentials)])
    require_ops_channel(["shell"])  # a developer's terminal chat has no HTTP server
