"""No applicant text in any server's log at INFO or above.

A conversation that goes through every part of the assistant (FAQ, not understood, vacancy
search, Q&As, hand-over to a recruiter, the erasure question) runs through the real Rasa
server and action server at INFO, on SQLite and on PostgreSQL with Redis (there with the
libraries' logs at INFO too); the distinctive words the applicant typed must not appear in
the servers' output. Rasa's own structlog calls that carry text are checked separately,
since a healthy conversation does not reach the ones at ERROR.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest

from scripts.stack import ROOT, quiet_env
from tests.conftest import say
from tests.privacy_support import BACKENDS, Servers, running_servers


@pytest.fixture(params=BACKENDS)
def servers(request: pytest.FixtureRequest) -> Servers:
    return running_servers(request)


def test_no_message_text_in_the_servers_logs(servers: Servers):
    word = f"Zanzibarnacle{uuid.uuid4().hex[:6]}"
    sender = f"log-check-{uuid.uuid4().hex[:8]}"
    for message in (
        f"hi, I'm {word}",
        f"can I apply if I lived in {word} for years?",
        f"{word} {word} {word}",
        f"{word} {word}?",
        f"any {word} jobs in manchester?",
        # An answer whose quick reply carries JSON, with a slot (the place) set.
        "faq/roles_technology",
        "when's the next live q&a?",
        "delete my data",
        "no",
        f"please can I talk to a person about {word}",
    ):
        say(servers.stack, sender, message)
    output = servers.log.read_text(errors="replace")
    # The servers did log at INFO (else this test could not fail).
    assert "Rasa server is up and running" in output
    assert "vacancy search: " in output
    assert word.lower() not in output.lower()
    # Rasa's interpolator logs every slot's value when it takes JSON for a placeholder.
    assert "interpolator" not in output


def test_rasas_own_text_fields_are_redacted_above_debug():
    """Rasa's REST channel logs the text of a message it failed to answer, at ERROR."""
    script = textwrap.dedent(
        """
        import logging, structlog
        from rasa.utils.log_utils import configure_structlog
        configure_structlog(logging.DEBUG)
        log = structlog.get_logger("rasa.core.channels.rest")
        log.info("before.redaction", other="visible")  # a logger cached before redaction
        from rasa_server.log_redaction import redact_rasa_logs
        redact_rasa_logs()
        redact_rasa_logs()
        log.error("rest.message.received.failure", text="SECRET-ONE")
        log.info("some.event", user_message="SECRET-TWO", parse_data_text="SECRET-THREE")
        log.debug("debug.event", text="VISIBLE-AT-DEBUG")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**quiet_env(), "FORCE_JSON_LOGGING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert "rest.message.received.failure" in output and "[redacted]" in output
    for secret in ("SECRET-ONE", "SECRET-TWO", "SECRET-THREE"):
        assert secret not in output
    assert "VISIBLE-AT-DEBUG" in output
    assert output.count("[redacted]") == 3


def test_tracebacks_carry_no_locals_or_messages_above_debug():
    """An exception's frames keep their local variables and its message quotes its input."""
    script = textwrap.dedent(
        """
        import logging, structlog
        from rasa.utils.log_utils import configure_structlog
        configure_structlog(logging.DEBUG)
        from rasa_server.log_redaction import redact_rasa_logs
        redact_rasa_logs()

        def handle(text):
            raise ValueError(f"cannot parse {text}")

        for logged in ("SECRET-LOCAL", "SECRET-STDLIB"):
            try:
                handle(logged)
            except ValueError:
                if logged == "SECRET-LOCAL":
                    structlog.get_logger().exception("rest.message.received.failure")
                else:
                    logging.getLogger("sanic.error").exception("failed")
        try:
            handle("VISIBLE-AT-DEBUG")
        except ValueError:
            logging.getLogger("sanic.error").debug("failed", exc_info=True)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**quiet_env(), "FORCE_JSON_LOGGING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert '"exc_type": "ValueError"' in output and "ValueError: [redacted]" in output
    assert '"name": "handle"' in output and ", in handle" in output  # where it was raised
    for secret in ("SECRET-LOCAL", "SECRET-STDLIB"):
        assert secret not in output
    assert "VISIBLE-AT-DEBUG" in output
