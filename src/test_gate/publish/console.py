"""The terminal may go away while a run goes on: `test-gate run | head`, a pager quit early,
a closed terminal. What test-gate prints after that is dropped; the run still ends with its
verdict, in its files and its exit code. No failed write to stdout or stderr stops it."""

from __future__ import annotations

import io
import os
import sys
from contextlib import suppress
from typing import BinaryIO, TextIO


def _point_at_null(stream: TextIO | BinaryIO) -> None:
    """The stream's descriptor, pointed at the null device: what is still buffered, and
    everything after, goes nowhere instead of failing again (at every print, and at exit)."""
    with suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)


class _Bytes(io.RawIOBase):
    """A binary stream that drops its writes once the other end is gone."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            return self.stream.write(data)
        except OSError:
            _point_at_null(self.stream)
            return len(data)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            _point_at_null(self.stream)

    def fileno(self) -> int:
        return self.stream.fileno()


class Surviving(io.TextIOBase):
    """A text stream that drops its writes once the other end is gone (a closed pipe, a
    terminal hung up): the first failure points its descriptor at the null device."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.binary = _Bytes(stream.buffer)

    @property
    def buffer(self) -> BinaryIO:  # pytest's output is forwarded as bytes
        return self.binary  # type: ignore[return-value]

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors

    def reconfigure(self, **kwargs: str) -> None:
        self.stream.reconfigure(**kwargs)  # type: ignore[attr-defined]

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError:
            _point_at_null(self.stream)
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            _point_at_null(self.stream)


def _null_stream(fd: int) -> TextIO:
    """A descriptor that was closed when test-gate started (`>&-`): the null device in its
    place, so that no file test-gate opens takes its number."""
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)
    return open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


def survive() -> None:
    """stdout and stderr, from now on, never raise on a closed other end."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:  # Python found the descriptor closed as it started
            stream = _null_stream(fd)
        if hasattr(stream, "buffer") and not isinstance(stream, Surviving):
            setattr(sys, name, Surviving(stream))
