"""The job summary: which sections, in which order, from the one result.

Verdict, rate and seed come first; then failures and what explains them; then what else
happened (flaky, ignored, deselected, never ran, slowest). `markdown.page` fits them under
GitHub's size limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_threshold, percent_text
from test_gate.read.records import TestRecord
from test_gate.render import failures, unrun
from test_gate.render.command import wrapped
from test_gate.render.escape import code, code_block, html, md, one_line
from test_gate.render.markdown import SUMMARY_LIMIT, Block, Section, page, table

TRACEBACK_LIMIT = 8_000
MAX_REASONS = 20  # in the headline; the result file has every reason
STACK_LINES = 60


def _headline(verdict: Verdict) -> str:
    icon, word = ("✅", "passed") if verdict.passed else ("❌", "failed")
    c = verdict.counts
    attempted = c.attempted
    rate = percent_text(verdict.pass_rate)
    counted = attempted - verdict.excused
    left_out = f"; {verdict.excused} quarantined failure(s) left out" if verdict.excused else ""
    lines = [
        f"## {icon} test-gate {word}",
        "",
        f"**Pass rate {rate}** ({c.passed} of {counted} attempted tests passed{left_out}) · "
        f"threshold {format_threshold(verdict.threshold)}%",
    ]
    if verdict.reasons:
        lines += ["", "**Why the gate failed:**", ""]
        lines += [f"- {md(reason, 1000)}" for reason in verdict.reasons[:MAX_REASONS]]
        more = len(verdict.reasons) - MAX_REASONS
        if more > 0:
            lines.append(f"- … and {more} more reasons: the result file has every one")
    return "\n".join(lines)


def counts_line(verdict: Verdict) -> str:
    """The counts in one line, those that are 0 left out (collected is always said)."""
    c = verdict.counts
    named = [
        ("passed", c.passed),
        ("failed", c.failed),
        ("errors", c.error),
        ("never finished", c.interrupted),
        ("skipped", c.skipped),
        ("xfailed", c.xfailed),
        ("xpassed", c.xpassed),
        ("flaky", c.flaky),
        ("reruns", c.reruns),
        ("deselected", c.deselected),
    ]
    shown = [f"{value} {name}" for name, value in named if value]
    return " · ".join([*shown, f"{c.collected} collected"])


def _reproduce(verdict: Verdict, command: str | None) -> str:
    if verdict.seed is None and command is None:
        return ""
    lines: list[str] = []
    if verdict.seed is not None:
        lines.append(
            f"**Seed** {code(verdict.seed)}" + (": this exact order again with" if command else "")
        )
    if command:
        lines += ["", code_block(wrapped(command), "sh")]
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms"


def _traceback(text: str) -> str:
    if len(text) > TRACEBACK_LIMIT:
        text = text[:TRACEBACK_LIMIT] + f"\n[... {len(text) - TRACEBACK_LIMIT} characters cut]"
    return text


def _with_details(line: str, summary: str, text: str) -> str:
    """A list item with a folded code block. Everything after the bullet line is indented, so
    the <details> and its fenced block stay inside the list item."""
    body = (
        f"<details><summary>{summary}</summary>\n\n"
        + code_block(_traceback(text), "text")
        + "\n\n</details>"
    )
    indented = "\n".join(("  " + ln) if ln else "" for ln in body.split("\n"))
    return f"{line}\n\n{indented}\n"


def _where_it_ran(result: GateResult) -> str:
    """The job's cell, and its part of the suite when it ran a shard."""
    shard = result.run.shard
    if shard is None:
        return f"**Cell** {md(result.cell)}" if result.cell else ""
    return (
        f"**Cell** {md(result.cell)} · **shard {shard.label}**: {len(shard.ids)} of the "
        f"suite's {shard.suite} tests (split by {shard.split_by}); `test-gate merge` puts "
        "the shards together"
    )


def _setting_lines(result: GateResult) -> str:
    """What the gate did about the user's settings, in view; the interpreter and the versions
    that ran the tests, folded."""
    lines = [f"> ℹ️ {md(notice, 500)}" for notice in result.notices]
    env = dict(result.run.environment)
    if result.run.session.python or env:
        items = [f"- {md(name)} {md(version)}" for name, version in env.items() if name != "os"]
        if env.get("os"):
            items.append(f"- {md(env['os'])}")
        if result.run.session.python:
            items.append(f"- {code(result.run.session.python)}")
        lines.append(
            "<details><summary>Environment</summary>\n\n" + "\n".join(items) + "\n\n</details>"
        )
    return "\n\n".join(lines)


def stopped_section(result: GateResult) -> Section | None:
    stacks = result.run.session.stacks.strip()
    if not stacks:
        return None
    # the thread that runs the tests first: it is the one that hangs
    threads = stacks.split("\n\n")
    threads.sort(key=lambda block: not block.startswith("Current thread"))
    lines = "\n\n".join(threads).splitlines()
    short = "\n".join(lines[:STACK_LINES]) + (
        f"\n[... {len(lines) - STACK_LINES} more lines]" if len(lines) > STACK_LINES else ""
    )
    block = code_block(short, "text")
    return Section(
        "Where the run was when it was stopped",
        (Block(block, ""),),
        intro="Every thread's stack, as pytest-test-gate wrote it when test-gate asked, just "
        "before the run was stopped. The test that was running is named above.",
        what="stacks",
    )


def tests_wrote_section(result: GateResult) -> Section | None:
    """What the tests wrote to their job summary and step outputs: shown as text, after the
    gate's own sections, so it can neither hide nor forge the verdict."""
    session = result.run.session
    written, outputs = session.tests_summary.strip(), session.tests_outputs.strip()
    if not (written or outputs):
        return None
    blocks = []
    if written:
        shown = written if len(written) <= TRACEBACK_LIMIT else written[:TRACEBACK_LIMIT]
        cut = f"\n[... {len(written) - len(shown)} characters cut]" if shown != written else ""
        blocks.append(Block(code_block(shown + cut, "markdown"), ""))
    if outputs:
        count = sum(1 for line in outputs.splitlines() if "=" in line or "<<" in line)
        line = (
            f"- The tests also wrote {count} step output line(s); they were dropped: the step's "
            "outputs are test-gate's."
        )
        blocks.append(Block(line, line))
    return Section(
        "Written by the tests, not by test-gate",
        tuple(blocks),
        intro="What the tests wrote to the job summary, shown as text.",
        what="entries",
    )


def collect_errors_section(verdict: Verdict) -> Section | None:
    if not verdict.collect_errors:
        return None
    blocks = []
    for error in verdict.collect_errors:
        line = f"- {code(error.nodeid or '<root>')}: {md(error.message or 'collection failed')}"
        full = _with_details(line, "details", error.longrepr) if error.longrepr else line
        blocks.append(Block(full, line))
    return Section(
        f"Collection errors ({len(verdict.collect_errors)})",
        tuple(blocks),
        what="collection errors",
    )


def skip_reason(test: TestRecord) -> str:
    return test.last.message.removeprefix("Skipped: ") or "no reason given"


def skipped_section(result: GateResult) -> Section | None:
    """Skipped and xfailed tests, grouped by reason (the largest group first), each folded."""
    skipped = result.verdict.skipped
    if not skipped:
        return None
    groups: dict[tuple[str, str], list[TestRecord]] = {}
    for test in skipped:
        reason = one_line(skip_reason(test), 200)
        groups.setdefault((test.outcome.value, reason), []).append(test)
    blocks = []
    for (kind, reason), tests in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        names = "\n".join(f"- {code(t.nodeid)}" for t in tests)
        head = f"{kind}: {html(reason)} ({len(tests)})"
        full = f"<details><summary>{head}</summary>\n\n{names}\n\n</details>"
        blocks.append(Block(full, f"- {kind}: {md(reason)} ({len(tests)})"))
    return Section(
        f"Skipped and xfailed ({len(skipped)})",
        tuple(blocks),
        intro="Outside the pass rate, grouped by reason.",
        what="reasons",
    )


SLOW = 0.1  # seconds: faster tests are noise in a "slowest" table


def slowest_section(verdict: Verdict) -> Section | None:
    """The slowest tests, when one of them is slow enough to matter."""
    timed = [t for t in verdict.slowest if t.duration >= SLOW]
    if not timed:
        return None
    rows = [(code(t.nodeid, in_table=True), _seconds(t.duration), t.outcome.value) for t in timed]
    return Section(
        f"Slowest {len(timed)} tests",
        table(("test", "duration", "outcome"), rows),
        what="tests",
    )


def sections(result: GateResult) -> list[Section]:
    """Every section of the page, most useful first. This is the one place their order is
    decided."""
    verdict, run, diagnosis = result.verdict, result.run, result.diagnosis
    merged = result.merge
    items = failures.entries(result)
    listed = failures.listed(items)
    # a merge's and a history's views are imported when there is one to show, and so is the
    # diagnosis's
    merge_first: Sequence[Section | None] = ()
    merge_later: Sequence[Section | None] = ()
    quarantine = trend = unreachable = orders = None
    if result.unreachable or diagnosis:  # the diagnosis's view, imported when it shows
        from test_gate.render import diagnosis as diagnosis_view

        unreachable = diagnosis_view.unreachable_section(result.unreachable)
        orders = diagnosis and diagnosis_view.order_section(diagnosis, result.reproduce)
    if merged:
        from test_gate.render import merge as merge_view

        merge_first, merge_later = (
            merge_view.sections(merged),
            merge_view.later_sections(merged, listed),
        )
    if result.history:
        from test_gate.render import history as history_view

        quarantine = history_view.quarantine_section(result.history, listed)
        trend = history_view.trend_section(result)
    candidates = [
        stopped_section(result),
        *merge_first,
        failures.section(result, items),
        collect_errors_section(verdict),
        failures.details_section(items),
        quarantine,
        unreachable,
        orders,
        *merge_later,
        skipped_section(result),
        unrun.ignored_section(run.ignored),
        unrun.deselected_section(run.deselected_files),
        unrun.never_ran_section(run.never_ran),
        trend,
        slowest_section(verdict),
        tests_wrote_section(result),
    ]
    return [s for s in candidates if s]


def render(result: GateResult, limit: int = SUMMARY_LIMIT) -> str:
    """The whole summary, never over `limit` bytes."""
    verdict = result.verdict
    where, history = _where_it_ran(result), ""
    if result.merge:
        from test_gate.render import merge as merge_view

        where = merge_view.cells_table(result.merge)
    if result.history:
        from test_gate.render import history as history_view

        history = history_view.headline(result.history)
    head = "\n\n".join(
        part
        for part in (
            _headline(verdict),
            counts_line(verdict),
            where,
            history,
            _setting_lines(result),
            _reproduce(verdict, result.command),
        )
        if part
    )
    return page(head, sections(result), limit)
