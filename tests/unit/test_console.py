"""A stream whose reader has gone: writes are dropped, never raised."""

from __future__ import annotations

import os

from test_gate.publish.console import Surviving


def test_a_closed_pipe_drops_what_follows_instead_of_raising() -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone, as after `| head -1`
    with open(write, "w", encoding="utf-8") as raw:
        stream = Surviving(raw)
        assert stream.write("the verdict\n") == len("the verdict\n")
        stream.flush()  # the broken pipe shows here: the descriptor is then the null device
        stream.write("more\n")
        stream.flush()
        assert stream.buffer.write(b"pytest's own bytes") == len(b"pytest's own bytes")
        stream.buffer.flush()
        assert os.path.samestat(os.fstat(write), os.stat(os.devnull))
