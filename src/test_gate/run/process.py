"""A pytest process the gate can always end: its own process group, output streamed through
the gate, a time limit, and a clean stop on a cancelled job.

- Output goes through a pipe and the gate forwards it while pytest runs. When pytest ends,
  forwarding ends: a process a test left behind can still write to the pipe, but nothing it
  writes reaches the job's log, so it cannot issue workflow commands after the gate's
  stop-commands window has closed.
- pytest runs in a process group of its own (POSIX), so a stop reaches the processes its
  tests started too; when pytest ends, what its tests left running in that group is ended.
- SIGTERM or SIGINT to the gate (a cancelled job, Ctrl-C) raises `Cancelled` (run/cancel.py)
  once in the main thread; the pytest process is stopped and the caller writes what is known.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from test_gate.run.cancel import Cancelled, requested

TAIL_BYTES = 64 * 1024  # the end of the output, kept to name a crash
GRACE = 5.0  # seconds between asking the group to stop (SIGTERM) and killing it
DRAIN = 1.0  # seconds to take in output still in the pipe after pytest ended
GATHER_BELOW, GATHER_SECONDS = 4096, 0.01  # a short read: let the pipe gather more first
POSIX = os.name == "posix"
KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@dataclass(frozen=True)
class Finished:
    exit_code: int | None  # None: the gate stopped it
    seconds: float
    stopped: str = ""  # "", "timeout", or the signal the gate got ("SIGTERM", "SIGINT")
    tail: str = ""  # the end of its output


class _Forwarder:
    """Reads the pipe in a thread: forwards (when asked) and keeps the tail, until closed."""

    def __init__(self, pipe: int, forward: bool) -> None:
        self.pipe = pipe
        self.forward = forward
        self.tail = bytearray()
        self.lock = threading.Lock()
        self.closed = False
        self.eof = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.pipe, 65536)
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                if self.closed:
                    continue  # after pytest ended: a leftover process, never forwarded
                self.tail += chunk
                del self.tail[:-TAIL_BYTES]
                if self.forward:
                    sys.stdout.buffer.write(chunk)
                    sys.stdout.buffer.flush()
            if len(chunk) < GATHER_BELOW:
                # pytest writes a progress character a test: read as it came, 10,000 tests
                # cost 10,000 reads, writes and flushes (0.2 s of CPU); a pause lets the
                # pipe gather what comes next, for a delay in the log no reader sees
                time.sleep(GATHER_SECONDS)
        self.eof.set()

    def close(self) -> str:
        self.eof.wait(DRAIN)
        with self.lock:
            self.closed = True
            return bytes(self.tail).decode("utf-8", errors="replace")


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if POSIX:
            os.killpg(process.pid, sig)
        elif sig == signal.SIGTERM:
            process.terminate()
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def stop(process: subprocess.Popen[bytes], before: Callable[[], None] | None = None) -> None:
    """Stop the process and its group: `before` first (ask for stacks), then SIGTERM, then
    SIGKILL after a grace period."""
    if before is not None and process.poll() is None:
        before()
    _signal_group(process, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(GRACE)
    _signal_group(process, KILL)
    process.wait()


POLL = 0.2  # seconds: how often a run in another thread looks for a cancelled job


def _wait_or_cancel(process: subprocess.Popen[bytes], timeout: float | None) -> str:
    """Off the main thread no signal handler runs: wait in slices, and stop when the main
    thread was told the job is cancelled. "" when the process ended by itself."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        name = requested()
        if name is not None:
            return name
        left = POLL if end is None else min(POLL, end - time.monotonic())
        if left <= 0:
            raise subprocess.TimeoutExpired(process.args, timeout or 0.0)
        try:
            process.wait(left)
            return ""
        except subprocess.TimeoutExpired:
            continue


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None = None,
    forward: bool = True,
    before_stop: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Finished:
    """Run to the end, or until `timeout` seconds or a cancelled job: then stop it (its whole
    group) and say so. `forward`: stream the output to ours while it runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=write_end,
            start_new_session=POSIX,
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    forwarder = _Forwarder(read_end, forward)
    stopped = ""
    try:
        try:
            if threading.current_thread() is threading.main_thread():
                process.wait(timeout)
            else:
                stopped = _wait_or_cancel(process, timeout)
        except subprocess.TimeoutExpired:
            stopped = "timeout"
    except Cancelled as cancelled:
        stopped = cancelled.name
    finally:
        if process.poll() is None:
            hook = before_stop
            stop(process, (lambda: hook(process)) if hook is not None else None)
        elif POSIX:
            _signal_group(process, KILL)  # what the tests left running ends with pytest
        tail = forwarder.close()
        os.close(read_end)
    return Finished(
        exit_code=None if stopped else process.returncode,
        seconds=time.monotonic() - started,
        stopped=stopped,
        tail=tail,
    )
