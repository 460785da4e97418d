"""Custom action calls that end in bounded time, and an apology when they fail.

Rasa 3.6 waits up to 300 s for the action server (a fixed constant) while the conversation
lock lives 60 s, and when a call fails it logs the error and carries on with no reply at
all: the applicant is left in silence. Here every custom action call is cut at
ACTION_TIMEOUT_S (default 20 s, always under the lock lifetime), and a failed, refused
(other than Rasa's own "rejected" answer) or timed-out call sends the applicant a short
apology instead. The turn then goes on as Rasa's would, so the next message is answered
normally.

Rasa builds custom actions with the class `rasa.core.actions.action.RemoteAction`, looked
up when each action is created; no configuration can change it, so `install()` (called by
`python -m rasa_server`) puts this subclass in its place. It is a patch of a private API:
the module names `rasa.core.actions.action.RemoteAction` and `rasa.core.actions.forms.RemoteAction`
are rebound, so `install()` refuses to run on any Rasa but the pinned one
(rasa_server/versions.py; docs/upgrading.md says what to check).

With `install_validator_cache()` the subclass also checks the action server's answer
against Rasa's response schema with a validator built once, overriding the private
`RemoteAction._validate_action_result`. Rasa calls `jsonschema.validate`, which first
checks the schema itself against JSON Schema's meta-schema, on every call: that was a sixth
of the Rasa server's time under the benchmark's REST load (py-spy); the A/B of issue 16
(BENCHMARKS.md) measured +24% throughput and 21% less CPU per message with it. An answer
that fails goes on to Rasa's own check, so the error is Rasa's.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any, Dict, List, Mapping

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions import action as rasa_actions
from rasa.core.actions import forms as rasa_forms
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.lock_store import LOCK_LIFETIME
from rasa.shared.core.events import BotUttered, Event

from rasa_server.versions import require

logger = logging.getLogger(__name__)

TIMEOUT_VARIABLE = "ACTION_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 20.0
# Trainers can word the apology in domain.yml under this name (after retraining).
APOLOGY_RESPONSE = "utter_action_failed"
APOLOGY = (
    "Sorry, something went wrong on our side and I can't answer that right now. Please try "
    "again in a few minutes, or see https://www.mi5.gov.uk/careers"
)


class ActionCallSettingsError(ValueError):
    """ACTION_TIMEOUT_S has a value the server cannot use."""


def timeout_from_env(environ: Mapping[str, str] | None = None) -> float:
    """ACTION_TIMEOUT_S, which must leave the call well inside the conversation lock."""
    env = os.environ if environ is None else environ
    raw = env.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise ActionCallSettingsError(
            f"{TIMEOUT_VARIABLE} must be a number of seconds; got {raw!r}."
        ) from None
    if not 0 < value < LOCK_LIFETIME:
        raise ActionCallSettingsError(
            f"{TIMEOUT_VARIABLE} must be more than 0 and less than the conversation lock's "
            f"lifetime ({LOCK_LIFETIME} s); got {raw!r}."
        )
    return value


class BoundedRemoteAction(RemoteAction):
    """A custom action call that ends within `timeout_s` and apologises when it fails."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    cached_validator: bool = False  # install_validator_cache()

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        try:
            return await asyncio.wait_for(
                super().run(output_channel, nlg, tracker, domain), timeout=self.timeout_s
            )
        except ActionExecutionRejection:
            raise  # the action declined to run; Rasa predicts something else
        except asyncio.TimeoutError:
            logger.error(
                "Custom action %s took more than %g s; the applicant gets an apology.",
                self.name(),
                self.timeout_s,
            )
        except Exception as error:
            logger.error(
                "Custom action %s failed (%s); the applicant gets an apology.",
                self.name(),
                type(error).__name__,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
        return [await apology(nlg, tracker, domain, output_channel)]

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        if self.cached_validator and _response_validator().is_valid(result):
            return True
        return super()._validate_action_result(result)  # raises Rasa's error


@functools.lru_cache(maxsize=1)
def _response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


async def apology(nlg: Any, tracker: Any, domain: Any, output_channel: Any) -> BotUttered:
    metadata = {"utter_action": APOLOGY_RESPONSE}
    if APOLOGY_RESPONSE in getattr(domain, "responses", {}):
        try:
            generated = await nlg.generate(APOLOGY_RESPONSE, tracker, output_channel.name())
            if generated:
                return create_bot_utterance({**generated, **metadata})
        except Exception:  # the fixed text below is always there
            logger.exception("Could not render %s.", APOLOGY_RESPONSE)
    return BotUttered(text=APOLOGY, metadata=metadata)


def install(timeout_s: float) -> None:
    """Make Rasa build every custom action as a BoundedRemoteAction."""
    require("action_calls: RemoteAction rebound")
    BoundedRemoteAction.timeout_s = timeout_s
    rasa_actions.RemoteAction = BoundedRemoteAction
    # Forms imported the name itself, for their validation actions.
    rasa_forms.RemoteAction = BoundedRemoteAction
    logger.info("Custom action calls are bounded to %g s, with an apology on failure.", timeout_s)


def install_validator_cache() -> None:
    """Check action server answers with the validator built once (see the module's note)."""
    require("validator_cache: RemoteAction._validate_action_result overridden")
    BoundedRemoteAction.cached_validator = True
