"""The terminal may go away while a run goes on: `test-gate run | head`, a pager quit early,
a closed terminal. What test-gate prints after that is dropped; the run still ends with its
verdict, in its files and its exit code. No failed write to stdout or stderr stops it."""

from __future__ import annotations

import io
import sys
from typing import BinaryIO, TextIO

from pytest_test_gate.fork import silence, to_null


def _write(stream: TextIO | BinaryIO, data: str | bytes) -> int:
    """The write, or, when the other end is gone, nothing from now on: the first failure
    points the descriptor at the null device, so that what is still buffered, and every
    print after, goes nowhere instead of failing again (and at exit)."""
    try:
        return stream.write(data)  # type: ignore[arg-type]
    except OSError:
        silence(stream)
        return len(data)


def _flush(stream: TextIO | BinaryIO) -> None:
    try:
        stream.flush()
    except OSError:
        silence(stream)


class _Bytes(io.RawIOBase):
    """A binary stream that drops its writes once the other end is gone."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return _write(self.stream, data)

    def flush(self) -> None:
        _flush(self.stream)

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
        return _write(self.stream, text)

    def flush(self) -> None:
        _flush(self.stream)


def _null_stream(fd: int) -> TextIO:
    """A descriptor that was closed when test-gate started (`>&-`): the null device in its
    place, so that no file test-gate opens takes its number."""
    to_null(fd)
    return open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


def survive() -> None:
    """stdout and stderr, from now on, never raise on a closed other end."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:  # Python found the descriptor closed as it started
            stream = _null_stream(fd)
        if hasattr(stream, "buffer") and not isinstance(stream, Surviving):
            setattr(sys, name, Surviving(stream))
