"""Run exactly the given tests, in exactly the given order (``--test-gate-order FILE``).

Used by test-gate's diagnosis runs. The test ids come through a file (one node id a line), so
there is no command-line length limit and the user's own arguments stay untouched. Without it
the order is left alone.

- Collection is narrowed to the files the ids live in: a test runs "alone" only when no other
  test module is imported (import-time side effects pollute too).
- The items are selected and put in the file's order after every other plugin has sorted them
  (``trylast``), so pytest-random-order or pytest-randomly cannot reshuffle them.
- With ``--test-gate-outcomes FILE``, the outcome of each test is written there as JSON:
  ``{"outcomes": {nodeid: outcome}, "messages": {...}, "missing": [...], "ran": [...]}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

NEVER_IGNORED = ("__init__.py", "conftest.py")
MAX_MESSAGE = 2_000
_DUMPS = json.dumps  # bound as the plugin loads: a test may replace json.dumps


def _read_ids(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\r\n") for line in handle if line.strip()]


def _message(report: Any) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    text = getattr(crash, "message", None) or str(getattr(report, "longrepr", "") or "")
    return text[:MAX_MESSAGE]


class ExactOrder:
    def __init__(self, config: Any, ids: list[str] | None, results: str | None) -> None:
        self.config = config
        self.ids = ids
        self.results = results
        self.pid = os.getpid()  # a child a test forked writes no outcomes over these
        self.missing: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.ran: list[str] = []
        root = Path(str(config.rootpath)).resolve()
        files = {root / nodeid.split("::", 1)[0] for nodeid in ids or ()}
        # narrow only when every id names an existing file under the rootdir
        self.files: set[Path] | None = None
        if ids is not None and all(f.is_file() for f in files):
            self.files = files
        self.dirs: set[Path] = {d for f in files for d in f.parents}

    @classmethod
    def from_files(cls, config: Any, order_file: str | None, results: str | None) -> ExactOrder:
        return cls(config, _read_ids(order_file) if order_file else None, results)

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        if self.files is None:
            return None
        path = Path(collection_path).resolve()
        if path.is_dir():
            return None if path in self.dirs or path in self.files else True
        if path.name in NEVER_IGNORED or path in self.files:
            return None
        return True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        if self.ids is None:
            return
        by_id: dict[str, Any] = {}
        for item in items:
            by_id.setdefault(item.nodeid, item)
        chosen = [by_id[nodeid] for nodeid in self.ids if nodeid in by_id]
        self.missing = [nodeid for nodeid in self.ids if nodeid not in by_id]
        wanted = {id(item) for item in chosen}
        dropped = [item for item in items if id(item) not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = chosen

    def pytest_runtest_logreport(self, report: Any) -> None:
        nodeid = report.nodeid
        if nodeid not in self.outcomes:
            self.ran.append(nodeid)
            self.outcomes[nodeid] = "passed"
        current = self.outcomes[nodeid]
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            if current not in ("failed", "error"):
                self.outcomes[nodeid] = outcome
                self.messages[nodeid] = _message(report)
        elif report.skipped and current == "passed":
            xfail = hasattr(report, "wasxfail")
            self.outcomes[nodeid] = "xfailed" if xfail else "skipped"

    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
        if not self.results or os.getpid() != self.pid:
            return
        data = {
            "outcomes": self.outcomes,
            "messages": self.messages,
            "missing": self.missing,
            "ran": self.ran,
            "exit_status": int(exitstatus),
        }
        with open(self.results, "w", encoding="utf-8") as handle:
            handle.write(_DUMPS(data))
