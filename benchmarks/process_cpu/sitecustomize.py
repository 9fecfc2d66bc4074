"""Benchmark-only (overhead.py puts this folder first on PYTHONPATH): every Python process of
a measured run writes, as it exits, its own CPU seconds and the module or script it ran, so
that test-gate's own processes are measured in themselves, apart from the pytest process
they start. Without BENCH_CPU_DIR it does nothing."""

import atexit
import os
import resource
import sys


def _write() -> None:
    folder = os.environ.get("BENCH_CPU_DIR")
    if not folder:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ran = sys.argv[0] if sys.argv else ""
    with open(os.path.join(folder, str(os.getpid())), "w", encoding="utf-8") as out:
        out.write(f"{usage.ru_utime + usage.ru_stime:.6f} {ran}\n")


atexit.register(_write)
