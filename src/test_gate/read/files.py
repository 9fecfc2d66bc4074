"""Reading a file the gate did not write: only a regular file, and only up to a size bound.

A FIFO would block forever, /dev/zero never ends, and a huge file eats the runner's memory:
each is refused with a sentence that says why.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPORT_LIMIT = 2 * 1024**3  # a JSON report: 2 GiB (a suite of a million tests stays under)
CONFIG_LIMIT = 16 * 1024**2  # a config file, conftest.py, workflow or test module: 16 MiB


class Unreadable(Exception):
    """The file cannot be read as data; the message says why, in words for a person."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: Path, limit: int) -> int:
    """The size of a regular file within `limit`; else Unreadable."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("it does not exist") from None
    except OSError as exc:
        raise Unreadable(f"it cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"it is {_kind(info.st_mode)}, not a regular file")
    if info.st_size > limit:
        raise Unreadable(f"it is {info.st_size:,} bytes, over the {limit:,} bytes the gate reads")
    return info.st_size


def read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes, never more than `limit` (it may grow while read)."""
    check_regular(path, limit)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise Unreadable(f"it cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise Unreadable(f"it grew over the {limit:,} bytes the gate reads while it was read")
    return data


def read_text(path: Path, limit: int = CONFIG_LIMIT) -> str | None:
    """A project file as text, or None when it is not a regular file within the bound."""
    try:
        return read_bytes(path, limit).decode("utf-8", errors="replace")
    except Unreadable:
        return None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Reading a report, or rendering the result of a large run, builds millions of objects
    and no reference cycles: the cyclic collector would walk them all again and again (11
    full passes to read 100,000 tests). What was made lives until the end: it is frozen out
    of later collections too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
