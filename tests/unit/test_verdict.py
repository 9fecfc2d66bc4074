"""The decision, on records built in memory: counting rules, exact threshold, fail closed."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_gate.analyse.verdict import Policy, decide, format_percent, format_threshold
from test_gate.read.records import Attempt, CollectError, IgnoredPath, Outcome, RunData, TestRecord


def record(name: str, *outcomes: Outcome, order: int = 0) -> TestRecord:
    attempts = tuple(Attempt(o, message=f"{o.value} message") for o in outcomes)
    return TestRecord(f"tests/test_x.py::{name}", "tests/test_x.py", 3, attempts, order)


def run_of(*tests: TestRecord, exit_code: int | None = None, **kw: object) -> RunData:
    if exit_code is None:
        bad = any(t.outcome in (Outcome.FAILED, Outcome.ERROR) for t in tests)
        exit_code = 1 if bad else 0
    return RunData(tests=tests, collected=len(tests), exit_code=exit_code, **kw)  # type: ignore[arg-type]


def passing(n: int) -> list[TestRecord]:
    return [record(f"t{i}", Outcome.PASSED, order=i) for i in range(n)]


def test_exact_boundary_passes_at_98() -> None:
    tests = [*passing(49), record("bad", Outcome.FAILED)]
    verdict = decide(run_of(*tests), Policy(threshold=Decimal(98)))
    assert verdict.passed
    assert verdict.pass_rate == Fraction(98)
    assert verdict.reasons == ()


def test_just_above_the_rate_fails() -> None:
    tests = [*passing(49), record("bad", Outcome.FAILED)]
    verdict = decide(run_of(*tests), Policy(threshold=Decimal("98.0000001")))
    assert not verdict.passed
    assert "below the threshold 98.0000001%" in verdict.reasons[0]


def test_rate_never_rounds_up() -> None:
    # 2399 / 2449 = 97.958...%: must not print as 98%
    tests = [*passing(2399), *(record(f"f{i}", Outcome.FAILED) for i in range(50))]
    verdict = decide(run_of(*tests), Policy())
    assert not verdict.passed
    assert format_percent(verdict.pass_rate or Fraction(0)) == "97.95"


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(9799, 100), "97.99"), (Fraction(979999, 10000), "97.99"), (Fraction(100), "100.00")],
)
def test_format_percent_rounds_down(value: Fraction, text: str) -> None:
    assert format_percent(value) == text


def test_format_threshold_keeps_what_the_user_wrote() -> None:
    assert format_threshold(Decimal("98")) == "98"
    assert format_threshold(Decimal("98.50")) == "98.5"


def test_flaky_counts_as_passed_and_is_listed() -> None:
    flaky = record("flaky", Outcome.FAILED, Outcome.PASSED)
    verdict = decide(run_of(flaky, exit_code=0), Policy())
    assert verdict.passed
    assert verdict.counts.passed == 1
    assert verdict.counts.flaky == 1
    assert verdict.counts.reruns == 1
    assert verdict.flaky == (flaky,)


def test_last_attempt_wins() -> None:
    test = record("late", Outcome.PASSED, Outcome.FAILED)
    verdict = decide(run_of(test), Policy())
    assert verdict.counts.failed == 1 and verdict.counts.flaky == 0


def test_skips_and_xfails_are_outside_the_rate() -> None:
    tests = [
        *passing(2),
        record("s", Outcome.SKIPPED),
        record("xf", Outcome.XFAILED),
        record("xp", Outcome.XPASSED),
    ]
    verdict = decide(run_of(*tests), Policy(threshold=Decimal(100)))
    assert verdict.passed
    assert verdict.pass_rate == 100


def test_the_verdict_keeps_the_skipped_and_xfailed_in_run_order() -> None:
    """The summary and the terminal group skips from the verdict, not from every test."""
    tests = [record("s", Outcome.SKIPPED), *passing(2), record("xf", Outcome.XFAILED)]
    verdict = decide(run_of(*tests, record("xp", Outcome.XPASSED)), Policy())
    assert [t.nodeid.split("::")[1] for t in verdict.skipped] == ["s", "xf"]
    assert decide(run_of(*passing(3)), Policy()).skipped == ()


def test_nothing_attempted_fails_closed() -> None:
    verdict = decide(run_of(record("s", Outcome.SKIPPED)), Policy())
    assert not verdict.passed and verdict.blind
    assert "no test was attempted" in verdict.reasons[0]


def test_allow_no_tests_lets_an_empty_run_pass() -> None:
    verdict = decide(run_of(exit_code=5), Policy(allow_no_tests=True))
    assert verdict.passed
    assert verdict.pass_rate is None


def test_collection_error_counts_as_error_and_fails() -> None:
    run = run_of(*passing(3), exit_code=2, collect_errors=(CollectError("tests/t.py", "boom", ""),))
    verdict = decide(run, Policy(threshold=Decimal(0)))
    assert not verdict.passed
    assert verdict.counts.error == 1
    assert any("collection error" in r for r in verdict.reasons)
    assert any("exited with code 2" in r for r in verdict.reasons)


IMPORT_ERROR = (
    "ImportError while importing test module '/r/tests/t.py'.\nHint: make sure ...\n"
    "Traceback:\nE   ModuleNotFoundError: No module named 'nowhere'"
)


def test_a_collection_error_reason_says_what_to_fix() -> None:
    one = (CollectError("tests/t.py", IMPORT_ERROR, ""),)
    (reason,) = decide(run_of(exit_code=2, collect_errors=one), Policy()).reasons[:1]
    assert reason == (
        "1 collection error(s): tests in tests/t.py could not be collected: "
        "ModuleNotFoundError: No module named 'nowhere'"
    )
    # a syntax error's message is its place; its traceback ends with the error
    syntax = CollectError("tests/s.py", 'File "/r/tests/s.py", line 1', "  ^\nSyntaxError: bad")
    many = (syntax, CollectError("tests/u.py", "x" * 500, ""))
    (reason,) = decide(run_of(exit_code=2, collect_errors=many), Policy()).reasons[:1]
    assert reason.endswith("could not be collected; the first: SyntaxError: bad")
    # no exception line: the first line, cut
    (reason,) = decide(run_of(exit_code=2, collect_errors=many[1:]), Policy()).reasons[:1]
    assert reason.endswith(": " + "x" * 199 + "…")
    nothing = (CollectError("tests/t.py", "", ""),)
    (reason,) = decide(run_of(exit_code=2, collect_errors=nothing), Policy()).reasons[:1]
    assert reason.endswith("tests/t.py could not be collected")


def test_files_python_files_misses_are_why_nothing_was_collected() -> None:
    run = run_of(exit_code=5, unmatched=("tests/test.py (2 tests)",))
    reasons = decide(run, Policy()).reasons
    assert reasons[0] == (
        "pytest collected no test: python_files (test_*.py, *_test.py) matches none of these "
        "files, which hold tests: tests/test.py (2 tests)"
    )
    assert decide(run, Policy(allow_no_tests=True)).passed  # an empty run, allowed


@pytest.mark.parametrize("code", [2, 3, 4, 6, 137, -9])
def test_unexpected_exit_codes_fail(code: int) -> None:
    verdict = decide(run_of(*passing(3), exit_code=code), Policy())
    assert not verdict.passed
    assert any(f"code {code}" in r for r in verdict.reasons)


def test_exit_code_contradicting_the_report_fails() -> None:
    assert not decide(run_of(*passing(3), exit_code=1), Policy()).passed
    assert not decide(
        run_of(record("f", Outcome.FAILED), exit_code=0), Policy(threshold=Decimal(0))
    ).passed


def test_interrupted_test_fails_closed() -> None:
    verdict = decide(
        run_of(*passing(5), record("cut", Outcome.INTERRUPTED), exit_code=2),
        Policy(threshold=Decimal(0)),
    )
    assert not verdict.passed
    assert verdict.counts.interrupted == 1
    assert verdict.failures[-1].nodeid.endswith("cut")


def test_problems_from_reading_fail_the_gate() -> None:
    verdict = decide(run_of(*passing(5), problems=("report is stale",)), Policy())
    assert not verdict.passed and verdict.blind
    assert verdict.reasons[0] == "report is stale"


def test_max_ignored() -> None:
    ignored = (IgnoredPath("tests/test_a.py", "--ignore"),)
    run = run_of(*passing(2), ignored=ignored)
    assert decide(run, Policy()).passed
    assert decide(run, Policy(max_ignored=1)).passed
    verdict = decide(run, Policy(max_ignored=0))
    assert not verdict.passed and not verdict.blind


@given(
    passed=st.integers(0, 500),
    failed=st.integers(0, 500),
    threshold=st.decimals(0, 100, places=3),
)
def test_threshold_comparison_is_exact(passed: int, failed: int, threshold: Decimal) -> None:
    tests = [*passing(passed), *(record(f"f{i}", Outcome.FAILED) for i in range(failed))]
    verdict = decide(run_of(*tests), Policy(threshold=threshold, allow_no_tests=True))
    if passed + failed:
        expected = Fraction(passed * 100, passed + failed) >= Fraction(threshold)
        assert verdict.passed == expected
        shown = Decimal(format_percent(verdict.pass_rate or Fraction(0)))
        assert shown <= Decimal(passed * 100) / Decimal(passed + failed)
