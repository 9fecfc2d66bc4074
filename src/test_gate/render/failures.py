"""The tests that failed, as the summary shows them: one table row per test, saying what it
is (new, known, order-dependent and its polluter, broken, quarantined, a service it could not
reach), then each test's details folded away. Every finding about a test is said in its row
and its details, and nowhere else on the page."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from test_gate.analyse.result import GateResult
from test_gate.read.records import Attempt, Outcome, TestRecord
from test_gate.render.command import wrapped
from test_gate.render.escape import code, code_block, html, md, node_cell, one_line
from test_gate.render.markdown import Block, Section, table

if TYPE_CHECKING:  # a diagnosis's, a history's and a merge's, imported with one
    from test_gate.analyse.findings import Examined
    from test_gate.analyse.history import Quarantined
    from test_gate.analyse.merge import CellFinding
    from test_gate.render.diagnosis import Explained

Key = tuple[str, str]  # (cell, test id)
TRACEBACK_LIMIT = 8_000
# pytest's advice to rerun with -v, in an assertion's message: noise where no one can
_VERBOSE_HINT = re.compile(r"^(E\s+)?\s*Use -v to get (more|the full) diff\s*$\n?", re.M)
OUTCOMES = {Outcome.ERROR: "error", Outcome.INTERRUPTED: "never finished"}


def clean(text: str) -> str:
    """A message or a traceback without pytest's "Use -v to get more diff"."""
    return _VERBOSE_HINT.sub("", text) if "Use -v" in text else text


Word = tuple[str, str]  # what a test is, as (plain text, Markdown): ("new", "**new**")


@dataclass(frozen=True)
class Entry:
    test: TestRecord
    outcome: str
    what: tuple[Word, ...]
    explained: Explained | None = None
    examined: Examined | None = None
    quarantined: Quarantined | None = None
    finding: CellFinding | None = None  # a merged job's own diagnosis of it


def _outcome(test: TestRecord, examined: Examined | None, main_seed: int | None) -> str:
    last = test.last.outcome
    if last in (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED):
        word = OUTCOMES.get(last, "failed")
        return f"{word} ({len(test.attempts)} attempts)" if len(test.attempts) > 1 else word
    if test.flaky:
        return f"flaky: passed on attempt {len(test.attempts)}"
    if examined is not None and examined.seed is not None and examined.seed != main_seed:
        return f"{last.value} (failed with seed {examined.seed})"
    return str(last.value)


def _unfinished(nodeid: str) -> TestRecord:
    return TestRecord(nodeid, nodeid.split("::", 1)[0], None, (Attempt(Outcome.INTERRUPTED),), -1)


def _label(result: GateResult, key: Key) -> str:
    """What the history calls a failure ("new", "known", …); "" without a history."""
    if result.history is None:
        return ""
    from test_gate.render import history as history_view

    return history_view.label(result.history, key)


def entries(result: GateResult) -> list[Entry]:
    """The failures in the verdict's order (new first, with a history), then the flaky
    tests, then tests that failed only in another order; each once."""
    verdict, diagnosis, history = result.verdict, result.diagnosis, result.history
    examined = {e.nodeid: e for e in diagnosis.examined} if diagnosis else {}
    services: dict[str, str] = {}
    for group in result.unreachable:
        for unreachable in group.tests:
            services[unreachable.nodeid] = group.endpoint
    quarantined: Mapping[Key, Quarantined] = (
        {(q.cell, q.nodeid): q for q in history.quarantined} if history else {}
    )
    findings = {(f.cell, f.nodeid): f for f in result.merge.findings} if result.merge else {}
    tests: list[TestRecord] = list(verdict.failures)
    if result.merge is None:  # a merge lists its flaky tests by cell
        tests += verdict.flaky
    keys = {(t.cell, t.nodeid) for t in tests}
    others = [n for n in examined if ("", n) not in keys]
    if others:
        wanted = set(others)
        found_here = [t for t in result.run.tests if t.nodeid in wanted and not t.cell]
        # a test the run was stopped in (a hang) has no record: it never finished
        missing = wanted - {t.nodeid for t in found_here}
        tests += found_here + [_unfinished(n) for n in others if n in missing]
    out = []
    for test in tests:
        key = (test.cell, test.nodeid)
        found = examined.get(test.nodeid) if not test.cell else None
        explained = None
        if found:
            from test_gate.render import diagnosis as diagnosis_view

            explained = diagnosis_view.explain(found, result.seed)
        what: list[Word] = []
        label = _label(result, key)
        if label:
            what.append((label, f"**{label}**"))
        if explained is not None:
            what.append((explained.plain, explained.what))
        elif test.flaky:
            what.append(("flaky", "flaky"))
        finding = findings.get(key)
        if finding is not None:
            word = "order-dependent" if finding.category == "order_dependent" else "broken"
            what.append((word, word))
        if test.nodeid in services:
            endpoint = services[test.nodeid]
            where = f" ({code(endpoint, in_table=True)})" if endpoint else ""
            plain = f" ({endpoint})" if endpoint else ""
            what.append((f"service unreachable{plain}", f"service unreachable{where}"))
        out.append(
            Entry(
                test,
                _outcome(test, found, result.seed),
                tuple(what),
                explained,
                found,
                quarantined.get(key),
                finding,
            )
        )
    return out


def _name(test: TestRecord, *, in_table: bool = False) -> str:
    cell = f" in {md(test.cell)}" if test.cell else ""
    return (node_cell(test.nodeid) if in_table else code(test.nodeid)) + cell


def first_line(test: TestRecord) -> str:
    message = clean(test.last.message if not test.flaky else test.attempts[0].message)
    return message.strip().partition("\n")[0]


def kind(entry: Entry) -> Literal["failed", "flaky", "other"]:
    """Failed in this run; flaky (failed, then passed on a rerun); or failed in another order."""
    if entry.test.last.outcome in OUTCOMES or entry.test.last.outcome == Outcome.FAILED:
        return "failed"
    return "flaky" if entry.test.flaky else "other"


def _title(items: Sequence[Entry], result: GateResult) -> str:
    kinds = [kind(e) for e in items]
    failed, flaky, other = (kinds.count(k) for k in ("failed", "flaky", "other"))
    split = ""
    if result.history and failed:
        from test_gate.render import history as history_view

        split = history_view.counted(result.history)
    parts = []
    if failed:
        parts.append(f"Failures ({failed}{': ' + split if split else ''})")
    if flaky:
        parts.append(f"flaky tests ({flaky})" if parts else f"Flaky tests ({flaky})")
    if other:
        parts.append(f"{'f' if parts else 'F'}ailed in another order ({other})")
    return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


def section(result: GateResult, items: Sequence[Entry]) -> Section | None:
    """One table, a row per test; under it, what the diagnosis cost and left out."""
    if not items:
        return None
    rows = [
        (
            _name(e.test, in_table=True),
            md(e.outcome),
            " · ".join(m for _, m in e.what) or "–",
            md(first_line(e.test), 200) or "–",
        )
        for e in items
    ]
    blocks = table(("test", "outcome", "what it is", "message"), rows)
    if result.diagnosis is not None:
        from test_gate.render import diagnosis as diagnosis_view

        lines = diagnosis_view.diagnosis_lines(result.diagnosis)
        if lines:
            blocks = (*blocks, Block("\n" + lines[0].full, "\n" + lines[0].full), *lines[1:])
    intro = ""
    if any(e.test.flaky for e in items):
        intro = "A flaky test failed, then passed on a rerun: it counts as passed. Fix it anyway."
    return Section(_title(items, result), blocks, intro=intro, what="tests")


def _command(label: str, command: str) -> str:
    return f"{label}:\n\n{code_block(wrapped(command), 'sh')}"


def _cut(text: str) -> str:
    if len(text) > TRACEBACK_LIMIT:
        return text[:TRACEBACK_LIMIT] + f"\n[... {len(text) - TRACEBACK_LIMIT} characters cut]"
    return text


def _details(entry: Entry) -> str:
    test = entry.test
    parts: list[str] = []
    if entry.explained is not None:
        parts.append(entry.explained.sentence)
        parts += [_command(label, cmd) for label, cmd in entry.explained.commands if cmd]
    if entry.finding is not None:
        parts.append(f"Its job's diagnosis in {md(entry.finding.cell)}: {md(entry.finding.detail)}")
        if entry.finding.command:
            parts.append(_command("Reproduce", entry.finding.command))
    if entry.quarantined is not None:
        q = entry.quarantined.entry
        expiry = "expired" if entry.quarantined.expired else "expires"
        parts.append(
            f"Quarantined (line {q.line}): {md(q.reason)}; owner {md(q.owner)}; {expiry} "
            f"{q.expires.isoformat()}."
        )
    attempt = test.attempts[0] if test.flaky else test.last
    if test.cell == "" and attempt.crash_path and attempt.crash_line:
        parts.append(f"At {code(f'{attempt.crash_path}:{attempt.crash_line}')}.")
    trace = clean(attempt.longrepr).strip()
    message = clean(attempt.message).strip()
    if trace:
        parts.append(code_block(_cut(trace), "text"))
    elif "\n" in message:
        parts.append(code_block(_cut(message), "text"))
    summary = f"<code>{html(one_line(test.nodeid))}</code>" + (
        f" in {html(one_line(test.cell))}" if test.cell else ""
    )
    return f"<details><summary>{summary}</summary>\n\n" + "\n\n".join(parts) + "\n\n</details>"


def _has_details(entry: Entry) -> bool:
    attempt = entry.test.attempts[0] if entry.test.flaky else entry.test.last
    return bool(
        entry.explained
        or entry.finding
        or entry.quarantined
        or attempt.longrepr
        or "\n" in attempt.message.strip()
    )


def details_section(items: Sequence[Entry]) -> Section | None:
    """Each test's finding, commands and traceback, folded: the page shows them when room is
    left, after every other section's entries."""
    shown = [e for e in items if _has_details(e)]
    if not shown:
        return None
    return Section(
        f"Details ({len(shown)})",
        tuple(Block(_details(e), optional=True) for e in shown),
        what="tests' details",
    )


def listed(items: Sequence[Entry]) -> frozenset[Key]:
    return frozenset((e.test.cell, e.test.nodeid) for e in items)
