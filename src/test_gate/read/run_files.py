"""The files of a run test-gate started: pytest-test-gate's record, and pytest-json-report's
report (its digest, when pytest-test-gate saved one beside it), read and checked against
each other into one RunData."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import DIGEST_SUFFIX, REPORT_KEY

from test_gate.read.record import RecordError, load_record
from test_gate.read.records import RunData
from test_gate.read.report import ReportError, load_json, read_json, read_report
from test_gate.read.values import integer


def _digest(report: Path) -> dict[str, Any] | None:
    """The report's digest, written beside it (pytest-test-gate's save): all the gate reads of
    the report when it has the record too. None when there is none to read."""
    path = Path(str(report) + DIGEST_SUFFIX)
    if not path.is_file():
        return None
    data = read_json(path, "report digest")
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ReportError(f"report digest {path} is not what pytest-test-gate writes")
    return data


def read_run_files(report: Path, record: Path, run_id: str) -> RunData:
    """A run test-gate started: pytest-test-gate's record (written as the run went) and
    pytest-json-report's report, each checked against the other. The record alone still
    counts every test when the report was never written (pytest was stopped, or
    pytest-json-report crashed), and says that the report is missing."""
    section: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    missing: list[str] = []
    try:
        section = load_record(record)
    except RecordError as exc:
        missing.append(str(exc))
    try:
        data = _digest(report) or load_json(report)
    except ReportError as exc:
        missing.append(str(exc))
    if data is not None and section is not None:
        return read_report({**data, REPORT_KEY: section}, run_id=run_id, source=str(report))
    if section is not None:
        exit_status = integer(section.get("exit_status"))
        alone: dict[str, Any] = {"tests": [], "exitcode": exit_status, REPORT_KEY: section}
        run = read_report(alone, run_id=run_id, source=str(record), cross_check=False)
    elif data is not None:
        run = read_report(data, run_id=run_id, source=str(report))
    else:
        run = RunData(tests=(), sources=(str(report),))
    return replace(run, problems=(*missing, *run.problems))
