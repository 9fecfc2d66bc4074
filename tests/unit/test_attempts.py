"""One attempt from its phase reports, by the counting rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_test_gate.protocol import PASSED
from pytest_test_gate.recorder import compact

from test_gate.read.attempts import classify_attempt, records_from_plugin, split_attempts
from test_gate.read.records import Outcome, TestRecord
from test_gate.read.values import Findings


def phase(when: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {"when": when, "outcome": outcome, **extra}


def test_the_phases_decide_the_outcome() -> None:
    ok = [phase("setup", "passed"), phase("call", "passed"), phase("teardown", "passed")]
    assert classify_attempt(ok).outcome is Outcome.PASSED
    bad_setup = [phase("setup", "failed", message="fixture"), phase("teardown", "passed")]
    assert classify_attempt(bad_setup).outcome is Outcome.ERROR
    bad_teardown = [*ok[:2], phase("teardown", "failed")]
    assert classify_attempt(bad_teardown).outcome is Outcome.ERROR
    skipped = [phase("setup", "skipped"), phase("teardown", "passed")]
    assert classify_attempt(skipped).outcome is Outcome.SKIPPED
    xfailed = [phase("setup", "passed"), phase("call", "skipped", wasxfail=""), ok[2]]
    assert classify_attempt(xfailed).outcome is Outcome.XFAILED
    xpassed = [phase("setup", "passed"), phase("call", "passed", wasxfail=""), ok[2]]
    assert classify_attempt(xpassed).outcome is Outcome.XPASSED


def test_no_call_and_no_skip_never_finished() -> None:
    assert classify_attempt([phase("setup", "passed")]).outcome is Outcome.INTERRUPTED
    no_teardown = [phase("setup", "passed"), phase("call", "passed")]
    assert classify_attempt(no_teardown).outcome is Outcome.INTERRUPTED


def test_a_failed_subtest_fails_the_item() -> None:
    phases = [
        phase("setup", "passed"),
        phase("call", "failed", subtest=True, message="sub"),
        phase("call", "passed"),
        phase("teardown", "passed"),
    ]
    attempt = classify_attempt(phases)
    assert (attempt.outcome, attempt.message) == (Outcome.FAILED, "sub")


def test_a_new_attempt_starts_at_each_setup() -> None:
    reports = [
        phase("setup", "passed"),
        phase("call", "rerun"),
        phase("teardown", "passed"),
        phase("setup", "passed"),
        phase("call", "passed"),
        phase("teardown", "passed"),
    ]
    assert [len(a) for a in split_attempts(reports)] == [3, 3]


# -- rows of plainly passed phases (the record's compact form) --------------------------------

PLAIN = {"nodeid": "t.py::a", "outcome": "passed", "location": ["t.py", 3]}


def full(when: str, outcome: str = "passed", seconds: float = 0.25, **extra: Any) -> dict[str, Any]:
    return {**PLAIN, "when": when, "outcome": outcome, "duration": seconds, **extra}


def row(*whens: str, seconds: float = 0.25) -> dict[str, Any]:
    return {"nodeid": "t.py::a", "location": ["t.py", 3], PASSED: [[w, seconds] for w in whens]}


def records(*entries: dict[str, Any]) -> tuple[list[TestRecord], list[str]]:
    findings = Findings("record")
    found = records_from_plugin({"reports": list(entries), "finished": 1.0}, findings)
    return found, findings.lines()


@pytest.mark.parametrize(
    "entries",
    [
        [row("setup", "call", "teardown")],  # a whole run's record
        [full("setup"), row("call", "teardown")],  # the record file: the setup written at once
        [row("setup"), row("call"), full("teardown")],
    ],
)
def test_a_row_reads_as_the_phases_it_stands_for(entries: list[dict[str, Any]]) -> None:
    expected, _ = records(full("setup"), full("call"), full("teardown"))
    found, problems = records(*entries)
    assert found == expected and problems == []
    assert found[0].outcome is Outcome.PASSED and found[0].duration == 0.75
    assert (found[0].path, found[0].line) == ("t.py", 4)


def test_a_row_may_span_attempts() -> None:
    found, problems = records(
        row("setup"),
        full("call", "rerun", message="boom"),
        row("teardown", "setup", "call", "teardown"),
    )
    assert problems == [] and found[0].flaky and len(found[0].attempts) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {**row(), PASSED: "setup"},
        {**row(), PASSED: []},
        {**row(), PASSED: [["setup", 0.1], ["call"], ["teardown", 0.1]]},
        {**row(), PASSED: [["setup", 0.1], ["bogus", 0.1], ["teardown", 0.1]]},
        row("setup", "teardown"),  # the call was lost
        row("setup", "call"),  # the teardown was lost
        row("call", "teardown"),  # the setup was lost
        {"nodeid": "t.py::a", "location": ["t.py", 3]},  # neither a phase nor a row
    ],
)
def test_a_malformed_row_fails_closed(bad: dict[str, Any]) -> None:
    found, problems = records(bad)
    assert problems or found[0].outcome is not Outcome.PASSED


PHASE_REPORT = st.builds(
    full,
    when=st.sampled_from(["setup", "call", "teardown", "???"]),
    outcome=st.sampled_from(["passed", "passed", "failed", "rerun", "skipped", "error"]),
    seconds=st.sampled_from([0.0, 0.5, 1.0]),
)
# two tests, and pytest-xdist's workers (a report with a worker is never part of a row)
PHASE_REPORTS = st.lists(
    st.tuples(PHASE_REPORT, st.sampled_from(["t.py::a", "t.py::b"]), st.sampled_from(["", "gw0"])),
    max_size=12,
).map(lambda drawn: [{**r, "nodeid": n, **({"worker": w} if w else {})} for r, n, w in drawn])


@settings(max_examples=300, deadline=None)
@given(reports=PHASE_REPORTS, finished=st.booleans())
def test_the_plugins_compact_record_reads_as_the_full_one(
    reports: list[dict[str, Any]], finished: bool
) -> None:
    """What the gate makes of any sequence of phase reports does not change when the plugin
    writes its plainly passed phases as rows."""

    def read(entries: list[dict[str, Any]]) -> tuple[list[TestRecord], list[str]]:
        findings = Findings("record")
        plugin = {"reports": entries, "finished": 1.0 if finished else 0}
        return records_from_plugin(plugin, findings), findings.lines()

    assert read(compact([dict(r) for r in reports])) == read(reports)


STAGE = st.fixed_dictionaries(
    {"duration": st.one_of(st.floats(allow_nan=True), st.integers(-1, 3)),
     "outcome": st.sampled_from(["passed", "failed", "skipped"])},
    optional={"longrepr": st.text(max_size=5), "crash": st.just({"message": "m"})},
)  # fmt: skip
STAGES_TEST = st.fixed_dictionaries(
    {"nodeid": st.sampled_from(["t.py::a", "t.py::b[é]", "t.py::c"]),
     "outcome": st.sampled_from(["passed", "failed", "rerun", "xpassed"])},
    optional={"lineno": st.one_of(st.integers(0, 9), st.none(), st.text(max_size=2)),
              "setup": STAGE, "call": STAGE, "teardown": STAGE},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(tests=st.lists(STAGES_TEST, max_size=6))
def test_the_stages_fast_path_reads_as_the_long_way(tests: list[dict[str, object]]) -> None:
    """A plain pytest-json-report report: a test whose three stages plainly passed is made
    from one check; any test reads the same with and without that shortcut."""
    from unittest import mock

    from test_gate.read import attempts

    fast_findings, slow_findings = Findings("r"), Findings("r")
    fast = attempts.records_from_stages(tests, "/root", fast_findings)
    with mock.patch.object(attempts, "_plain_stages", lambda test, order: None):
        slow = attempts.records_from_stages(tests, "/root", slow_findings)
    assert fast == slow
    assert fast_findings.lines() == slow_findings.lines()
