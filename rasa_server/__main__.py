"""`python -m rasa_server run ...`: Rasa's own command line, after two things our servers need.

- Custom action calls are bounded and apologise when they fail (rasa_server/action_calls.py).
- Tracker store errors refuse the message instead of falling back to memory
  (rasa_server/tracker_store_errors.py).
- Safety intents are answered even while a recruiter has the conversation
  (rasa_server/paused_safety.py).
- Stored events are turned back into events without walking Rasa's class tree for each
  one (rasa_server/event_types.py).
- DIET and the ResponseSelector call their compiled graph directly, without TensorFlow's
  per-call argument handling (rasa_server/tf_predict.py).
- Quick-reply payloads such as `/search_vacancies{"job_family":"technology"}` are not read
  as slot templates, which logged slot values in an error (rasa_server/response_payloads.py).
- RASA_JWT_SECRET, when set, protects the HTTP API with JWTs (HS256), and RASA_TOKEN with
  Rasa's token, without either appearing on the command line, where any user of the machine
  could read it (`ps`). They are handed to Rasa's own `--jwt-secret` and `--auth-token` inside
  this process only: the process's command line stays as it was started.

Every other argument is Rasa's (`rasa run --help`).
"""

from __future__ import annotations

import os
import sys
from typing import List, Mapping

from privacy.tracebacks import install_traceback_redaction
from rasa_server import (
    event_types,
    paused_safety,
    response_payloads,
    tf_predict,
    tracker_store_errors,
)
from rasa_server.action_calls import install, timeout_from_env

JWT_VARIABLE = "RASA_JWT_SECRET"
TOKEN_VARIABLE = "RASA_TOKEN"


def rasa_arguments(argv: List[str], environ: Mapping[str, str]) -> List[str]:
    """The arguments for Rasa: these, plus the JWT secret and the token for `run` when set."""
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return argv
    for flag in ("--jwt-secret", "--auth-token"):
        if flag in argv:
            raise SystemExit(
                f"{flag} would show the secret to every user of this machine (`ps`): "
                f"give it in {JWT_VARIABLE if flag == '--jwt-secret' else TOKEN_VARIABLE}."
            )
    secret = environ.get(JWT_VARIABLE, "")
    if secret:
        argv = [*argv, "--jwt-secret", secret]
        if "--jwt-method" not in argv:
            argv += ["--jwt-method", "HS256"]
    token = environ.get(TOKEN_VARIABLE, "")
    if token:
        argv = [*argv, "--auth-token", token]
    return argv


def main() -> None:
    # Tracebacks without locals or messages; structlog's are fixed once Rasa configured it
    # (privacy/log_redaction.py, installed by the tracker store and the ops channel).
    install_traceback_redaction()
    install(timeout_from_env())
    tracker_store_errors.install()
    paused_safety.install()
    event_types.install()
    response_payloads.install()
    tf_predict.install()
    sys.argv = ["rasa", *rasa_arguments(sys.argv[1:], os.environ)]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
