"""Benchmark-only (hooks.py loads it with `-p test_gate_minimal_record`, beside
test_gate_hook_timer, which times its hooks as it times pytest-test-gate's): the floor of a
record that names the test a crashed or hung run was in. A test's start is written and
flushed, its setup's report written and flushed, its end written: three lines and two flushed
writes a test, as pytest-test-gate's record has, and nothing else (no reruns, xfails,
subtests, pytest-xdist or what never ran)."""

from __future__ import annotations

import json
import os
from typing import Any

STRING = json.encoder.encode_basestring_ascii  # json.dumps of a str, in C


class MinimalRecord:
    def __init__(self, path: str) -> None:
        self.out = open(path, "w", encoding="utf-8")  # noqa: SIM115  (open while pytest runs)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.out.write(f'{{"event": "test_start", "nodeid": {STRING(nodeid)}}}\n')
        self.out.flush()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "setup":
            self.out.write(
                f'{{"event": "report", "nodeid": {STRING(report.nodeid)}, "when": "setup", '
                f'"outcome": "{report.outcome}", "duration": {report.duration!r}}}\n'
            )
            self.out.flush()

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.out.write(f'{{"event": "test_end", "nodeid": {STRING(nodeid)}}}\n')


def pytest_configure(config: Any) -> None:
    path = os.environ.get("MINIMAL_RECORD_FILE", os.devnull)
    config.pluginmanager.register(MinimalRecord(path), "test_gate_minimal_record_part")
