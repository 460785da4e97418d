"""Start the assistant's processes: the action server, the Rasa server and the recruiter desk.

The desk is part of the assistant: handoffs and erasures go through its service API, which
the action server calls at DESK_URL with DESK_SERVICE_TOKEN (both passed to every process).

Shared by `make run`, `make shell`, the end-to-end tests and the benchmark, so all of
them run the assistant exactly the same way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Dict, Iterator, List, Set, Tuple

import requests

from contracts.rasa_api_auth import api_jwt, api_token
from desk.service_auth import TOKEN_VARIABLE as DESK_TOKEN_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# How much of the servers' log is shown when they do not start.
LOG_TAIL_CHARS = 5000


def dev_secret(variable: str, var_dir: Path = ROOT / "var") -> Tuple[str, str]:
    """The secret in `variable`, else one generated once into var/ (for this machine only).

    Returns the secret and where it came from, to tell the person starting the servers.
    """
    value = os.environ.get(variable, "")
    if value:
        return value, f"from {variable}"
    path = var_dir / variable.lower()
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return path.read_text(encoding="utf-8").strip(), f"generated into {shown}"


def action_endpoint_yaml(port: int) -> str:
    """The `action_endpoint:` lines of an endpoints file: this port, and the secret header that
    the action server requires. Rasa expands ${ACTION_SERVER_SECRET} from its environment, in
    a plain (unquoted) YAML value only."""
    return (
        "action_endpoint:\n"
        f'  url: "http://localhost:{port}/webhook"\n'
        "  headers:\n"
        "    X-Action-Secret: ${ACTION_SERVER_SECRET}\n"
    )


# Ports `free_port` has handed out in this process.
_HANDED_OUT: Set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and not one this process has handed out before: the
    OS may give two probes in a row the same port, and then two servers of one stack collide
    (seen: Rasa and the action server both given 37735)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def quiet_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


@dataclass
class Stack:
    """The action server, the Rasa server and the desk, started together and stopped together.

    `processes` holds them in that order (the fault tests and the benchmark pick them by
    position)."""

    rasa_port: int = 5005
    action_port: int = 5055
    token: str = field(default_factory=api_token)
    endpoints: Path = ROOT / "endpoints.yml"
    credentials: Path = ROOT / "credentials.yml"
    model: Path = ROOT / "models"
    log: IO[bytes] | None = None
    processes: List[subprocess.Popen] = field(default_factory=list)
    # Extra environment variables for every process (e.g. DESK_DATABASE_URL).
    env: Dict[str, str] = field(default_factory=dict)
    desk_port: int = 5006
    # Production: the HTTP API takes JWTs signed with this instead of `token`.
    jwt_secret: str = ""
    # The action server refuses calls without this in X-Action-Secret; the Rasa server sends
    # it (endpoints files: action_endpoint's headers). `make run` passes one kept in var/.
    action_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # The desk's service token (desk/service_auth.py): the action server sends it, the desk
    # requires it. `make run` passes one kept in var/desk_service_token.
    desk_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # False when another stack's desk serves this one (a cluster's replicas share one desk on
    # `desk_port`).
    own_desk: bool = True
    _desk: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def webchat_url(self) -> str:
        return f"{self.url}/webhooks/webchat/"

    @property
    def desk_url(self) -> str:
        return f"http://localhost:{self.desk_port}"

    @property
    def action_url(self) -> str:
        return f"http://localhost:{self.action_port}/webhook"

    def api_auth(self) -> tuple[Dict[str, str], Dict[str, str]]:
        """Query parameters and headers for one call to the Rasa HTTP API."""
        if self.jwt_secret:
            return {}, {"Authorization": f"Bearer {api_jwt(self.jwt_secret)}"}
        return {"token": self.token}, {}

    def _secrets_env(self) -> Dict[str, str]:
        """Secrets go to the processes in their environment, never on a command line (which
        every user of the machine can read with `ps`)."""
        env = {
            "ACTION_SERVER_URL": self.action_url,
            "ACTION_SERVER_SECRET": self.action_secret,
            "DESK_URL": self.desk_url,
            DESK_TOKEN_VARIABLE: self.desk_token,
        }
        if self.jwt_secret:
            env["RASA_JWT_SECRET"] = self.jwt_secret
        return env

    def start_desk(self, timeout: float = 60) -> None:
        """The recruiter desk; it talks to this stack's Rasa server with its token. A no-op
        when this stack's desk is already running."""
        if self._desk is not None and self._desk.poll() is None:
            return
        self._desk = self._spawn(
            [sys.executable, "-m", "desk", "serve", "--port", str(self.desk_port)],
            extra_env={"RASA_URL": self.url, "RASA_TOKEN": self.token, **self._secrets_env()},
        )
        self._wait_for([f"{self.desk_url}/health"], timeout)

    def start_action_server(self) -> None:
        """actions/server.py: rasa-sdk's server, requiring the secret header when it is set."""
        self._spawn(
            [sys.executable, "-m", "actions.server", "--port", str(self.action_port)],
            extra_env=self._secrets_env(),
        )

    def start_rasa_server(self) -> None:
        """`rasa run` through rasa_server (bounded action calls, apology, the token or the JWT
        secret from the environment)."""
        self._spawn(
            [
                sys.executable, "-m", "rasa_server", "run",
                "--enable-api",
                "--port", str(self.rasa_port),
                "--model", str(self.model),
                "--endpoints", str(self.endpoints),
                "--credentials", str(self.credentials),
            ],
            # Empty with a JWT secret: the API then takes JWTs only.
            extra_env={**self._secrets_env(), "RASA_TOKEN": "" if self.jwt_secret else self.token},
        )  # fmt: skip

    def start(self, timeout: float = 180) -> None:
        self.start_action_server()
        self.start_rasa_server()
        if self.own_desk:
            self.start_desk(timeout)  # ready long before Rasa has loaded its model
        self.wait_until_ready(timeout)

    def wait_until_ready(self, timeout: float) -> None:
        checks = [f"http://localhost:{self.action_port}/health", f"{self.url}/status"]
        self._wait_for(checks, timeout, authenticate=True)

    def _wait_for(self, checks: List[str], timeout: float, authenticate: bool = False) -> None:
        deadline = time.monotonic() + timeout
        for check in checks:
            while True:
                self._fail_if_exited()
                params, headers = self.api_auth() if authenticate else ({}, {})
                try:
                    if requests.get(check, params=params, headers=headers, timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{check} not ready after {timeout:.0f}s")
                time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        self._desk = None

    def _spawn(
        self, command: List[str], extra_env: Dict[str, str] | None = None
    ) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**quiet_env(), **self.env, **(extra_env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log else None,
        )
        self.processes.append(process)
        return process

    def _fail_if_exited(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The end of the servers' log file ("" when they log nowhere or to a pipe)."""
        name = getattr(self.log, "name", None)
        if self.log is None or not isinstance(name, str):
            return ""
        self.log.flush()
        return Path(name).read_text(errors="replace")[-chars:]

    def start_or_show_log(self, timeout: float = 180, desk_only: bool = False) -> None:
        """start() (or start_desk()); when the servers do not come up, stop them and print the
        end of their log to stderr, so the failure says why, then raise."""
        try:
            if desk_only:
                self.start_desk(timeout)
            else:
                self.start(timeout)
        except Exception:
            self.stop()
            print(f"The servers did not start. Their log ends:\n{self.log_tail()}", file=sys.stderr)
            raise

    @contextlib.contextmanager
    def running(self, timeout: float = 180, desk_only: bool = False) -> Iterator[Stack]:
        """The servers (or the desk alone) while the block runs, stopped after it, whatever
        happens; start_or_show_log() explains a failed start."""
        self.start_or_show_log(timeout, desk_only)
        try:
            yield self
        finally:
            self.stop()

    def __enter__(self) -> Stack:
        self.start_or_show_log()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
