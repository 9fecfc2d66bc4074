"""pytest-json-report's tests against pytest-test-gate's record: the same tests, and a failure
in either is a failure in both, or the report contradicts itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from test_gate.read.attempts import REPORTED_FAILURES, records_from_stages
from test_gate.read.records import Outcome, TestRecord
from test_gate.read.values import Findings, text

# what pytest-json-report says of a test that contradicts a record of a pass or a skip
DOUBTED = REPORTED_FAILURES | {Outcome.INTERRUPTED.value}


def _said(tests: Sequence[Any]) -> tuple[dict[str, str], list[Any]]:
    """In one pass over pytest-json-report's tests: what it says of each, and those to read
    again from their stages, every test that did not plainly pass (passed, and passed every
    stage) and anything that is not a test."""
    reported: dict[str, str] = {}
    again: list[Any] = []
    for test in tests:
        if not isinstance(test, dict):
            again.append(test)
            continue
        nodeid, outcome = test.get("nodeid"), test.get("outcome")
        reported[text(nodeid)] = text(outcome)
        if outcome == "passed" and type(nodeid) is str:
            setup, call, teardown = test.get("setup"), test.get("call"), test.get("teardown")
            if (
                type(setup) is dict
                and type(call) is dict
                and type(teardown) is dict
                and setup.get("outcome") == call.get("outcome") == teardown.get("outcome")
                and setup.get("outcome") == "passed"
            ):
                continue
        again.append(test)
    return reported, again


def check_against_report(
    tests: Sequence[Any],
    records: Sequence[TestRecord],
    root: str,
    findings: Findings,
    plainly: Sequence[str] = (),
) -> None:
    """pytest-json-report's tests against pytest-test-gate's record: the same tests, and a
    failure in either is a failure in both, or the report contradicts itself. The report's own
    stages are read (and checked) as if there were no record. `plainly`: the ids of the tests
    the report's digest says plainly passed (its `tests` are then the others)."""
    reported, stages = _said(tests)
    for nodeid in plainly:
        reported.setdefault(nodeid, "passed")
    recorded = {r.nodeid: r for r in records}
    if reported.keys() != recorded.keys():
        missing = sorted(reported.keys() ^ recorded.keys())
        findings.add(
            f"{len(missing)} test(s) appear in only one of pytest-json-report's test list "
            f"and pytest-test-gate's record, e.g. {missing[0]}: the report is inconsistent"
        )
    good = (Outcome.PASSED, Outcome.SKIPPED, Outcome.XFAILED, Outcome.XPASSED)
    # the report's own stages, read as if there were no record; a test that passed every
    # stage (most tests) reads as passed, and is not read again
    staged = {r.nodeid: r for r in records_from_stages(stages, root, findings)}
    # only a test the report does not call passed can contradict the record
    doubted = staged.keys() | {n for n, said in reported.items() if said in DOUBTED}
    if not doubted:
        return
    for nodeid, record in recorded.items():
        if nodeid not in doubted or record.outcome not in good:
            continue
        stage = staged.get(nodeid)
        said = reported.get(nodeid, "")
        if said not in REPORTED_FAILURES and stage is not None and stage.outcome not in good:
            said = stage.outcome.value
        if said in REPORTED_FAILURES or said == Outcome.INTERRUPTED.value:
            findings.test(
                f"are {said} for pytest-json-report and {record.outcome.value} in "
                "pytest-test-gate's record: the report contradicts itself",
                nodeid,
            )
