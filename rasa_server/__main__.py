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
- RASA_JWT_SECRET, when set, protects the HTTP API with JWTs (HS256) without the secret
  appearing on the command line, where any user of the machine could read it.

Every other argument is Rasa's (`rasa run --help`).
"""

from __future__ import annotations

import os
import sys
from typing import List, Mapping

from rasa_server import (
    event_types,
    paused_safety,
    response_payloads,
    tf_predict,
    tracker_store_errors,
)
from rasa_server.action_calls import install, timeout_from_env

JWT_VARIABLE = "RASA_JWT_SECRET"


def rasa_arguments(argv: List[str], environ: Mapping[str, str]) -> List[str]:
    """The arguments for Rasa: these, plus the JWT secret for `run` when it is set."""
    secret = environ.get(JWT_VARIABLE, "")
    if secret and argv[:1] == ["run"] and argv[1:2] != ["actions"]:
        if "--jwt-secret" in argv:
            raise SystemExit(f"Give the JWT secret in {JWT_VARIABLE} or --jwt-secret, not both.")
        argv = [*argv, "--jwt-secret", secret]
        if "--jwt-method" not in argv:
            argv += ["--jwt-method", "HS256"]
    return argv


def main() -> None:
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
