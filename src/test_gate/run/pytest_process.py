"""The main pytest run: a fresh run id, no stale report, output streaming through the gate,
its own record file, a time limit, and GitHub's files kept out of the tests' reach."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_test_gate.protocol import DIGEST_SUFFIX

from test_gate.read.files import CONFIG_LIMIT, read_text
from test_gate.run import process
from test_gate.run.pytest_command import Asked, explicit_plugins, pytest_argv

STACK_WAIT = 2.0  # seconds a hanging pytest gets to write its stacks before it is stopped
# GitHub's files: the tests get private copies (see `private_github_files`)
GITHUB_FILES = ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT")


@dataclass(frozen=True)
class PytestRun:
    exit_code: int | None  # None: the gate stopped it
    report_file: Path
    record_file: Path
    run_id: str
    asked: Asked
    started: float
    duration: float
    stopped: str = ""  # "", "timeout", or the signal that cancelled the job
    tail: str = ""  # the end of pytest's output
    stacks: str = ""  # every thread's stack when it was stopped (POSIX)
    tests_summary: str = ""  # what the tests wrote to their job summary
    tests_outputs: str = ""  # what the tests wrote to their step outputs


def private_github_files(env: dict[str, str], work_dir: Path) -> dict[str, Path]:
    """The tests write their job summary and step outputs to files of their own: whatever
    they write can neither hide the gate's verdict nor come after the gate's outputs."""
    private = {}
    for name in GITHUB_FILES:
        if env.get(name):
            path = work_dir / f"tests-{name.lower()}"
            path.write_text("", encoding="utf-8")
            env[name] = str(path)
            private[name] = path
    return private


def _ask_for_stacks(stacks: Path) -> Callable[[subprocess.Popen[bytes]], None]:
    def ask(proc: subprocess.Popen[bytes]) -> None:
        usr1 = getattr(signal, "SIGUSR1", None)
        if usr1 is None:
            return
        try:
            os.kill(proc.pid, usr1)  # pytest's main process only: the plugin dumps stacks
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STACK_WAIT
        while time.monotonic() < deadline and not (stacks.exists() and stacks.stat().st_size):
            time.sleep(0.05)
        time.sleep(0.2)  # let the dump finish

    return ask


def run_pytest(
    *,
    path: Path,
    python: str,
    user_args: Sequence[str],
    asked: Asked,
    report_file: Path,
    work_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    forward: bool = True,
    keep_report: bool = True,
) -> PytestRun:
    """Run pytest once, its output streaming live. A stale report is deleted first; pytest
    is stopped after `timeout` seconds, or when the job is cancelled, and the run says so.
    `keep_report` False: the report is not kept, and pytest saves only its digest."""
    report_file.parent.mkdir(parents=True, exist_ok=True)
    if report_file.is_file():  # a stale report; settings refuse anything but a regular file
        report_file.unlink()
    digest = Path(str(report_file) + DIGEST_SUFFIX)
    if digest.is_file() and not digest.is_symlink():  # and its stale digest
        digest.unlink()
    work_dir.mkdir(parents=True, exist_ok=True)
    run_id = os.urandom(16).hex()  # as secrets.token_hex, without hashlib's import
    record_file = work_dir / f"record-{run_id[:8]}.jsonl"
    stacks = work_dir / f"stacks-{run_id[:8]}.txt"
    child_env = dict(os.environ if env is None else env)
    private = private_github_files(child_env, work_dir)
    argv = pytest_argv(
        python,
        user_args,
        asked,
        report_file.resolve(),
        run_id,
        explicit_plugins(child_env),
        record_file=record_file.resolve(),
        stacks_file=stacks.resolve(),
        digest_only=not keep_report,
    )
    started = time.time()
    done = process.run(
        argv,
        cwd=path,
        env=child_env,
        timeout=timeout,
        forward=forward,
        before_stop=_ask_for_stacks(stacks),
    )
    summary, outputs = (
        read_text(private[name], CONFIG_LIMIT) or "" if name in private else ""
        for name in GITHUB_FILES
    )
    return PytestRun(
        exit_code=done.exit_code,
        report_file=report_file,
        record_file=record_file,
        run_id=run_id,
        asked=asked,
        started=started,
        duration=done.seconds,
        stopped=done.stopped,
        tail=done.tail,
        stacks=(read_text(stacks, CONFIG_LIMIT) or "") if done.stopped else "",
        tests_summary=summary,
        tests_outputs=outputs,
    )


def draw_seed() -> int:
    """From the system's randomness, as `secrets` draws (without its import of hashlib)."""
    return random.SystemRandom().randrange(10**6)


def shared_seed(environ: Mapping[str, str]) -> int | None:
    """The seed every job of one GitHub Actions workflow run draws alike (from the run's id,
    which a re-run of failed jobs keeps), so that the shards of a suite agree without a
    `seed` input. None outside Actions."""
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    if not run_id:
        return None
    import hashlib  # the shards' seed only

    return int(hashlib.sha256(run_id.encode()).hexdigest(), 16) % 10**6
