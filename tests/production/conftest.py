"""Fixtures for the production set-up tests: PostgreSQL and Redis must be reachable."""

from __future__ import annotations

import socket

import pytest


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_services() -> None:
    """The machine's PostgreSQL (5432) and Redis (6379), which these tests run against."""
    missing = [
        name
        for name, port in (("PostgreSQL", 5432), ("Redis", 6379))
        if not reachable("127.0.0.1", port)
    ]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not running on 127.0.0.1 (see docs/operations.md)")
