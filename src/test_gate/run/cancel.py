"""A cancelled job: SIGTERM or SIGINT to the gate (a cancelled workflow, Ctrl-C), SIGHUP (its
terminal went away) or SIGQUIT raises `Cancelled` once in the main thread, and is remembered,
so that code running inside C (an SQLite statement, whose callbacks swallow exceptions) can
ask whether to stop. The signals whose default would end the gate without a word and that
mean nothing to it (SIGUSR1, SIGUSR2, SIGALRM: a test that signals its parent) are noted and
the run goes on: every run ends with a verdict. They are caught, not ignored, so that pytest,
which the gate starts, gets them as it would without the gate."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_requested: list[str] = []  # the signal's name, once one came
_ignored: list[str] = []  # the names of the signals that came and were let go, in order
CANCEL = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
LET_GO = ("SIGUSR1", "SIGUSR2", "SIGALRM")


class Cancelled(BaseException):
    """The gate got SIGTERM or SIGINT. A BaseException, so that no `except Exception` on the
    way swallows it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def requested() -> str | None:
    """The name of the signal that cancelled the job, or None."""
    return _requested[0] if _requested else None


def let_go() -> tuple[str, ...]:
    """The signals that came and were let go (each once), in the order they first came."""
    return tuple(dict.fromkeys(_ignored))


def _number(name: str) -> signal.Signals | None:
    return getattr(signal, name, None)  # Windows has no SIGHUP, SIGQUIT, SIGUSR1, ...


@contextmanager
def cancellation() -> Iterator[None]:
    """While inside, a cancelling signal raises Cancelled, once; a second one is ignored so
    that the gate can still write what it knows. The signals let go are noted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if _requested:
            return
        name = signal.Signals(signum).name
        _requested.append(name)
        raise Cancelled(name)

    def note(signum: int, frame: FrameType | None) -> None:
        _ignored.append(signal.Signals(signum).name)

    wanted = [(n, handler) for n in CANCEL] + [(n, note) for n in LET_GO]
    previous = {
        number: signal.signal(number, function)
        for name, function in wanted
        if (number := _number(name)) is not None
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _requested.clear()
        _ignored.clear()
