"""Ports for the servers a test starts (scripts/stack.py's `free_port`)."""

from __future__ import annotations

from typing import Any, Iterator

from scripts import stack


class Probe:
    """A socket stand-in whose OS hands out the ports of `ports` in turn."""

    def __init__(self, ports: Iterator[int]) -> None:
        self._port = next(ports)

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def bind(self, address: Any) -> None:
        return None

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self._port)


def test_a_port_handed_out_once_is_not_handed_out_again(monkeypatch) -> None:
    ports = iter([41001, 41001, 41001, 41002])
    monkeypatch.setattr(stack.socket, "socket", lambda: Probe(ports))
    monkeypatch.setattr(stack, "_HANDED_OUT", set())
    assert [stack.free_port(), stack.free_port()] == [41001, 41002]
