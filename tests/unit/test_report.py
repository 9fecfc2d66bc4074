"""Reading attempt logs: attempts split right, outcomes per the counting rules, gaps noted."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_test_gate.protocol import REPORT_KEY, SCHEMA

from test_gate.read.attempts import PHASES
from test_gate.read.records import Outcome
from test_gate.read.report import read_report


def phase(nodeid: str, when: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {"nodeid": nodeid, "when": when, "outcome": outcome, "location": ["t.py", 0], **extra}


def report(
    *phases: dict[str, Any], nodeids: list[str] | None = None, **plugin: Any
) -> dict[str, Any]:
    ids = nodeids if nodeids is not None else sorted({p["nodeid"] for p in phases})
    return {
        "exitcode": 0,
        "tests": [{"nodeid": n} for n in ids],
        "test_gate": {"run_id": "r1", "collected": len(ids), "reports": list(phases), **plugin},
    }


def test_rerun_then_pass_is_flaky() -> None:
    run = read_report(
        report(
            phase("a", "setup", "passed"),
            phase("a", "call", "rerun", message="x"),
            phase("a", "teardown", "passed"),
            phase("a", "setup", "passed"),
            phase("a", "call", "passed"),
            phase("a", "teardown", "passed"),
        )
    )
    (test,) = run.tests
    assert [a.outcome for a in test.attempts] == [Outcome.FAILED, Outcome.PASSED]
    assert test.flaky and test.line == 1


def test_subtests_logged_before_the_attempt_attach_to_it() -> None:
    run = read_report(
        report(
            phase("s", "call", "failed", subtest=True, message="assert 1 != 1"),
            phase("s", "setup", "passed"),
            phase("s", "call", "rerun", message="contains 1 failed subtest"),
            phase("s", "teardown", "passed"),
            phase("s", "call", "failed", subtest=True, message="assert 1 != 1"),
            phase("s", "setup", "passed"),
            phase("s", "call", "failed"),
            phase("s", "teardown", "passed"),
        )
    )
    (test,) = run.tests
    assert len(test.attempts) == 2
    assert test.outcome is Outcome.FAILED and test.last.message == "assert 1 != 1"


def test_no_call_and_no_skip_is_interrupted() -> None:
    run = read_report(report(phase("a", "setup", "passed")))
    assert run.tests[0].outcome is Outcome.INTERRUPTED


def test_setup_skip_and_xfail() -> None:
    run = read_report(
        report(
            phase("s", "setup", "skipped"),
            phase("s", "teardown", "passed"),
            phase("x", "setup", "passed"),
            phase("x", "call", "skipped", wasxfail=""),
            phase("x", "teardown", "passed"),
            phase("p", "setup", "passed"),
            phase("p", "call", "passed", wasxfail=""),
            phase("p", "teardown", "passed"),
        )
    )
    outcomes = {t.nodeid: t.outcome for t in run.tests}
    assert outcomes == {"s": Outcome.SKIPPED, "x": Outcome.XFAILED, "p": Outcome.XPASSED}


def test_stale_run_id_and_inconsistency_are_problems() -> None:
    data = report(
        phase("a", "setup", "passed"),
        phase("a", "call", "passed"),
        phase("a", "teardown", "passed"),
        nodeids=["a", "b"],
    )
    run = read_report(data, run_id="other")
    assert any("stale" in p for p in run.problems)
    assert any("inconsistent" in p for p in run.problems)


def test_fewer_ran_than_selected_is_a_problem() -> None:
    data = report(
        phase("a", "setup", "passed"),
        phase("a", "call", "passed"),
        phase("a", "teardown", "passed"),
    )
    data["test_gate"]["collected"] = 3
    data["test_gate"]["deselected"] = ["c"]
    run = read_report(data)
    assert run.deselected == 1
    assert any("2 test(s) were selected but only 1 ran" in p for p in run.problems)


def _reasons(data: dict[str, Any]) -> tuple[str, ...]:
    from test_gate.analyse.verdict import Policy, decide

    verdict = decide(read_report(data, source="r.json"), Policy())
    assert not verdict.passed
    return verdict.reasons


def test_empty_phases_fail_closed_and_say_why() -> None:
    data = {
        "exitcode": 0,
        "tests": [{"nodeid": "t.py::test_x", "setup": {}, "call": {}, "teardown": {}}],
    }
    assert any("phase outcome the gate does not know (None)" in r for r in _reasons(data))


@pytest.mark.parametrize("outcome", ["bogus", "FAILED", None, ""])
def test_an_unknown_phase_outcome_is_never_passed(outcome: Any) -> None:
    phases = {w: {"outcome": outcome if w == "call" else "passed"} for w in PHASES}
    data = {"exitcode": 0, "tests": [{"nodeid": "t.py::test_x", "outcome": "passed", **phases}]}
    assert any("does not know" in r for r in _reasons(data))


@pytest.mark.parametrize(
    "key", ["collect_errors", "reports", "deselected", "ignored", "never_ran", "deselected_by_file"]
)
@pytest.mark.parametrize("value", [7, True, "x", {"a": 1}])
def test_a_section_of_the_wrong_type_is_malformed_data(key: str, value: Any) -> None:
    section = {"schema": SCHEMA, "finished": 1.0, "reports": [], key: value}
    data = {"exitcode": 0, "tests": [], REPORT_KEY: section}
    reasons = _reasons(data)
    assert any("not a list" in r or "malformed" in r for r in reasons), reasons


def test_a_crash_entry_that_is_an_object_is_read_without_a_location() -> None:
    reports = [
        {"nodeid": "t.py::t", "when": "setup", "outcome": "passed"},
        {"nodeid": "t.py::t", "when": "call", "outcome": "failed", "crash": {"path": "x"}},
        {"nodeid": "t.py::t", "when": "teardown", "outcome": "passed"},
    ]
    section = {"schema": SCHEMA, "finished": 1.0, "reports": reports, "selected": 1}
    tests = [{"nodeid": "t.py::t", "outcome": "failed"}]
    run = read_report({"exitcode": 1, "tests": tests, REPORT_KEY: section})
    assert run.tests[0].outcome is Outcome.FAILED and run.tests[0].last.crash_path == ""


def test_json_report_failed_where_the_record_passed_contradicts() -> None:
    reports = [
        {"nodeid": "t.py::t", "when": w, "outcome": "passed"} for w in ("setup", "call", "teardown")
    ]
    section = {"schema": SCHEMA, "finished": 1.0, "reports": reports, "selected": 1}
    tests = [{"nodeid": "t.py::t", "outcome": "failed"}]
    reasons = _reasons({"exitcode": 1, "tests": tests, REPORT_KEY: section})
    assert any(
        "failed for pytest-json-report and passed in pytest-test-gate's record" in r
        for r in reasons
    )


def test_overlapping_reports_give_one_reason_however_many_tests() -> None:
    from test_gate.read.records import Attempt, RunData, TestRecord
    from test_gate.read.report import merge

    tests = tuple(
        TestRecord(f"t.py::t{i}", "t.py", i, (Attempt(Outcome.PASSED),), i) for i in range(20_000)
    )
    run = RunData(tests=tests, collected=20_000, exit_code=0)
    merged = merge([run, run])
    assert len(merged.problems) == 1
    assert merged.problems[0].startswith(
        "the reports: 20000 test(s) appear in more than one report"
    )
