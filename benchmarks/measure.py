"""How the benchmarks measure a command: CPU time of its process tree, and its peak memory."""

from __future__ import annotations

import math
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Container, Mapping, Sequence
from pathlib import Path


def wall_and_cpu(
    argv: list[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok: Container[int] | None = (0,),
) -> tuple[float, float]:
    """Wall seconds, and user + system CPU seconds of the process and every process it
    waited for. An exit code outside `ok` stops the benchmark (None: any exit code will do)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=None if env is None else dict(env), capture_output=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if ok is not None and done.returncode not in ok:
        raise SystemExit(f"{argv[:5]} exited {done.returncode}:\n{done.stdout[-2000:]!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu(
    argv: list[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok: Container[int] | None = (0,),
) -> float:
    """User + system CPU seconds of the process and every process it waited for."""
    return wall_and_cpu(argv, cwd, env, ok)[1]


def peak_mib(argv: list[str]) -> float:
    """Peak resident MiB of one process, measured alone (in a fresh child, whose children's
    high-water mark is that process's own)."""
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024


def median_and_range(seconds: Sequence[float]) -> str:
    """Two cells of a Markdown row: the median, and how far the rounds ranged."""
    return f"{statistics.median(seconds):.2f} s | {min(seconds):.2f}-{max(seconds):.2f} s"


def median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """A distribution-free interval for the median (order statistics): the k-th smallest
    and the k-th largest value, k the largest rank whose binomial tail stays within
    (1 - level) / 2. None with too few values for one."""
    ordered = sorted(values)
    n = len(ordered)
    tail, k = 0.0, 0
    while k < n and tail + math.comb(n, k) / 2**n <= (1 - level) / 2:
        tail += math.comb(n, k) / 2**n
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k else None
