"""One attempt from its phase reports, by the counting rules."""

from __future__ import annotations

from typing import Any

from test_gate.read.attempts import classify_attempt, split_attempts
from test_gate.read.records import Outcome


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
