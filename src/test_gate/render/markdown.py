"""The job summary: verdict, rate and seed first; then failures; then the rest, within a budget.

GitHub drops a step's whole summary when it passes 1 MiB, so the page is built block by block
under a byte budget; what does not fit is replaced by its compact form, then by a visible note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from test_gate.records import Outcome, TestRecord
from test_gate.render.escape import code, code_block, html, md
from test_gate.verdict import Verdict, format_percent, format_threshold

SUMMARY_LIMIT = 1_000_000
TRACEBACK_LIMIT = 8_000
NOTE_RESERVE = 400


@dataclass(frozen=True)
class Block:
    """A piece of the page; `compact` stands in when `full` does not fit (empty: drop it)."""

    full: str
    compact: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    intro: str = ""
    what: str = "entries"  # named in the note when entries are cut


def _size(text: str) -> int:
    return len(text.encode("utf-8", "backslashreplace"))


def _headline(verdict: Verdict) -> str:
    icon, word = ("✅", "passed") if verdict.passed else ("❌", "failed")
    c = verdict.counts
    attempted = c.attempted + c.interrupted
    rate = f"{format_percent(verdict.pass_rate)}%" if verdict.pass_rate is not None else "n/a"
    lines = [
        f"## {icon} test-gate {word}",
        "",
        f"**Pass rate {rate}** ({c.passed} of {attempted} attempted tests passed) · "
        f"threshold {format_threshold(verdict.threshold)}%",
    ]
    if verdict.reasons:
        lines += ["", "**Why the gate failed:**", ""]
        lines += [f"- {md(reason, 1000)}" for reason in verdict.reasons]
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
    lines = []
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


def _failure_block(test: TestRecord) -> Block:
    kind = {Outcome.ERROR: "error", Outcome.INTERRUPTED: "never finished"}.get(
        test.outcome, "failed"
    )
    message = test.last.message or kind
    line = f"- {code(test.nodeid)} ({kind}) at {code(_where(test))}: {md(message)}"
    if not test.last.longrepr:
        return Block(line, line)
    return Block(_with_details(line, "traceback", test.last.longrepr), line)


def _test_table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> tuple[Block, ...]:
    header = "| " + " | ".join(head) + " |\n|" + "---|" * len(head)
    blocks = [Block(header, header)]
    blocks += [Block("| " + " | ".join(row) + " |") for row in rows]
    return tuple(blocks)


def sections(verdict: Verdict) -> list[Section]:
    """The standard sections, most useful first."""
    out: list[Section] = []
    if verdict.failures:
        out.append(
            Section(
                f"Failures ({len(verdict.failures)})",
                tuple(_failure_block(t) for t in verdict.failures),
                what="failures",
            )
        )
    if verdict.collect_errors:
        blocks = []
        for error in verdict.collect_errors:
            line = f"- {code(error.nodeid or '<root>')}: {md(error.message or 'collection failed')}"
            full = _with_details(line, "details", error.longrepr) if error.longrepr else line
            blocks.append(Block(full, line))
        out.append(
            Section(
                f"Collection errors ({len(verdict.collect_errors)})",
                tuple(blocks),
                what="collection errors",
            )
        )
    if verdict.flaky:
        rows: list[tuple[str, ...]] = [
            (code(t.nodeid, in_table=True), str(len(t.attempts)), md(t.attempts[0].message))
            for t in verdict.flaky
        ]
        out.append(
            Section(
                f"Flaky tests ({len(verdict.flaky)})",
                _test_table(rows, ("test", "attempts", "first failure")),
                intro="Failed, then passed on a rerun. They count as passed; fix them anyway.",
                what="flaky tests",
            )
        )
    if verdict.ignored:
        rows = [
            (
                code(i.path + (f" ({i.files} files)" if i.files != 1 else ""), in_table=True),
                ("?" if i.tests is None else f"{'~' if i.estimate else ''}{i.tests}"),
                code(i.why, in_table=True),
                code(i.source, in_table=True) if i.source else "unknown",
            )
            for i in verdict.ignored
        ]
        files = sum(i.files for i in verdict.ignored)
        out.append(
            Section(
                f"Ignored test files ({files})",
                _test_table(rows, ("file", "tests", "why", "where")),
                intro="These test files were never run. Tests are counted from the source "
                "(~: an estimate).",
                what="ignored files",
            )
        )
    timed = [t for t in verdict.slowest if t.duration > 0]
    if timed:
        rows = [
            (code(t.nodeid, in_table=True), _seconds(t.duration), t.outcome.value) for t in timed
        ]
        out.append(
            Section(
                f"Slowest {len(timed)} tests",
                _test_table(rows, ("test", "duration", "outcome")),
                what="tests",
            )
        )
    return out


def render(
    verdict: Verdict,
    command: str | None = None,
    extra: Sequence[Section] = (),
    limit: int = SUMMARY_LIMIT,
    position: int = 1,
    after_failures: Sequence[Section] = (),
) -> str:
    """The whole summary, never over `limit` bytes. `extra` sections go at `position` among
    the standard ones; `after_failures` right after the failures and collection errors."""
    head = "\n\n".join(
        part
        for part in (_headline(verdict), _counts_table(verdict), _reproduce(verdict, command))
        if part
    )
    parts = [head]
    used = _size(head)
    ordered = sections(verdict)
    ordered[position:position] = list(extra)
    failure_titles = ("Failures (", "Collection errors (")
    at = max(
        (i + 1 for i, sec in enumerate(ordered) if sec.title.startswith(failure_titles)),
        default=0,
    )
    ordered[at:at] = list(after_failures)
    reserve = NOTE_RESERVE * (len(ordered) + 1)  # room for every "not shown" note
    cut_notes: list[str] = []
    # first every section with one line per entry, so that no name is lost to a traceback;
    # then, with the room left, entries get their full form, the most useful sections first
    plans: list[tuple[Section, str, list[str]]] = []
    for section in ordered:
        title = f"### {html(section.title)}"
        opening = title + (f"\n\n{section.intro}" if section.intro else "")
        if used + _size(opening) + 2 + reserve > limit:
            cut_notes.append(f"section “{html(section.title)}”")
            continue
        used += _size(opening) + 2
        chosen: list[str] = []
        for block in section.blocks:
            text = block.compact or block.full
            if used + _size(text) + 1 + reserve > limit:
                break
            chosen.append(text)
            used += _size(text) + 1
        plans.append((section, opening, chosen))
    for section, _, chosen in plans:
        for index, text in enumerate(chosen):
            full = section.blocks[index].full
            grow = _size(full) - _size(text)
            if grow > 0 and used + grow + reserve <= limit:
                chosen[index] = full
                used += grow
    for section, opening, chosen in plans:
        lines = [opening, "", *chosen]
        short = sum(1 for i, text in enumerate(chosen) if text != section.blocks[i].full)
        if short:
            lines.append(
                f"\n> ✂️ {short} {section.what} shown without details: the summary has a size "
                "limit; the result file has every message."
            )
        hidden = len(section.blocks) - len(chosen)
        if hidden:
            lines.append(
                f"\n> ✂️ {hidden} more {section.what} not shown: the summary has a size limit."
            )
        parts.append("\n".join(lines))
    if cut_notes:
        parts.append(
            "> ✂️ Not shown, to stay within GitHub's summary size limit: "
            + ", ".join(cut_notes)
            + ". The result file has everything."
        )
    return "\n\n".join(parts) + "\n"
