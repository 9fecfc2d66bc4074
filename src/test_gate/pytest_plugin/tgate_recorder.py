"""pytest plugin loaded by `test-gate run` (``-p tgate_recorder``).

It runs inside the user's pytest, so it uses only pytest and the standard library (pytest >= 7).
It records what the JSON report loses: every report of every attempt, in execution order
(pytest-json-report keeps only the last attempt and calls a flaky test ``rerun``), collection
errors, deselected items, the random-order seed and the run id that proves the report is fresh.
The data goes into the JSON report under the key ``test_gate``.

Other parts of test-gate add their own sections through ``SECTIONS``: a mapping of key to a
callable taking the pytest config and returning JSON-able data, called when the report is written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

SCHEMA = 1
RUN_ID_ENV = "TEST_GATE_RUN_ID"
MAX_TEXT = 20_000

SECTIONS: dict[str, Callable[[Any], Any]] = {}


def _text(value: object) -> str:
    text = str(value) if value is not None else ""
    if len(text) > MAX_TEXT:
        cut = len(text) - MAX_TEXT
        text = text[:MAX_TEXT] + f"\n[... cut by test-gate: {cut} more characters]"
    return text


def _crash_message(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, reason)
        return _text(longrepr[2])
    crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
    if crash:
        return _text(crash)
    lines = [line for line in str(longrepr).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("E "):
            return _text(line[1:].strip())
    return _text(lines[-1]) if lines else ""


def _crash_location(report: Any) -> list[Any]:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "path", None):
        return [str(crash.path), getattr(crash, "lineno", None)]
    return []


class Recorder:
    def __init__(self, config: Any) -> None:
        self.config = config
        self.started = time.time()
        # read now: a test may clear the environment before the report is written
        self.run_id = os.environ.get(RUN_ID_ENV, "")
        self.reports: list[dict[str, Any]] = []
        self.collect_errors: list[dict[str, Any]] = []
        self.deselected: list[str] = []
        self.collected = 0  # as pytest counts it: before deselection
        self.selected: int | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(
                {
                    "nodeid": report.nodeid,
                    "message": _crash_message(report),
                    "longrepr": _text(report.longrepr),
                }
            )

    def pytest_deselected(self, items: Any) -> None:
        self.deselected.extend(item.nodeid for item in items)

    def pytest_collection_finish(self, session: Any) -> None:
        self.selected = len(session.items)
        self.collected = self.selected + len(self.deselected)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Any) -> None:
        # under pytest-xdist the controller collects nothing; each worker reports its items
        # (after its own deselection)
        self.selected = max(self.selected or 0, len(ids))
        self.collected = max(self.collected, len(ids))

    def pytest_runtest_logreport(self, report: Any) -> None:
        location = list(report.location) if getattr(report, "location", None) else []
        entry: dict[str, Any] = {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "duration": getattr(report, "duration", 0.0),
            "location": [location[0], location[1]] if len(location) >= 2 else [],
        }
        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
        if worker:  # pytest-xdist: each worker is its own process with its own order
            entry["worker"] = str(worker)
        if hasattr(report, "wasxfail"):
            entry["wasxfail"] = _text(report.wasxfail)
        if getattr(report, "context", None) is not None or type(report).__name__ == "SubtestReport":
            entry["subtest"] = True
        if report.outcome != "passed":
            entry["message"] = _crash_message(report)
            entry["crash"] = _crash_location(report)
            if report.outcome != "skipped":
                entry["longrepr"] = _text(report.longrepr)
        self.reports.append(entry)

    def data(self) -> dict[str, Any]:
        seed = getattr(self.config.option, "random_order_seed", None)
        sections = {key: build(self.config) for key, build in SECTIONS.items()}
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "started": self.started,
            "finished": time.time(),
            "pytest_version": pytest.__version__,
            "rootdir": str(self.config.rootpath),
            "collected": self.collected,
            "selected": self.selected,
            "deselected": self.deselected,
            "collect_errors": self.collect_errors,
            "random_order_seed": str(seed) if seed is not None else None,
            "reports": self.reports,
            **sections,
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        json_report["test_gate"] = self.data()


def pytest_configure(config: Any) -> None:
    if not hasattr(config, "workerinput"):  # xdist workers report to the controller
        config.pluginmanager.register(Recorder(config), "test_gate_recorder")
    __import__("tgate_ignored").install(config, SECTIONS)
