"""The job summary: which sections, in which order, from the one result.

Verdict, rate and seed come first; then failures and what explains them; then what else
happened (flaky, ignored, deselected, never ran, slowest). `markdown.page` fits them under
GitHub's size limit.
"""

from __future__ import annotations

from test_gate.analyse.history import HistoryFacts
from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_threshold, percent_text
from test_gate.read.records import Outcome, TestRecord
from test_gate.render import diagnosis as diagnosis_view
from test_gate.render import history as history_view
from test_gate.render import merge as merge_view
from test_gate.render import unrun
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
    lines = [
        f"## {icon} test-gate {word}",
        "",
        f"**Pass rate {rate}** ({c.passed} of {attempted} attempted tests passed) · "
        f"threshold {format_threshold(verdict.threshold)}%",
    ]
    if verdict.reasons:
        lines += ["", "**Why the gate failed:**", ""]
        lines += [f"- {md(reason, 1000)}" for reason in verdict.reasons[:MAX_REASONS]]
        more = len(verdict.reasons) - MAX_REASONS
        if more > 0:
            lines.append(f"- … and {more} more reasons: the result file has every one")
    return "\n".join(lines)


def _counts_table(verdict: Verdict) -> str:
    c = verdict.counts
    cells = [
        ("passed", c.passed),
        ("failed", c.failed),
        ("errors", c.error),
        ("skipped", c.skipped),
        ("xfailed", c.xfailed),
        ("xpassed", c.xpassed),
        ("flaky", c.flaky),
        ("reruns", c.reruns),
        ("collected", c.collected),
        ("deselected", c.deselected),
    ]
    if c.interrupted:
        cells.insert(3, ("interrupted", c.interrupted))
    head = "| " + " | ".join(name for name, _ in cells) + " |"
    rule = "|" + "---:|" * len(cells)
    row = "| " + " | ".join(str(value) for _, value in cells) + " |"
    return "\n".join([head, rule, row])


def _reproduce(verdict: Verdict, command: str | None) -> str:
    if verdict.seed is None and command is None:
        return ""
    lines: list[str] = []
    if verdict.seed is not None:
        lines.append(f"**Seed** {code(verdict.seed)}")
    if command:
        lines += ["", "Reproduce this exact order:", "", code_block(command, "sh")]
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms"


def _where(test: TestRecord) -> str:
    attempt = test.last
    if attempt.crash_path and attempt.crash_line:
        path = attempt.crash_path
        return f"{path}:{attempt.crash_line}"
    return f"{test.path}:{test.line}" if test.line else test.path


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


def _failure_block(test: TestRecord, history: HistoryFacts | None = None) -> Block:
    kind = {Outcome.ERROR: "error", Outcome.INTERRUPTED: "never finished"}.get(
        test.outcome, "failed"
    )
    label = history_view.label(history, (test.cell, test.nodeid))
    message = test.last.message or kind
    headline, _, more = message.partition("\n")
    cell = f" in {md(test.cell)}" if test.cell else ""
    which = f"{kind}, **{label}**" if label else kind
    line = f"- {code(test.nodeid)}{cell} ({which}) at {code(_where(test))}: {md(headline)}"
    full = line
    if more.strip():  # the message keeps its lines: `assert 4 == 5` / `+ where 4 = add(2, 2)`
        body = "\n".join("  " + ln if ln else "" for ln in code_block(message, "text").split("\n"))
        full = f"{line}\n\n{body}\n"
    if not test.last.longrepr:
        return Block(full, line)
    return Block(_with_details(full, "traceback", test.last.longrepr), line)


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
    """The interpreter that ran the tests, and what the gate did about the user's settings."""
    lines = []
    env = dict(result.run.environment)
    if result.run.session.python or env:
        parts = [f"{name} {version}" for name, version in env.items() if name != "os"]
        where = f" · {md(env['os'])}" if env.get("os") else ""
        python = f" · {code(result.run.session.python)}" if result.run.session.python else ""
        lines.append(f"**Environment** {md(' · '.join(parts))}{where}{python}")
    lines += [f"> ℹ️ {md(notice, 500)}" for notice in result.notices]
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


def failures_section(verdict: Verdict, history: HistoryFacts | None = None) -> Section | None:
    """Every failure; with a history, the new ones first, each named new or known."""
    if not verdict.failures:
        return None
    split = history_view.counted(history) if history else ""
    return Section(
        f"Failures ({len(verdict.failures)}{': ' + split if split else ''})",
        tuple(_failure_block(t, history) for t in verdict.failures),
        what="failures",
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


def flaky_section(verdict: Verdict) -> Section | None:
    if not verdict.flaky:
        return None
    rows = [
        (code(t.nodeid, in_table=True), str(len(t.attempts)), md(t.attempts[0].message))
        for t in verdict.flaky
    ]
    return Section(
        f"Flaky tests ({len(verdict.flaky)})",
        table(("test", "attempts", "first failure"), rows),
        intro="Failed, then passed on a rerun. They count as passed; fix them anyway.",
        what="flaky tests",
    )


def skipped_section(result: GateResult) -> Section | None:
    """Skipped and xfailed tests, grouped by reason (the largest group first), each folded."""
    skipped = [t for t in result.run.tests if t.outcome in (Outcome.SKIPPED, Outcome.XFAILED)]
    if not skipped:
        return None
    groups: dict[tuple[str, str], list[TestRecord]] = {}
    for test in skipped:
        reason = one_line(test.last.message.removeprefix("Skipped: ") or "no reason given", 200)
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
    candidates = [
        stopped_section(result),
        *(merge_view.sections(merged) if merged else ()),
        failures_section(verdict, result.history),
        history_view.quarantine_section(result.history),
        collect_errors_section(verdict),
        diagnosis_view.unreachable_section(result.unreachable),
        diagnosis and diagnosis_view.diagnosis_section(diagnosis, result.seed),
        diagnosis and diagnosis_view.order_section(diagnosis, result.reproduce),
        *(merge_view.later_sections(merged) if merged else [flaky_section(verdict)]),
        skipped_section(result),
        unrun.ignored_section(run.ignored),
        unrun.deselected_section(run.deselected_files),
        unrun.never_ran_section(run.never_ran),
        history_view.trend_section(result),
        slowest_section(verdict),
        tests_wrote_section(result),
    ]
    return [s for s in candidates if s]


def render(result: GateResult, limit: int = SUMMARY_LIMIT) -> str:
    """The whole summary, never over `limit` bytes."""
    verdict = result.verdict
    head = "\n\n".join(
        part
        for part in (
            _headline(verdict),
            _counts_table(verdict),
            merge_view.cells_table(result.merge) if result.merge else _where_it_ran(result),
            history_view.headline(result.history) if result.history else "",
            _setting_lines(result),
            _reproduce(verdict, result.command),
        )
        if part
    )
    return page(head, sections(result), limit)
