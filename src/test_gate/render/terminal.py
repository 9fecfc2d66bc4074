"""The short verdict block printed after pytest's own output."""

from __future__ import annotations

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_threshold, percent_text
from test_gate.read.records import files_ignored
from test_gate.render import diagnosis as diagnosis_view
from test_gate.render import history as history_view
from test_gate.render import merge as merge_view
from test_gate.render import unrun
from test_gate.render.escape import one_line

MAX_LISTED = 10
MAX_REASONS = 20


def render(result: GateResult) -> str:
    """The verdict block, then what never ran, then the diagnosis."""
    text = verdict_block(result.verdict, result.command) + unrun.terminal_lines(result.run)
    if result.merge is not None:
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
        text += history_view.terminal_lines(result.history)
    if session.tests_summary.strip() or session.tests_outputs.strip():
        text += (
            "  the tests wrote to the job summary or step outputs: shown as text at the end of "
            "the summary; their outputs are dropped\n"
        )
    if result.diagnosis is not None:
        text += diagnosis_view.terminal_lines(result.diagnosis)
    return text


def verdict_block(verdict: Verdict, command: str | None = None) -> str:
    c = verdict.counts
    attempted = c.attempted
    rate = percent_text(verdict.pass_rate)
    word = "PASSED" if verdict.passed else "FAILED"
    lines = [
        "",
        "=" * 24 + " test-gate " + "=" * 24,
        f"test-gate {word}: pass rate {rate} ({c.passed}/{attempted}), "
        f"threshold {format_threshold(verdict.threshold)}%",
        f"  passed {c.passed}, failed {c.failed}, errors {c.error}, skipped {c.skipped}, "
        f"xfailed {c.xfailed}, xpassed {c.xpassed}, flaky {c.flaky}, reruns {c.reruns}",
    ]
    for reason in verdict.reasons[:MAX_REASONS]:
        lines.append(f"  ✗ {one_line(reason, 500)}")
    if len(verdict.reasons) > MAX_REASONS:
        lines.append(f"  ✗ … and {len(verdict.reasons) - MAX_REASONS} more (in the result file)")
    for title, tests in (("failed", verdict.failures), ("flaky", verdict.flaky)):
        if tests:
            lines.append(f"  {title}:")
            for test in tests[:MAX_LISTED]:
                attempt = test.attempts[-1 if title == "failed" else 0]
                cell = f" [{test.cell}]" if test.cell else ""
                lines.append(f"    {test.nodeid}{cell}: {one_line(attempt.message, 160)}")
            if len(tests) > MAX_LISTED:
                lines.append(f"    … and {len(tests) - MAX_LISTED} more")
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
