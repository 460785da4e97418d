"""The production set-up on one machine: several Rasa servers and action servers sharing one
PostgreSQL database and one Redis lock store, as deploy/k8s runs them.

Used by the two-replica and fault tests (tests/production/) and by bench/production.py. Each
replica is a `Stack` (its own Rasa server and its own action server, the way a Kubernetes pod of
Rasa reaches the action-server Service); all replicas share the database and the lock store. A
run gets its own PostgreSQL database and its own Redis key prefix, created and removed here, so
it never sees another run's conversations or locks.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import requests
import sqlalchemy as sa

from channels.conversation_ids import conversation_id
from scripts.production import CREDENTIALS, ENDPOINTS, ProductionServices, ensure_database
from scripts.stack import ROOT, Stack, free_port, quiet_env

# The health endpoints deploy/k8s probes (observability/, rasa_server/ops.py).
RASA_READY = "/webhooks/ops/health/ready"
RASA_LIVE = "/webhooks/ops/health/live"
SERVICE_READY = "/health/ready"
SERVICE_LIVE = "/health/live"


def unique_name(stem: str) -> str:
    return f"{stem}{secrets.token_hex(5)}"


@contextlib.contextmanager
def scratch_services(
    db_port: int = 5432, redis_port: int = 6379, stem: str = "careersrun"
) -> Iterator[ProductionServices]:
    """A new PostgreSQL database and Redis key prefix for one run; both removed afterwards."""
    services = ProductionServices(
        db_name=unique_name(stem),
        db_port=db_port,
        redis_port=redis_port,
        redis_key_prefix=unique_name(stem),
    )
    ensure_database(services)
    try:
        yield services
    finally:
        drop_database(services)
        delete_redis_keys(services)


def drop_database(services: ProductionServices) -> None:
    engine = sa.create_engine(
        services.database_url("postgres"),
        isolation_level="AUTOCOMMIT",
        future=True,
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:
            quoted = services.db_name.replace('"', '""')
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{quoted}" WITH (FORCE)'))
    except sa.exc.OperationalError:
        pass  # the server a fault test started is gone with its data
    finally:
        engine.dispose()


def delete_redis_keys(services: ProductionServices) -> None:
    import redis

    try:
        client = redis.Redis(
            host=services.redis_host,
            port=services.redis_port,
            db=services.redis_db,
            password=services.redis_password or None,
            socket_timeout=5,
        )
        keys = list(client.scan_iter(match=f"{services.redis_key_prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a Redis a fault test stopped has nothing left to clean


@dataclass
class Cluster:
    """`replicas` Rasa servers, each with its own action server, over one set of services, and
    one recruiter desk they all share (it holds no state; the action servers queue handoffs
    and erase records through it)."""

    services: ProductionServices
    model: Path
    log_dir: Path
    replicas: int = 2
    endpoints: Path = ENDPOINTS
    credentials: Path = CREDENTIALS
    # Extra environment for every process (e.g. a shorter action timeout in a fault test).
    env: Dict[str, str] = field(default_factory=dict)
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    action_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # credentials.prod.yml's REST channel is off without a token; clients send this one.
    rest_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    desk_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    desk_port: int = field(default_factory=free_port)
    stacks: List[Stack] = field(default_factory=list)
    logs: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def urls(self) -> List[str]:
        return [stack.url for stack in self.stacks]

    def start(self, timeout: float = 600) -> None:
        """Start every replica. One after another: the first creates the tables, and model
        loading is CPU-bound, so starting them together is no faster on 2 cores."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.migrate_desk()
            for index in range(self.replicas):
                log = self.logs.enter_context((self.log_dir / f"replica{index}.log").open("ab"))
                stack = Stack(
                    rasa_port=free_port(),
                    action_port=free_port(),
                    desk_port=self.desk_port,
                    desk_token=self.desk_token,
                    own_desk=index == 0,
                    token=secrets.token_urlsafe(16),
                    endpoints=self.endpoints,
                    credentials=self.credentials,
                    model=self.model,
                    log=log,
                    env={
                        **self.services.env(),
                        "REST_CHANNEL_TOKEN": self.rest_token,
                        **self.env,
                    },
                    jwt_secret=self.jwt_secret,
                    action_secret=self.action_secret,
                )
                self.stacks.append(stack)
                stack.start_or_show_log(timeout=timeout)  # prints the replica's log if not
        except Exception:
            self.stop()
            raise

    @contextlib.contextmanager
    def running(self, timeout: float = 600) -> Iterator[Cluster]:
        """Every replica while the block runs, stopped after it, whatever happens."""
        self.start(timeout)
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        for stack in self.stacks:
            stack.stop()
        self.logs.close()

    def migrate_desk(self) -> None:
        """The desk's tables (handoffs), as the desk Deployment's init container makes them."""
        subprocess.run(
            [sys.executable, "-m", "desk", "migrate"],
            cwd=ROOT,
            env={**quiet_env(), **self.services.env()},
            check=True,
            capture_output=True,
            timeout=300,
        )

    # --- faults -----------------------------------------------------------------------------

    def action_server(self, replica: int) -> subprocess.Popen:
        """The action server process of a replica (Stack starts it first)."""
        return self.stacks[replica].processes[0]

    def kill_action_server(self, replica: int) -> None:
        """SIGKILL, the way an OOM kill or a node loss ends it: no clean shutdown."""
        process = self.action_server(replica)
        process.kill()
        process.wait(timeout=30)

    def restart_action_server(self, replica: int, timeout: float = 120) -> None:
        stack = self.stacks[replica]
        stack.processes.pop(0)
        before = list(stack.processes)
        stack.processes.clear()
        stack.start_action_server()
        stack.processes.extend(before)
        wait_for_http(
            f"http://localhost:{stack.action_port}{SERVICE_LIVE}", timeout, stack.processes
        )

    def ready(self, replica: int) -> requests.Response:
        return requests.get(f"{self.stacks[replica].url}{RASA_READY}", timeout=10)

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def wait_for_http(
    url: str, timeout: float, processes: List[subprocess.Popen] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process in processes or []:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout:.0f}s")
        time.sleep(0.5)


# --- reading the tracker store back ----------------------------------------------------------


def tracker_events(services: ProductionServices, sender: str) -> List[Dict[str, Any]]:
    """Every stored event of one REST sender's conversation, oldest first, from PostgreSQL."""
    engine = sa.create_engine(services.database_url(), future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                {"sender": conversation_id("rest", sender)},
            )
            return [json.loads(row[0]) for row in rows]
    finally:
        engine.dispose()


# --- private PostgreSQL and Redis for fault tests ------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(command: List[str]) -> List[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    import os

    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, so a fault test can stop and start it
    without touching the machine's shared server (other people's tests use that)."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()

    def init(self) -> None:
        import os

        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for parent in self.root.parents:  # postgres must be able to reach its directory
            if str(parent).startswith(tempfile.gettempdir() + "/"):
                parent.chmod(parent.stat().st_mode | 0o011)
        self.data.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )


@dataclass
class PrivateRedis:
    """A redis-server of this run's own on a free port, without persistence."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self, timeout: float = 20) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + timeout
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None
