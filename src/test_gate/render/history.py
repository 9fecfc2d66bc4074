"""What the history and the quarantine add to the page, the terminal and the result file, the
run as the store keeps it, and the `history` and `quarantine suggest` commands' text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from test_gate.analyse.history import Broad, FailureClass, HistoryFacts, TestFlips
from test_gate.analyse.result import GateResult
from test_gate.analyse.stability import Stable
from test_gate.analyse.verdict import format_threshold, percent_number, percent_text
from test_gate.read.history import Key, PastRun
from test_gate.read.history_runs import RunEntry
from test_gate.read.identity import Identity
from test_gate.render.annotation import Annotation
from test_gate.render.escape import code, md, one_line
from test_gate.render.markdown import Block, Section, table

LABELS: dict[FailureClass, str] = {
    "new": "new",
    "known": "known",
    "flaky-known": "flaky-known",
    "quarantined": "quarantined",
}


def run_entry(
    result: GateResult, identity: Identity, lane: str, categories: Mapping[Key, str]
) -> RunEntry:
    verdict, c = result.verdict, result.verdict.counts
    kind = "merge" if result.merge else "run" if result.seed is not None else "gate"
    run: dict[str, object] = {
        "run_key": identity.run_key,
        "time": identity.time,
        "commit_sha": identity.commit,
        "branch": identity.branch,
        "lane": lane,
        "cell": result.cell,
        "kind": kind,
        "seed": verdict.seed,
        "verdict": verdict.label,
        "blind": int(verdict.blind),
        "pass_rate": percent_number(verdict.pass_rate),
        "passed": c.passed,
        "failed": c.failed,
        "error": c.error,
        "skipped": c.skipped,
        "xfailed": c.xfailed,
        "xpassed": c.xpassed,
        "interrupted": c.interrupted,
        "flaky": c.flaky,
        "reruns": c.reruns,
        "collected": c.collected,
        "wall_time": result.run.session.seconds,
        "repository": identity.repository,
        "workflow": identity.workflow,
        "base": (identity.base or "") if identity.pull_request else "",
        "pull_request": int(identity.pull_request),
    }
    tests = [
        (
            t.cell,
            t.nodeid,
            t.outcome.value,
            len(t.attempts),
            round(t.duration * 1000),
            categories.get((t.cell, t.nodeid)),
        )
        for t in result.run.tests
    ]
    return RunEntry(run, tests)


def _name(test: Key) -> str:
    return f"{test[1]} [{test[0]}]" if test[0] else test[1]


def label(facts: HistoryFacts | None, test: Key) -> str:
    """A failure's class, as the page and the annotations name it ("" without history)."""
    if facts is None:
        return ""
    found = facts.classes.get(test)
    return LABELS[found] if found else ""


def counted(facts: HistoryFacts) -> str:
    """ "2 new, 1 known": the failures by class, the new first."""
    return ", ".join(
        f"{facts.count(kind)} {LABELS[kind]}"
        for kind in ("new", "flaky-known", "known", "quarantined")
        if facts.count(kind)
    )


def headline(facts: HistoryFacts) -> str:
    """One line under the counts: where this run sits in its history."""
    parts = []
    if facts.path:
        base = f" (base {md(facts.base)})" if facts.base else ""
        parts.append(f"**History** branch {md(facts.branch)}{base}, {md(facts.lane or 'run')}")
        limit = (
            f", limit {format_threshold(facts.max_flaky_rate)}%"
            if facts.max_flaky_rate is not None
            else ""
        )
        parts.append(
            f"flaky rate {percent_text(facts.flaky_rate)} over {facts.window} run(s) "
            f"({facts.flaky_tests} of {facts.ran} tests flaky at least once{limit}"
            f"{_from_pull_requests(facts)})"
        )
        if failures := counted(facts):
            parts.append("failures: " + failures)
        if facts.stable is not None:
            parts.append(stable_text(facts.stable))
    if facts.quarantine_file:
        parts.append(f"**Quarantine** {len(facts.quarantined)} test(s) matched")
    lines = [" · ".join(parts)]
    lines += [f"> ⚠️ {md(broad_text(b, facts.quarantine_file), 500)}" for b in facts.broad]
    lines += [f"> ℹ️ {md(notice, 500)}" for notice in facts.notices]
    return "\n\n".join(lines)


def _from_pull_requests(facts: HistoryFacts) -> str:
    n = facts.pull_request_flaky
    return f"; {n} of them only in pull requests into this branch" if n else ""


def stable_text(found: Stable) -> str:
    """`stable: 2 of the 3 runs in a row at 98% or more` (--require-stable)."""
    mark = "met" if found.met else "not met"
    return (
        f"stable ({mark}): {min(found.streak, found.required)} of the {found.required} runs in "
        f"a row at {format_threshold(found.threshold)}% or more"
    )


def _chart(points: Sequence[tuple[str, float | None]]) -> str:
    """A Mermaid line of the pass rate: GitHub draws it in a job summary. Numbers only."""
    rates = [r for _, r in points if r is not None]
    if len(rates) < 2:
        return ""
    low = max(0, int(min(rates)) - 1)
    values = ", ".join(f"{r:.2f}" if r is not None else f"{low}" for _, r in points)
    labels = ", ".join(f'"{n}"' for n, _ in points)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Pass rate, oldest to newest"',
            f"    x-axis [{labels}]",
            f'    y-axis "pass rate (%)" {low} --> 100',
            f"    line [{values}]",
            "```",
        ]
    )


def _trend_rows(runs: Sequence[PastRun], current: PastRun | None) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for run in [*runs, *([current] if current else [])]:
        rate = f"{run.pass_rate:.2f}%" if run.pass_rate is not None else "n/a"
        wall = f"{run.wall_time:.1f} s" if run.wall_time is not None else "n/a"
        name = "this run" if run is current else f"#{run.id}"
        rows.append(
            (
                name,
                md(run.time.replace("T", " ")[:16], 20),
                code(run.commit[:8], in_table=True) if run.commit else "",
                "✅" if run.verdict == "pass" else "❌",
                rate,
                str(run.flaky),
                str(run.failed),
                wall,
            )
        )
    return rows


def _current(result: GateResult, facts: HistoryFacts) -> PastRun:
    verdict = result.verdict
    return PastRun(
        id=0,
        time=facts.time,
        commit=facts.commit,
        branch="",
        verdict=verdict.label,
        pass_rate=percent_number(verdict.pass_rate),
        passed=verdict.counts.passed,
        failed=verdict.counts.failed + verdict.counts.error,
        flaky=verdict.counts.flaky,
        tests=verdict.counts.attempted,
        wall_time=result.run.session.seconds,
    )


def _flips_rows(flakiest: Sequence[TestFlips]) -> list[tuple[str, ...]]:
    return [
        (
            code(_name(f.key), in_table=True),
            f"{f.flaky} of {f.runs}",
            percent_text(f.flip_rate),
        )
        for f in flakiest
    ]


def trend_section(result: GateResult) -> Section | None:
    facts = result.history
    if facts is None or not facts.path:
        return None
    current = _current(result, facts)
    chart = _chart([(f"#{r.id}", r.pass_rate) for r in facts.trend] + [("now", current.pass_rate)])
    blocks: list[Block] = []
    if chart:
        blocks.append(Block(chart + "\n", ""))
    blocks.extend(
        table(
            ("run", "time (UTC)", "commit", "verdict", "pass rate", "flaky", "failed", "time"),
            _trend_rows(facts.trend, current),
        )
    )
    if facts.flakiest:
        blocks.append(Block("\n**Flakiest in the window**\n", "\n**Flakiest in the window**\n"))
        blocks.extend(table(("test", "flaky in", "flip rate"), _flips_rows(facts.flakiest)))
    return Section(
        f"Across runs (last {len(facts.trend) + 1})",
        tuple(blocks),
        intro="This run and the runs before it on this branch, in this lane. "
        + FLIPS_LEGEND.strip(),
        what="rows",
    )


FLIPS_LEGEND = (
    "  (flaky in a run: it failed, then passed on a rerun within that run; the flip rate: how "
    "often its final outcome changed from one run to the next. A test flaky in every run "
    "always ended passed: 0% flips)"
)
LISTED = 10  # unmatched entries named one by one; the rest are counted


def broad_text(broad: Broad, file: str) -> str:
    """One line for a quarantine entry that matches a large part of the suite."""
    share = broad.matched * 100 // broad.tests if broad.tests else 0
    return (
        f"quarantine entry {broad.entry.id!r} ({file}:{broad.entry.line}, owner "
        f"{broad.entry.owner}) matches {broad.matched} of the run's {broad.tests} tests "
        f"({share}%): every failure among them is excused"
    )


def warnings(facts: HistoryFacts | None) -> list[Annotation]:
    """A broad quarantine entry is a warning annotation (its file and line in the message:
    annotation paths are taken from pytest's rootdir, the quarantine file's from here)."""
    if facts is None:
        return []
    return [
        Annotation(
            "warning",
            broad_text(b, facts.quarantine_file),
            title="test-gate: a broad quarantine entry",
        )
        for b in facts.broad
    ]


def quarantine_section(
    facts: HistoryFacts | None, listed: frozenset[Key] = frozenset()
) -> Section | None:
    """The quarantine's state: expired entries, the quarantined tests not already listed with
    the failures, entries to release and entries that match nothing."""
    if facts is None or not facts.quarantine_file:
        return None
    blocks: list[Block] = []
    for entry in facts.expired:
        line = (
            f"- ❌ expired on {entry.expires.isoformat()}: {code(entry.id)} (line {entry.line}, "
            f"owner {md(entry.owner)}): {md(entry.reason)}"
        )
        blocks.append(Block(line, line))
    rest = [q for q in facts.quarantined if (q.cell, q.nodeid) not in listed]
    if rest:
        rows = [
            (
                code(_name((q.cell, q.nodeid)), in_table=True),
                q.outcome,
                md(q.entry.reason, 200),
                md(q.entry.owner, 100),
                q.entry.expires.isoformat() + (" (expired)" if q.expired else ""),
            )
            for q in rest
        ]
        blocks.extend(table(("test", "outcome", "reason", "owner", "expires"), rows))
    for release in facts.release:
        line = (
            f"- 🔓 {code(release.nodeid)} passed in each of its last {release.runs} runs: "
            f"remove its entry (line {release.entry.line})"
        )
        blocks.append(Block(line, line))
    for entry in facts.unmatched[:LISTED]:
        line = f"- ⚠️ {code(entry.id)} (line {entry.line}) matches no test of this run"
        blocks.append(Block(line, line))
    if len(facts.unmatched) > LISTED:
        line = (
            f"- ⚠️ {len(facts.unmatched) - LISTED} more entries match no test of this run "
            "(the result file lists them)"
        )
        blocks.append(Block(line, line))
    if not blocks:
        return None
    return Section(
        f"Quarantine ({len(facts.quarantined)} tests)",
        tuple(blocks),
        intro=f"From {code(facts.quarantine_file)}. Quarantined tests run and are listed here; "
        "their failures do not count against the gate.",
        what="entries",
    )


def terminal_lines(facts: HistoryFacts) -> str:
    lines = []
    if facts.path:
        base = f", base {facts.base}" if facts.base else ""
        lines.append(
            f"  history: branch {one_line(facts.branch, 100)}{base}; flaky rate "
            f"{percent_text(facts.flaky_rate)} over {facts.window} run(s) ({facts.flaky_tests} of "
            f"{facts.ran} tests{_from_pull_requests(facts)})"
        )
    if failures := counted(facts):
        lines.append(f"  failures: {failures}")
    if facts.stable is not None:
        lines.append(f"  {stable_text(facts.stable)}")
    for entry in facts.expired:
        lines.append(f"  quarantine: {one_line(entry.id, 200)} expired on {entry.expires}")
    for broad in facts.broad:
        lines.append(f"  quarantine: {one_line(broad_text(broad, facts.quarantine_file), 400)}")
    for entry in facts.unmatched[:LISTED]:
        lines.append(f"  quarantine: {one_line(entry.id, 200)} matches no test")
    if len(facts.unmatched) > LISTED:
        lines.append(
            f"  quarantine: {len(facts.unmatched) - LISTED} more entries match no test (in the "
            "result file)"
        )
    for release in facts.release:
        lines.append(
            f"  quarantine: {one_line(release.nodeid, 200)} passed its last {release.runs} "
            "runs: remove its entry"
        )
    lines += [f"  note: {one_line(n, 300)}" for n in facts.notices]
    return "".join(line + "\n" for line in lines)


def _flips_data(flips: TestFlips) -> dict[str, Any]:
    """One unstable test, in the result file and in `test-gate history --json` alike."""
    return {
        "nodeid": flips.key[1],
        "cell": flips.key[0] or None,
        "runs": flips.runs,
        "flaky": flips.flaky,
        "flips": flips.flips,
        "flip_rate": percent_number(flips.flip_rate) or 0.0,
    }


def result_keys(facts: HistoryFacts) -> dict[str, Any]:
    return {
        "history": {
            "file": facts.path or None,
            "branch": facts.branch or None,
            "base": facts.base,
            "lane": facts.lane,
            "window": facts.window,
            "flaky_rate": percent_number(facts.flaky_rate),
            "flaky_tests": facts.flaky_tests,
            "tests_ran": facts.ran,
            "pull_request_flaky": facts.pull_request_flaky,
            "failures": [
                {"nodeid": k[1], "cell": k[0] or None, "class": c} for k, c in facts.classes.items()
            ],
            "flakiest": [_flips_data(f) for f in facts.flakiest],
            "notices": list(facts.notices),
            "stable": None
            if facts.stable is None
            else {
                "required": facts.stable.required,
                "threshold": format_threshold(facts.stable.threshold),
                "streak": facts.stable.streak,
                "met": facts.stable.met,
                "below": [r.id for r in facts.stable.below],
            },
        },
        "quarantine": {
            "file": facts.quarantine_file,
            "tests": [
                {
                    "nodeid": q.nodeid,
                    "cell": q.cell or None,
                    "outcome": q.outcome,
                    "entry": q.entry.id,
                    "expires": q.entry.expires.isoformat(),
                    "expired": q.expired,
                }
                for q in facts.quarantined
            ],
            "expired": [e.id for e in facts.expired],
            "unmatched": [e.id for e in facts.unmatched],
            "release": [r.nodeid for r in facts.release],
            "broad": [
                {"entry": b.entry.id, "line": b.entry.line, "matched": b.matched, "tests": b.tests}
                for b in facts.broad
            ],
            "max_quarantined": facts.max_quarantined,
        }
        if facts.quarantine_file
        else None,
    }
