"""The short verdict block printed after pytest's own output."""

from __future__ import annotations

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_threshold, percent_text
from test_gate.read.records import files_ignored
from test_gate.render import failures, unrun
from test_gate.render.escape import one_line
from test_gate.render.summary import counts_line as summary_counts
from test_gate.render.summary import skip_reason

MAX_LISTED = 10
MAX_REASONS = 20
MAX_REASONS_SKIPPED = 5


def render(result: GateResult) -> str:
    """The verdict block, then what never ran, then the diagnosis."""
    text = verdict_block(result) + unrun.terminal_lines(result.run)
    # a merge's, a history's and a diagnosis's views are imported when there is one to show
    if result.merge is not None:
        from test_gate.render import merge as merge_view

        text += merge_view.terminal_lines(result.merge)
    elif result.run.shard is not None:
        shard = result.run.shard
        text += (
            f"  cell {one_line(result.cell, 100)}, shard {shard.label}: {len(shard.ids)} of "
            f"{shard.suite} tests\n"
        )
    session = result.run.session
    if session.python:
        text += f"  python {session.python}\n"
    text += "".join(f"  note: {one_line(n, 300)}\n" for n in result.notices)
    if result.history is not None:
        from test_gate.render import history as history_view

        text += history_view.terminal_lines(result.history)
    if session.tests_summary.strip() or session.tests_outputs.strip():
        text += (
            "  the tests wrote to the job summary or step outputs: shown as text at the end of "
            "the summary; their outputs are dropped\n"
        )
    if result.diagnosis is not None:
        from test_gate.render import diagnosis as diagnosis_view

        text += diagnosis_view.terminal_lines(result.diagnosis)
    return text


def _counts(verdict: Verdict) -> str:
    """The counts that are not 0, as the summary says them."""
    return summary_counts(verdict).replace(" · ", ", ")


def _tests(result: GateResult) -> list[str]:
    """Each failing, flaky or order-sensitive test once: what it is, its message, and what
    the diagnosis found, with the command that shows it."""
    items = failures.entries(result)
    lines: list[str] = []
    for title, kind in (
        ("failed", "failed"),
        ("flaky", "flaky"),
        ("failed in another order", "other"),
    ):
        group = [e for e in items if failures.kind(e) == kind]
        if not group:
            continue
        lines.append(f"  {title}:")
        for entry in group[:MAX_LISTED]:
            cell = f" [{entry.test.cell}]" if entry.test.cell else ""
            what = ", ".join(plain for plain, _ in entry.what)
            lines.append(f"    {entry.test.nodeid}{cell}" + (f" ({what})" if what else ""))
            message = failures.first_line(entry.test)
            if message:
                lines.append(f"      {one_line(message, 200)}")
            if entry.examined is not None:
                from test_gate.render import diagnosis as diagnosis_view

                lines += [
                    f"      {line}" for line in diagnosis_view.terminal_detail(entry.examined)
                ]
        if len(group) > MAX_LISTED:
            lines.append(f"    … and {len(group) - MAX_LISTED} more")
    return lines


def _skipped(result: GateResult) -> list[str]:
    """Skipped and xfailed tests by reason, the largest group first."""
    groups: dict[tuple[str, str], int] = {}
    for test in result.verdict.skipped:
        reason = one_line(skip_reason(test), 120)
        key = (test.outcome.value, reason)
        groups[key] = groups.get(key, 0) + 1
    if not groups:
        return []
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    lines = ["  skipped and xfailed, by reason:"]
    lines += [f"    {kind}: {reason} ({n})" for (kind, reason), n in ranked[:MAX_REASONS_SKIPPED]]
    if len(ranked) > MAX_REASONS_SKIPPED:
        lines.append(f"    … and {len(ranked) - MAX_REASONS_SKIPPED} more reasons")
    return lines


def verdict_block(result: GateResult) -> str:
    verdict, command = result.verdict, result.command
    c = verdict.counts
    counted = c.attempted - verdict.excused
    rate = percent_text(verdict.pass_rate)
    word = "PASSED" if verdict.passed else "FAILED"
    left_out = f"; {verdict.excused} quarantined failure(s) left out" if verdict.excused else ""
    lines = [
        "",
        "=" * 24 + " test-gate " + "=" * 24,
        f"test-gate {word}: pass rate {rate} ({c.passed} of {counted}{left_out}), "
        f"threshold {format_threshold(verdict.threshold)}%",
        f"  {_counts(verdict)}",
    ]
    for reason in verdict.reasons[:MAX_REASONS]:
        lines.append(f"  ✗ {one_line(reason, 500)}")
    if len(verdict.reasons) > MAX_REASONS:
        lines.append(f"  ✗ … and {len(verdict.reasons) - MAX_REASONS} more (in the result file)")
    lines += _tests(result)
    lines += _skipped(result)
    if verdict.ignored:
        lines.append(f"  ignored test files: {files_ignored(verdict.ignored)}")
        for item in verdict.ignored[:MAX_LISTED]:
            files = f"{item.files} files, " if item.files > 1 else ""
            lines.append(
                f"    {item.path} ({files}{item.mechanism}"
                f"{', ' + item.source if item.source else ''})"
            )
    if verdict.seed is not None:
        lines.append(f"  seed {verdict.seed}")
    if command:
        lines.append(f"  reproduce: {command}")
    return "\n".join(lines) + "\n"
