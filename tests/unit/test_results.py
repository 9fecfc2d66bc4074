"""Reading other jobs' result files: anything that is not a result of this schema is a reason
that names the file, never a file skipped. (Malformed input is hand-written; the readable
results come from real runs in the functional tests.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_gate.read.report import ReportError
from test_gate.read.results import read_result, result_files


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


GOOD: dict[str, Any] = {
    "tool": "test-gate",
    "schema": 2,
    "version": "0.3.0",
    "kind": "run",
    "cell": "py3.12-linux",
    "verdict": "fail",
    "reasons": ["pass rate 66.66% is below the threshold 98% (2 of 3 passed)"],
    "blind_reasons": [],
    "seed": 7,
    "counts": {
        "passed": 2,
        "failed": 1,
        "error": 0,
        "skipped": 0,
        "xfailed": 0,
        "xpassed": 0,
        "interrupted": 0,
        "flaky": 1,
        "reruns": 3,
        "collected": 3,
        "deselected": 0,
    },
    "failures": [
        {"nodeid": "t.py::b", "message": "boom", "line": 4, "crash_path": "t.py", "crash_line": 5}
    ],
    "flaky": [{"nodeid": "t.py::c", "attempts": 2, "first_failure": "once"}],
    "tests": [
        ["t.py::a", "passed", 1, 0.5],
        ["t.py::b", "failed", 3, 0.3],
        ["t.py::c", "passed", 2, 1.0],
    ],
    "shard": None,
}


def test_a_result_is_read_back_into_records(tmp_path: Path) -> None:
    job = read_result(write(tmp_path / "r.json", GOOD))
    assert [t.outcome.value for t in job.tests] == ["passed", "failed", "passed"]
    failed, flaky = job.tests[1], job.tests[2]
    assert (len(failed.attempts), failed.last.message, failed.last.crash_line) == (3, "boom", 5)
    assert failed.line == 4
    assert flaky.flaky and flaky.attempts[0].message == "once"
    assert job.seed == "7" and job.cell == "py3.12-linux"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"schema": 1, "verdict": "pass"}, "test-gate 0.2 or older (result schema 1)"),
        ({**GOOD, "schema": 3, "version": "9.0"}, "schema 3 (test-gate 9.0)"),
        ({**GOOD, "schema": 3}, "upgrade test-gate for the merge"),
        ({**GOOD, "schema": "2"}, "run every job with the same test-gate version"),
        ({"tests": []}, 'is not a test-gate result file (no "tool": "test-gate")'),
        ([1, 2], "is not a test-gate result file"),
        ({**GOOD, "kind": "merge"}, "is already a merge"),
        ({**GOOD, "tests": [["t.py::a", "great", 1, 0.1]]}, "rows are not [id, outcome"),
        ({**GOOD, "tests": [["t.py::a", "passed", 0, 0.1]]}, "rows are not [id, outcome"),
        ({**GOOD, "tests": "all"}, "its tests"),
        ({**GOOD, "shard": {"index": 4, "total": 3, "suite": 9}}, "shard is not K of N"),
        ({**GOOD, "shard": {"index": 1, "total": 3, "suite": 9}}, "does not list the tests"),
        ('{"tool": "test-gate", "sche', "is not valid JSON (truncated or corrupt)"),
        ("\udcff", "is not UTF-8 text"),
    ],
)
def test_what_cannot_be_merged_says_why(tmp_path: Path, data: Any, expected: str) -> None:
    path = tmp_path / "r.json"
    if data == "\udcff":
        path.write_bytes(b"\xff\xfe")
    else:
        write(path, data)
    with pytest.raises(ReportError) as info:
        read_result(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_folders_are_searched_and_an_empty_one_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    one = write(tmp_path / "a" / "deep" / "result.json", GOOD)
    two = write(tmp_path / "a" / "x.json", GOOD)
    write(tmp_path / "a" / "notes.txt", "not json")
    files, problems = result_files([tmp_path / "a", tmp_path / "empty", one])
    assert files == [one, two]
    assert problems == [f"{tmp_path / 'empty'}: the folder holds no result file (*.json)"]
