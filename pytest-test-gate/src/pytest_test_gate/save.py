"""pytest-json-report's report, saved by test-gate's plugin (``--test-gate-report FILE``).

pytest-json-report saves with ``json.dump``, which always takes Python's pure encoder: for a
report of 10,000 tests that costs three times what ``json.dumps`` (the C encoder) does, for the
same text. test-gate turns pytest-json-report's own save off (``--json-report-file=none``) and
this part writes the very report it built, after it built it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest


class ReportSaver:
    def __init__(self, config: Any, path: str) -> None:
        self.config = config
        self.path = path

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> Generator[None, Any, None]:
        yield  # pytest-json-report builds its report in its own pytest_sessionfinish
        report = getattr(getattr(self.config, "_json_report", None), "report", None)
        if report is None:  # pytest-json-report is not active: there is no report to save
            return
        text = json.dumps(report, default=str)  # what pytest-json-report's save writes
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(text)
