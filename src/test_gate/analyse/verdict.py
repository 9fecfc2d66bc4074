"""The decision: records + policy -> Verdict. Pure functions, no I/O."""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from test_gate.read.pytest_output import PYTEST_EXIT_MEANINGS
from test_gate.read.records import (
    STOPPED_EARLY,
    CollectError,
    CollectSettings,
    IgnoredPath,
    Outcome,
    RunData,
    TestRecord,
    files_ignored,
)

MAX_ERROR = 200  # characters of a collection error's line in a reason
_EXCEPTION_LINE = re.compile(r"^(?:E\s+)?(?P<line>[\w.]*(?:Error|Exception|Warning|Exit)\b.*)$")


@dataclass(frozen=True)
class Policy:
    threshold: Decimal = Decimal(98)
    allow_no_tests: bool = False
    max_ignored: int | None = None


@dataclass(frozen=True)
class Gating:
    """What the history and the quarantine change in a verdict (`analyse.history`).
    Tests are keyed (cell, test id)."""

    excused: frozenset[tuple[str, str]] = frozenset()  # quarantined failures: out of the rate
    known: frozenset[tuple[str, str]] = frozenset()  # failures that also failed before
    rank: Mapping[tuple[str, str], int] = field(default_factory=dict)  # failures: new first
    reasons: tuple[str, ...] = ()  # expired quarantine entries, the flaky rate
    fail_on: Literal["all", "new"] = "all"


@dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    interrupted: int = 0
    flaky: int = 0
    reruns: int = 0
    collected: int = 0
    deselected: int = 0

    @property
    def attempted(self) -> int:
        """The denominator of the pass rate: a test that never finished was attempted too."""
        return self.passed + self.failed + self.error + self.interrupted


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]
    blind: bool  # the gate could not see the whole truth: never a pass, even in report-only mode
    counts: Counts
    pass_rate: Fraction | None  # None when nothing was attempted
    threshold: Decimal
    failures: tuple[TestRecord, ...]  # failed, errored and interrupted tests, in run order
    collect_errors: tuple[CollectError, ...]
    flaky: tuple[TestRecord, ...]
    slowest: tuple[TestRecord, ...]
    skipped: tuple[TestRecord, ...]  # skipped and xfailed tests, in run order
    ignored: tuple[IgnoredPath, ...]
    seed: str | None
    exit_code: int | None
    blind_reasons: tuple[str, ...] = ()  # the reasons that made it blind, of `reasons`
    excused: int = 0  # quarantined failures, left out of the pass rate

    @property
    def label(self) -> Literal["pass", "fail"]:
        return "pass" if self.passed else "fail"


def count(run: RunData) -> Counts:
    by_outcome = Counter([t.attempts[-1].outcome for t in run.tests])
    rerun = [t for t in run.tests if len(t.attempts) > 1]  # few: read the rest once only
    return Counts(
        passed=by_outcome[Outcome.PASSED],
        # a collection error counts as one error per collector
        failed=by_outcome[Outcome.FAILED],
        error=by_outcome[Outcome.ERROR] + len(run.collect_errors),
        skipped=by_outcome[Outcome.SKIPPED],
        xfailed=by_outcome[Outcome.XFAILED],
        xpassed=by_outcome[Outcome.XPASSED],
        interrupted=by_outcome[Outcome.INTERRUPTED],
        flaky=sum(1 for t in rerun if t.flaky),
        reruns=sum(len(t.attempts) - 1 for t in rerun),
        collected=run.collected,
        deselected=run.deselected,
    )


def pass_rate(counts: Counts, excused: int = 0) -> Fraction | None:
    """passed / attempted; quarantined failures (`excused`) are left out of both."""
    attempted = counts.attempted - excused
    return Fraction(counts.passed * 100, attempted) if attempted else None


def format_percent(rate: Fraction | Decimal, places: int = 2) -> str:
    """Round down, never up: 97.996% prints as 97.99%, not 98.00%."""
    scaled = Fraction(rate) * 10**places
    whole = scaled.numerator // scaled.denominator
    text = f"{whole / 10**places:.{places}f}" if places else str(whole)
    return text


def percent_text(rate: Fraction | None) -> str:
    """A rate as people read it, rounded down ("97.99%"), or "n/a" when nothing was
    attempted."""
    return f"{format_percent(rate)}%" if rate is not None else "n/a"


def percent_number(rate: Fraction | None) -> float | None:
    """The same rate as a number for JSON: never more than was earned."""
    return float(format_percent(rate)) if rate is not None else None


def format_threshold(threshold: Decimal) -> str:
    """As the user wrote it, less trailing zeros; never rounded (normalize() would round)."""
    text = format(threshold, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _exit_code_reasons(code: int | None, counts: Counts, policy: Policy) -> list[str]:
    if code is None:
        return ["pytest's exit code is unknown: the gate cannot tell how the session ended"]
    if code == 5 and policy.allow_no_tests:
        return []
    if code not in (0, 1):
        meaning = PYTEST_EXIT_MEANINGS.get(code, "an unexpected exit code")
        return [f"pytest exited with code {code} ({meaning})"]
    not_passed = counts.failed + counts.error + counts.interrupted
    if code == 0 and not_passed:
        return [
            f"pytest exited with code 0 but the report shows {not_passed} failed or errored "
            "test(s): the data contradicts itself"
        ]
    if code == 1 and not not_passed:
        return [
            "pytest exited with code 1 (tests failed) but the report shows no failed test: "
            "something failed that the report does not hold"
        ]
    return []


def _first_error(errors: tuple[CollectError, ...]) -> str:
    """The first error's exception line (its first line when none reads as one), which a
    reader of the reasons alone needs to act: an import error's message begins with pytest's
    own words and ends with the exception, a syntax error's with the file and the code."""
    error = errors[0]
    lines = [line.strip() for line in error.message.splitlines() if line.strip()]
    found = [m["line"] for line in lines if (m := _EXCEPTION_LINE.match(line))]
    if not found:  # pytest's first line of a syntax error is its place: the traceback has it
        text = [line.strip() for line in error.longrepr.splitlines()]
        found = [m["line"] for line in text if (m := _EXCEPTION_LINE.match(line))][-1:]
    if not (found or lines):
        return ""
    line = found[-1] if found else lines[0]
    line = line if len(line) <= MAX_ERROR else line[: MAX_ERROR - 1] + "…"
    return f": {line}" if len(errors) == 1 else f"; the first: {line}"


def _unmatched(run: RunData) -> str:
    """Why nothing was collected, when files that hold tests have names python_files misses."""
    patterns = ", ".join((run.collect_settings or CollectSettings()).python_files)
    return (
        f"pytest collected no test: python_files ({patterns}) matches none of these files, "
        "which hold tests: " + ", ".join(run.unmatched)
    )


def _keyed(test: TestRecord) -> tuple[str, str]:
    return (test.cell, test.nodeid)


def _named(test: TestRecord) -> str:
    return f"{test.nodeid} [{test.cell}]" if test.cell else test.nodeid


def _skipped(tests: tuple[TestRecord, ...]) -> tuple[TestRecord, ...]:
    skips = (Outcome.SKIPPED, Outcome.XFAILED)
    return tuple(t for t in tests if t.attempts[-1].outcome in skips)


def decide(run: RunData, policy: Policy, gating: Gating | None = None) -> Verdict:
    gating = gating or Gating()
    counts = count(run)
    failing = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
    failures = tuple(t for t in run.tests if t.attempts[-1].outcome in failing)
    if gating.rank:  # new failures first, then flaky-known, known, quarantined
        failures = tuple(sorted(failures, key=lambda t: gating.rank.get(_keyed(t), 0)))
    excused = sum(1 for t in failures if _keyed(t) in gating.excused)
    rate = pass_rate(counts, excused)
    # reasons the gate could not see the whole truth, the root causes first (how the session
    # ended, collection errors), then what they led to; then reasons the policy was not met
    blind: list[str] = list(run.session.root_causes)
    policy_reasons: list[str] = []
    attempted = counts.attempted
    if run.collect_errors:
        blind.append(
            f"{len(run.collect_errors)} collection error(s): tests in "
            f"{', '.join(e.nodeid or '<root>' for e in run.collect_errors[:3])}"
            f"{' and more' if len(run.collect_errors) > 3 else ''} could not be collected"
            + _first_error(run.collect_errors)
        )
    explained = bool(run.session.root_causes or (run.collect_errors and not run.tests))
    # a reason that follows from the root cause is left out: it would only guess at it
    blind.extend(p for p in run.problems if not (explained and p.endswith(f"({STOPPED_EARLY})")))
    if counts.interrupted:
        blind.append(
            f"{counts.interrupted} test(s) never finished (no call phase and no skip): "
            "the run was cut short"
        )
    # why the run found nothing, before what follows (an empty run allowed is not news)
    if run.unmatched and not run.tests and not policy.allow_no_tests:
        blind.append(_unmatched(run))
    # the exit code of a session that ended on a root cause, or of one a collection error
    # interrupted (2) before any test ran, follows from it; a stopped run has none of its own
    if not (run.session.stopped or run.session.root_causes) and not (
        run.collect_errors and run.exit_code == 2 and not run.tests
    ):
        blind.extend(_exit_code_reasons(run.exit_code, counts, policy))
    if attempted == 0:
        if not policy.allow_no_tests:
            blind.append(
                "no test was attempted (passed + failed + errors = 0); "
                "use --allow-no-tests if an empty run is expected"
            )
    elif gating.fail_on == "new":
        new = [
            t for t in failures if _keyed(t) not in gating.excused and _keyed(t) not in gating.known
        ]
        if new:
            policy_reasons.append(
                f"{len(new)} new failure(s) (--fail-on new: failures that also failed before "
                f"do not count): {', '.join(_named(t) for t in new[:3])}"
                + (" and more" if len(new) > 3 else "")
            )
    elif rate is not None and counts.passed * 100 < Fraction(policy.threshold) * (
        attempted - excused
    ):  # exact, any precision
        left_out = f"; {excused} quarantined failure(s) left out" if excused else ""
        policy_reasons.append(
            f"pass rate {format_percent(rate)}% is below the threshold "
            f"{format_threshold(policy.threshold)}% ({counts.passed} of {attempted - excused} "
            f"passed{left_out})"
        )
    ignored_files = files_ignored(run.ignored)
    if policy.max_ignored is not None and ignored_files > policy.max_ignored:
        policy_reasons.append(
            f"{ignored_files} test file(s) are ignored, more than the allowed "
            f"{policy.max_ignored} (--max-ignored): "
            + ", ".join(i.path for i in run.ignored[:3])
            + (" and more" if len(run.ignored) > 3 else "")
        )
    policy_reasons.extend(gating.reasons)
    reasons = tuple(dict.fromkeys(blind + policy_reasons))
    # the same as sorted(..., reverse=True)[:10], ties in run order, without sorting them all
    slowest = tuple(heapq.nlargest(10, run.tests, key=lambda t: t.duration))
    return Verdict(
        passed=not reasons,
        reasons=reasons,
        blind=bool(blind),
        counts=counts,
        pass_rate=rate,
        threshold=policy.threshold,
        failures=failures,
        collect_errors=run.collect_errors,
        flaky=tuple(t for t in run.tests if len(t.attempts) > 1 and t.flaky),
        slowest=slowest,
        skipped=_skipped(run.tests) if counts.skipped or counts.xfailed else (),
        ignored=run.ignored,
        seed=run.seed,
        exit_code=run.exit_code,
        blind_reasons=tuple(dict.fromkeys(blind)),
        excused=excused,
    )
