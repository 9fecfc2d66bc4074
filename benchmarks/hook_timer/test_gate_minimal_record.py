"""Benchmark-only (hooks.py loads it with `-p test_gate_minimal_record`): the floor of a
record that names the test a crashed or hung run was in. A test's start is written and
flushed, its setup's report written and flushed, its end written: three lines and two flushed
writes a test, as pytest-test-gate's record has, and nothing else (no reruns, xfails,
subtests, pytest-xdist or what never ran). Its hooks are timed as hook_timer times
pytest-test-gate's, and written to HOOK_TIMES_FILE as the process exits."""

from __future__ import annotations

import atexit
import json
import os
import time
from typing import Any

clock = time.perf_counter_ns
STRING = json.encoder.encode_basestring_ascii  # json.dumps of a str, in C
TOTALS: dict[str, list[int]] = {}


def _add(key: str, started: int) -> None:
    total = TOTALS.setdefault(key, [0, 0])
    total[0] += clock() - started
    total[1] += 1


class MinimalRecord:
    def __init__(self, path: str) -> None:
        self.out = open(path, "w", encoding="utf-8")  # noqa: SIM115  (open while pytest runs)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        started = clock()
        self.out.write(f'{{"event": "test_start", "nodeid": {STRING(nodeid)}}}\n')
        self.out.flush()
        _add("minimal.pytest_runtest_logstart", started)

    def pytest_runtest_logreport(self, report: Any) -> None:
        started = clock()
        if report.when == "setup":
            self.out.write(
                f'{{"event": "report", "nodeid": {STRING(report.nodeid)}, "when": "setup", '
                f'"outcome": "{report.outcome}", "duration": {report.duration!r}}}\n'
            )
            self.out.flush()
        _add("minimal.pytest_runtest_logreport", started)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        started = clock()
        self.out.write(f'{{"event": "test_end", "nodeid": {STRING(nodeid)}}}\n')
        _add("minimal.pytest_runtest_logfinish", started)


def pytest_configure(config: Any) -> None:
    path = os.environ.get("MINIMAL_RECORD_FILE", os.devnull)
    config.pluginmanager.register(MinimalRecord(path), "test_gate_minimal_record_part")


@atexit.register
def _write() -> None:
    path = os.environ.get("HOOK_TIMES_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(TOTALS, out)
