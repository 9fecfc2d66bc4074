"""The main pytest run: a fresh run id, no stale report, output streaming live."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from test_gate.run.pytest_command import explicit_plugins, pytest_argv, reproduce_command


@dataclass(frozen=True)
class PytestRun:
    exit_code: int
    report_file: Path
    run_id: str
    seed: int
    started: float
    duration: float
    command: str  # the one that reproduces this run


def run_pytest(
    *,
    path: Path,
    python: str,
    user_args: Sequence[str],
    seed: int,
    reruns: int,
    report_file: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> PytestRun:
    """Run pytest once, its output streaming live. A stale report is deleted first.
    `timeout`: stop pytest after this many seconds (subprocess.TimeoutExpired is raised)."""
    report_file.parent.mkdir(parents=True, exist_ok=True)
    if report_file.is_file():  # a stale report; settings refuse anything but a regular file
        report_file.unlink()
    run_id = secrets.token_hex(16)
    child_env = dict(os.environ if env is None else env)
    argv = pytest_argv(
        python,
        user_args,
        seed,
        reruns,
        report_file.resolve(),
        run_id,
        explicit_plugins(child_env),
    )
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.time()
    exit_code = subprocess.call(argv, cwd=path, env=child_env, timeout=timeout)
    return PytestRun(
        exit_code=exit_code,
        report_file=report_file,
        run_id=run_id,
        seed=seed,
        started=started,
        duration=time.time() - started,
        command=reproduce_command(path, user_args, seed, reruns),
    )


def draw_seed() -> int:
    return secrets.randbelow(10**6)
