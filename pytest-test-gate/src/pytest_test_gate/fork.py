"""A test that forks pytest. The child is a copy of pytest: the record's stream with its
unwritten buffer, and the session. Most children do their work and end (`os._exit`, a
multiprocessing worker); one that returns from the test goes on with the session, and would
write its tests into the parent's record and its report over the parent's.

In every child, the record's descriptor is pointed at the null device as the fork returns:
the buffer it copied is never written twice, and nothing the child writes reaches the
record, except one line, appended by the child's first write, that says the session went
on in a copy. The parent pays nothing for this (`os.register_at_fork`)."""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol

from pytest_test_gate.protocol import SECTION_FORKED

_DUMPS = json.dumps  # bound as the plugin loads: a test may replace json.dumps


class Stream(Protocol):
    """What the recorder writes its record through: a text file, or a child's ForkedStream."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class ForkedStream:
    """The record's stream in a child: its first write appends the one line that says the
    session went on in it; every write after is dropped."""

    def __init__(self, path: str, parent: int, nodeid: str) -> None:
        self.path, self.parent, self.nodeid = path, parent, nodeid
        self.said = False

    def write(self, text: str) -> int:
        if not self.said:
            self.said = True
            line: dict[str, Any] = {"event": SECTION_FORKED, "pid": os.getpid()}
            line.update(parent=self.parent, nodeid=self.nodeid)
            with suppress(OSError):
                handle = os.open(self.path, os.O_WRONLY | os.O_APPEND)
                try:
                    os.write(handle, (_DUMPS(line) + "\n").encode())
                finally:
                    os.close(handle)
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def to_null(fd: int) -> None:
    """Descriptor `fd`, pointed at the null device (opened there when it was closed)."""
    null = os.open(os.devnull, os.O_WRONLY)
    if null == fd:
        return
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def silence(stream: Any) -> None:
    """A stream's descriptor, pointed at the null device: what it still buffers, and all
    written after, goes nowhere instead of where it went (the record, in a child's copy of
    its file object; test-gate's terminal, once that is gone)."""
    with suppress(OSError, ValueError):
        to_null(stream.fileno())


def watch_forks(owner: Any, in_child: Callable[[Any], None]) -> None:
    """`in_child(owner)` in each child forked while `owner` lives (POSIX); nothing in the
    parent. The callback holds `owner` weakly: a run inside another (pytester) ends, and
    its recorder with it."""
    register = getattr(os, "register_at_fork", None)
    if register is None:
        return
    ref = weakref.ref(owner)

    def after_in_child() -> None:
        found = ref()
        if found is not None:
            with suppress(Exception):  # a fork must never fail on the gate's account
                in_child(found)

    register(after_in_child=after_in_child)
