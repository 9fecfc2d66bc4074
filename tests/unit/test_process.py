"""A pytest-like process the gate can always end: output forwarded while it runs, and only
then; a time limit; its whole group stopped."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from test_gate.run.process import DRAIN, run

POSIX = os.name == "posix"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_is_forwarded_and_its_end_kept(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    done = run(python("print('hello'); import sys; sys.exit(3)"), cwd=tmp_path, env=os.environ)
    assert (done.exit_code, done.stopped) == (3, "")
    assert "hello" in done.tail
    assert "hello" in capfd.readouterr().out


def test_a_time_limit_stops_it(tmp_path: Path) -> None:
    done = run(python("import time; time.sleep(60)"), cwd=tmp_path, env=os.environ, timeout=1)
    assert (done.exit_code, done.stopped) == (None, "timeout")


@pytest.mark.skipif(not POSIX, reason="process groups and setsid: POSIX")
def test_nothing_is_forwarded_after_the_process_ended(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # it writes a second after the gate stopped draining the pipe (what was in it when pytest
    # ended is taken in for DRAIN seconds): a loaded machine cannot make it early
    wait = DRAIN + 1
    late = "print('::warning::late', flush=True)"
    later = f"import os, time; os.setsid(); time.sleep({wait}); {late}"
    code = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {later!r}])"
    done = run(python(code), cwd=tmp_path, env=os.environ, forward=True)
    time.sleep(wait + 0.5)
    assert done.exit_code == 0
    assert "late" not in capfd.readouterr().out + done.tail


@pytest.mark.skipif(not POSIX, reason="process groups: POSIX")
def test_what_it_left_running_in_its_group_is_ended(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    child = "import time; time.sleep(60)"
    code = (
        "import subprocess, sys, pathlib\n"
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))\n"
    )
    run(python(code), cwd=tmp_path, env=os.environ, forward=False)
    pid = int(pid_file.read_text())
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        for _ in range(20):  # a zombie is reaped by init in a moment
            os.kill(pid, 0)
            time.sleep(0.1)
