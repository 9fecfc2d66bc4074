"""A cancelled job: SIGTERM or SIGINT to the gate (a cancelled workflow, Ctrl-C) raises
`Cancelled` once in the main thread, and is remembered, so that code running inside C (an
SQLite statement, whose callbacks swallow exceptions) can ask whether to stop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_requested: list[str] = []  # the signal's name, once one came


class Cancelled(BaseException):
    """The gate got SIGTERM or SIGINT. A BaseException, so that no `except Exception` on the
    way swallows it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def requested() -> str | None:
    """The name of the signal that cancelled the job, or None."""
    return _requested[0] if _requested else None


@contextmanager
def cancellation() -> Iterator[None]:
    """While inside, SIGTERM and SIGINT raise Cancelled, once; a second one is ignored so that
    the gate can still write what it knows."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if _requested:
            return
        name = signal.Signals(signum).name
        _requested.append(name)
        raise Cancelled(name)

    wanted = [signal.SIGINT, signal.SIGTERM]
    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _requested.clear()
