"""The step outputs, from the one result."""

from __future__ import annotations

from pathlib import Path

from conftest import gate_result

from test_gate.analyse.result import Files
from test_gate.read.records import Attempt, IgnoredPath, Outcome, RunData, TestRecord
from test_gate.render import outputs


def test_every_declared_output_has_a_value() -> None:
    tests = (
        TestRecord("t.py::a", "t.py", 1, (Attempt(Outcome.PASSED),), 0),
        TestRecord(
            "t.py::b", "t.py", 2, (Attempt(Outcome.FAILED, "x"), Attempt(Outcome.PASSED)), 1
        ),
        TestRecord("t.py::c", "t.py", 3, (Attempt(Outcome.FAILED, "x"),), 2),
    )
    run = RunData(
        tests=tests,
        collected=3,
        exit_code=1,
        ignored=(IgnoredPath("legacy/", "--ignore", files=3),),
    )
    files = Files(Path("r.json"), Path("s.md"), Path("report.json"))
    values = outputs.render(gate_result(run, seed=7, files=files))
    assert values == {
        "verdict": "fail",
        "pass-rate": "66.66",
        "passed": "2",
        "failed": "1",
        "errors": "0",
        "skipped": "0",
        "flaky": "1",
        "seed": "7",
        "ignored": "3",
        "result-file": "r.json",
        "report-file": "report.json",
        "summary-file": "s.md",
        "junit-file": "",
        "ctrf-file": "",
    }


def test_nothing_attempted_leaves_the_rate_empty() -> None:
    values = outputs.render(gate_result(RunData(tests=(), exit_code=5)))
    assert (values["pass-rate"], values["seed"], values["report-file"]) == ("", "", "")
