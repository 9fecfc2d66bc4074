"""pytest-json-report's report, saved by test-gate's plugin (``--test-gate-report FILE``).

pytest-json-report saves with ``json.dump``, which always takes Python's pure encoder: for a
report of 10,000 tests that costs three times what ``json.dumps`` (the C encoder) does, for the
same text. test-gate turns pytest-json-report's own save off (``--json-report-file=none``) and
this part writes the very report it built, after it built it; and beside it its digest
(protocol.DIGEST_SUFFIX), which is all the gate reads of it when it has the record too (with
``--test-gate-digest-only``, the digest alone: a report no one keeps is not written).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

from pytest_test_gate.protocol import DIGEST_SUFFIX, PLAINLY

_DUMPS = json.dumps  # bound as the plugin loads: a test that replaces json.dumps cannot reach it


class ReportSaver:
    """`digest_only`: the report is not kept (test-gate's scratch folder, outside GitHub
    Actions, with no --report-file): only its digest is saved. Encoding and writing the whole
    report of 10,000 tests costs 80 ms of CPU."""

    def __init__(self, config: Any, path: str, digest_only: bool = False) -> None:
        self.config = config
        self.path = path
        self.digest_only = digest_only
        self.pid = os.getpid()  # a child a test forked saves nothing over the parent's report

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> Generator[None, Any, None]:
        yield  # pytest-json-report builds its report in its own pytest_sessionfinish
        report = getattr(getattr(self.config, "_json_report", None), "report", None)
        if report is None or os.getpid() != self.pid:  # not active, or a forked child's
            return
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if not self.digest_only:
            text = _DUMPS(report, default=str)  # what pytest-json-report's save writes
            with open(self.path, "w", encoding="utf-8") as handle:
                handle.write(text)
        with open(self.path + DIGEST_SUFFIX, "w", encoding="utf-8") as handle:
            handle.write(_DUMPS(digest(report), default=str))


def _plainly_passed(test: Any) -> bool:
    """Passed, and passed every stage: one test a call, no generator (a report holds every
    test, and the digest is made as pytest ends)."""
    if type(test) is not dict or test.get("outcome") != "passed":
        return False
    setup, call, teardown = test.get("setup"), test.get("call"), test.get("teardown")
    return (
        type(test.get("nodeid")) is str
        and type(setup) is type(call) is type(teardown) is dict
        and setup.get("outcome") == call.get("outcome") == teardown.get("outcome") == "passed"
    )


def digest(report: dict[str, Any]) -> dict[str, Any]:
    """What the gate's cross-check reads of the report: a small part of it."""
    tests = report.get("tests")
    tests = tests if isinstance(tests, list) else []
    collectors = report.get("collectors")
    collectors = collectors if isinstance(collectors, list) else []
    plainly = [_plainly_passed(t) for t in tests]
    return {
        "exitcode": report.get("exitcode"),
        "root": report.get("root"),
        "summary": report.get("summary"),
        "collectors": [
            c for c in collectors if not isinstance(c, dict) or c.get("outcome") != "passed"
        ],
        "tests": [t for t, plain in zip(tests, plainly, strict=True) if not plain],
        PLAINLY: [t["nodeid"] for t, plain in zip(tests, plainly, strict=True) if plain],
    }
