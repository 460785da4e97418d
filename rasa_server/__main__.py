"""`python -m rasa_server run ...`: Rasa's own command line, after what our servers need.

Installed here, once, before Rasa starts (each patch of a private Rasa or TensorFlow API
refuses to start on versions other than those pinned in rasa_server/versions.py; every one
is listed with what to check on an upgrade in docs/upgrading.md):

- action_calls: custom action calls are bounded and apologise when they fail
  (rasa_server/action_calls.py);
- validator_cache: the action server's answers are checked with a JSON Schema validator
  built once (rasa_server/action_calls.py);
- tracker_store_errors: tracker store errors refuse the message instead of falling back to
  memory (rasa_server/tracker_store_errors.py);
- paused_safety: safety intents are answered even while a recruiter has the conversation
  (rasa_server/paused_safety.py);
- event_types: stored events are turned back into events without walking Rasa's class tree
  for each one (rasa_server/event_types.py);
- tf_predict: DIET and the ResponseSelector call their compiled graph directly, without
  TensorFlow's per-call argument handling (rasa_server/tf_predict.py);
- response_payloads: quick-reply payloads such as `/search_vacancies{"job_family":"technology"}`
  are not read as slot templates, which logged slot values in an error
  (rasa_server/response_payloads.py);
- tracebacks in the standard library's log records carry no data (privacy/tracebacks.py);
  Rasa's structlog records are redacted by the ops channel when the server starts
  (rasa_server/ops.py), the first moment after Rasa has configured structlog, so `run`
  refuses a credentials file without that channel.

RASA_JWT_SECRET, when set, protects the HTTP API with JWTs (HS256), and RASA_TOKEN with
Rasa's token, without either appearing on the command line, where any user of the machine
could read it (`ps`). They are handed to Rasa's own `--jwt-secret` and `--auth-token` inside
this process only: the process's command line stays as it was started.

Every other argument is Rasa's (`rasa run --help`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Collection, Dict, List, Mapping

import yaml
from rasa.__main__ import main as rasa_main

from privacy.tracebacks import install_traceback_redaction
from rasa_server import (
    action_calls,
    event_types,
    paused_safety,
    response_payloads,
    tf_predict,
    tracker_store_errors,
)

# Every patch `python -m rasa_server` installs, by name, in the order installed.
PATCHES: Dict[str, Callable[[], None]] = {
    "action_calls": lambda: action_calls.install(action_calls.timeout_from_env()),
    "validator_cache": action_calls.install_validator_cache,
    "tracker_store_errors": tracker_store_errors.install,
    "paused_safety": paused_safety.install,
    "event_types": event_types.install,
    "response_payloads": response_payloads.install,
    "tf_predict": tf_predict.install,
}
# Patches that only make the server faster; bench/patches.py measures each without it.
SPEED_ONLY = ("validator_cache", "event_types", "tf_predict")

OPS_CHANNEL = "rasa_server.ops.OpsInput"
JWT_VARIABLE = "RASA_JWT_SECRET"
TOKEN_VARIABLE = "RASA_TOKEN"


def rasa_arguments(argv: List[str], environ: Mapping[str, str]) -> List[str]:
    """The arguments for Rasa: these, plus the JWT secret and the token for `run` when set."""
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return argv
    for flag in ("--jwt-secret", "--auth-token"):
        if any(arg == flag or arg.startswith(f"{flag}=") for arg in argv):
            raise SystemExit(
                f"{flag} would show the secret to every user of this machine (`ps`): "
                f"give it in {JWT_VARIABLE if flag == '--jwt-secret' else TOKEN_VARIABLE}."
            )
    # `--flag=value`: a generated secret may begin with "-", which argparse would otherwise
    # take for a flag of its own ("--jwt-secret: expected one argument").
    secret = environ.get(JWT_VARIABLE, "")
    if secret:
        argv = [*argv, f"--jwt-secret={secret}"]
        if "--jwt-method" not in argv:
            argv += ["--jwt-method", "HS256"]
    token = environ.get(TOKEN_VARIABLE, "")
    if token:
        argv = [*argv, f"--auth-token={token}"]
    return argv


def require_ops_channel(argv: List[str]) -> None:
    """`run` must list the ops channel: it installs log redaction when the server starts."""
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return
    path = argv[argv.index("--credentials") + 1] if "--credentials" in argv[:-1] else None
    channels = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if path else None
    if not isinstance(channels, dict) or OPS_CHANNEL not in channels:
        raise SystemExit(
            f"rasa_server refuses to start: list `{OPS_CHANNEL}:` in the --credentials file "
            f"({path or 'none given'}). It serves health and metrics and keeps message text "
            "out of Rasa's logs (rasa_server/log_redaction.py)."
        )


def install_patches(without: Collection[str] = ()) -> None:
    """Install every patch but those named in `without` (the benchmark's A/B only)."""
    unknown = set(without) - set(SPEED_ONLY)
    if unknown:
        raise ValueError(f"only speed-only patches can be left out, not {sorted(unknown)}")
    for name, install in PATCHES.items():
        if name not in without:
            install()


def main(without: Collection[str] = ()) -> None:
    # Tracebacks without locals or messages; structlog's are fixed once Rasa configured it
    # (rasa_server/log_redaction.py, installed by the ops channel when the server starts).
    install_traceback_redaction()
    require_ops_channel(sys.argv[1:])
    install_patches(without)
    sys.argv = ["rasa", *rasa_arguments(sys.argv[1:], os.environ)]
    rasa_main()


if __name__ == "__main__":
    main()
