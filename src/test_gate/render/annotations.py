"""Annotations: the most useful first, within GitHub's per-step budget, then a pointer to the
rest."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_threshold, percent_text
from test_gate.read.records import Outcome, TestRecord
from test_gate.read.values import is_absolute
from test_gate.render import unrun
from test_gate.render.annotation import MESSAGE_LIMIT, Annotation, Level
from test_gate.render.escape import one_line, visible

if TYPE_CHECKING:
    from test_gate.analyse.history import HistoryFacts

PER_LEVEL = 10  # errors, warnings and notices each; a composite action's steps share one budget


def _test_annotation(level: Level, test: TestRecord, title: str, message: str) -> Annotation:
    last = test.last
    # a crash outside the repository (an absolute path, POSIX or Windows) cannot be annotated
    use_crash = bool(last.crash_path and last.crash_line and not is_absolute(last.crash_path))
    return Annotation(
        level=level,
        title=f"{title}: {test.nodeid}" + (f" [{test.cell}]" if test.cell else ""),
        message=message[:MESSAGE_LIMIT],
        file=last.crash_path if use_crash else test.path,
        line=last.crash_line if use_crash else test.line,
    )


def render(result: GateResult) -> list[Annotation]:
    """Every annotation of the run, within the budget, at paths from the repository root."""
    extra = [
        *_history_warnings(result.history),
        *unrun.warnings_for(result.run),
        *_diagnosis_notices(result),
    ]
    notes = prefixed(
        from_verdict(result.verdict, extra, result.history, result.changed, result.path_prefix),
        result.path_prefix,
    )
    # test text may hold bidi, zero-width or control characters: each is shown, not obeyed
    return [replace(a, message=visible(a.message), title=visible(a.title)) for a in notes]


def _history_warnings(facts: HistoryFacts | None) -> list[Annotation]:
    if facts is None:  # the history's views are imported when there is a history
        return []
    from test_gate.render import history as history_view

    return history_view.warnings(facts)


def _diagnosis_notices(result: GateResult) -> list[Annotation]:
    if result.diagnosis is None:  # the diagnosis's view is imported when there is one
        return []
    from test_gate.render import diagnosis as diagnosis_view

    return diagnosis_view.notices(result.diagnosis, result.verdict.failures)


def failure_text(test: TestRecord, kind: str) -> str:
    """What an annotation at the failing line says: the exception, and that line; the whole
    traceback stays in the summary."""
    message = test.last.message or kind
    failing = [ln[1:].strip() for ln in test.last.longrepr.splitlines() if ln.startswith(">")]
    return f"{message}\n> {failing[-1]}" if failing else message


def _level(history: HistoryFacts | None, test: TestRecord) -> tuple[Level, str]:
    """With a history: a quarantined failure is a notice, a known one a warning when only new
    failures gate; every title says which kind it is."""
    if history is None:
        return "error", ""
    from test_gate.render import history as history_view

    label = history_view.label(history, (test.cell, test.nodeid))
    if not label:
        return "error", ""
    if label == "quarantined":
        return "notice", " (quarantined)"
    if label != "new" and history.fail_on == "new":
        return "warning", f" ({label})"
    return "error", f" ({label})"


def from_verdict(
    verdict: Verdict,
    extra: Sequence[Annotation] = (),
    history: HistoryFacts | None = None,
    changed: frozenset[str] = frozenset(),
    prefix: str = "",
) -> list[Annotation]:
    """Failures and errors as errors (new failures first), flaky tests as warnings; `extra`
    (ignored files, …) competes for the same slots after them. On a pull request, the tests
    in files it changes come first, each kind in its order. A notice says what did not fit."""
    rate = percent_text(verdict.pass_rate)
    headline = Annotation(
        "error" if not verdict.passed else "notice",
        one_line(
            f"pass rate {rate}, threshold {format_threshold(verdict.threshold)}%"
            + ("".join(f"; {r}" for r in verdict.reasons)),
            MESSAGE_LIMIT,
        ),
        title=f"test-gate {'failed' if not verdict.passed else 'passed'}",
    )
    candidates: list[Annotation] = [headline]
    for test in verdict.failures:
        kind = "error" if test.outcome is not Outcome.FAILED else "failed"
        level, which = _level(history, test)
        candidates.append(
            _test_annotation(level, test, f"Test {kind}{which}", failure_text(test, kind))
        )
    for error in verdict.collect_errors:
        candidates.append(
            Annotation(
                "error",
                (error.longrepr or error.message)[:MESSAGE_LIMIT],
                title=f"Collection error: {error.nodeid}",
                file=error.nodeid.split("::", 1)[0],
            )
        )
    for test in verdict.flaky:
        candidates.append(
            _test_annotation(
                "warning",
                test,
                "Flaky test",
                f"passed after {len(test.attempts) - 1} rerun(s); first failure: "
                f"{test.attempts[0].message}",
            )
        )
    if changed:  # a stable sort: the order within each part stays
        candidates[1:] = sorted(
            candidates[1:],
            key=lambda a: not (a.file and posixpath.normpath(prefix + a.file) in changed),
        )
    candidates.extend(extra)
    return budget(candidates)


def budget(candidates: Sequence[Annotation]) -> list[Annotation]:
    kept: list[Annotation] = []
    used: dict[Level, int] = {"error": 0, "warning": 0, "notice": 0}
    dropped: dict[Level, int] = {"error": 0, "warning": 0, "notice": 0}
    reserve_notice = 1
    for item in candidates:
        limit = PER_LEVEL - (reserve_notice if item.level == "notice" else 0)
        if used[item.level] < limit:
            kept.append(item)
            used[item.level] += 1
        else:
            dropped[item.level] += 1
    if any(dropped.values()):
        parts = [f"{n} {level}{'s' if n != 1 else ''}" for level, n in dropped.items() if n]
        kept.append(
            Annotation(
                "notice",
                f"{', '.join(parts)} more: GitHub shows only {PER_LEVEL} annotations of each "
                "kind per step. The job summary lists them; the result file has every one.",
                title="test-gate: more in the job summary",
            )
        )
    return kept


def prefixed(items: Sequence[Annotation], prefix: str) -> list[Annotation]:
    """Test paths are relative to pytest's rootdir; annotations want the repository root."""
    if not prefix:
        return list(items)
    return [replace(a, file=posixpath.normpath(prefix + a.file)) if a.file else a for a in items]
