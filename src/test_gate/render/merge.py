"""What a merge adds to the page, the terminal and the result file: a row per cell, the
slowest shard, and the failures told apart across cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from test_gate.analyse.merge import AcrossCells, MergeFacts
from test_gate.analyse.verdict import percent_number, percent_text
from test_gate.render.escape import code, code_block, md, one_line
from test_gate.render.markdown import Block, Section, table

MAX_LISTED = 10


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def cells_table(facts: MergeFacts) -> str:
    """A row per cell, and the slowest shard: where the workflow's time went."""
    head = (
        "| cell | jobs | passed | failed | errors | skipped | flaky | pass rate | wall time |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for row in facts.cells:
        c = row.counts
        jobs = f"{row.jobs} of {row.shards} shards" if row.shards else str(row.jobs)
        rows.append(
            f"| {md(row.cell)} | {jobs} | {c.passed} | {c.failed} | {c.error} | {c.skipped} | "
            f"{c.flaky} | {percent_text(row.pass_rate)} | {_seconds(row.wall_time)} |"
        )
    lines = [head, *rows]
    slowest = facts.slowest
    if slowest is not None and len(facts.jobs) > 1:
        lines += [
            "",
            f"**Slowest job** {md(slowest.name)}: {_seconds(slowest.wall_time)} "
            f"({slowest.tests} tests), of {len(facts.jobs)} jobs",
        ]
    return "\n".join(lines)


def _cells(entry: AcrossCells) -> str:
    return ", ".join(entry.cells)


def _across_section(
    title: str, entries: Sequence[AcrossCells], head: Sequence[str], intro: str
) -> Section | None:
    """A table of tests with the cells they failed (or were flaky) in; with four columns,
    also the cells where they passed."""
    if not entries:
        return None
    rows = [
        (
            code(e.nodeid, in_table=True),
            md(_cells(e)),
            *([md(", ".join(e.other_cells))] if len(head) == 4 else []),
            md(e.message),
        )
        for e in entries
    ]
    return Section(f"{title} ({len(entries)})", table(head, rows), intro=intro, what="tests")


def sections(facts: MergeFacts) -> list[Section]:
    """Before the per-test failures: what fails everywhere, what fails on some platforms."""
    found = [
        _across_section(
            "Failing in every cell they ran in",
            facts.broken,
            ("test", "cells", "message"),
            "Broken wherever they ran: not a platform's doing.",
        ),
        _across_section(
            "Failing in some cells only",
            facts.some_cells,
            ("test", "failed in", "passed in", "message"),
            "Platform- or version-specific: they pass elsewhere.",
        ),
    ]
    return [section for section in found if section]


def later_sections(
    facts: MergeFacts, listed: frozenset[tuple[str, str]] = frozenset()
) -> list[Section]:
    """After the failures: the jobs' own diagnoses of tests not listed with the failures,
    flaky tests by cell, and every job."""
    out: list[Section] = []
    findings = [f for f in facts.findings if (f.cell, f.nodeid) not in listed]
    if findings:
        blocks = []
        for found in findings:
            what = "order-dependent" if found.category == "order_dependent" else "broken"
            line = f"- {code(found.nodeid)} in {md(found.cell)}: {what}, {md(found.detail)}"
            full = line
            if found.command:
                body = "\n".join("  " + ln for ln in code_block(found.command, "sh").split("\n"))
                full = f"{line}\n\n  Reproduce:\n\n{body}\n"
            blocks.append(Block(full, line))
        out.append(
            Section(
                f"Diagnosed in their cell ({len(findings)})",
                tuple(blocks),
                intro="What each job's diagnosis found, with the command that reproduces it "
                "in that cell.",
                what="tests",
            )
        )
    flaky = _across_section(
        "Flaky somewhere",
        facts.flaky,
        ("test", "flaky in", "first failure"),
        "Failed, then passed on a rerun, in these cells.",
    )
    if flaky:
        out.append(flaky)
    rows = [
        (
            md(j.name),
            md(j.verdict),
            str(j.tests),
            _seconds(j.wall_time),
            code(j.source, in_table=True),
        )
        for j in facts.jobs
    ]
    if rows:
        out.append(
            Section(
                f"Jobs merged ({len(rows)})",
                table(("job", "its own verdict", "tests", "wall time", "result file"), rows),
                what="jobs",
            )
        )
    return out


def terminal_lines(facts: MergeFacts) -> str:
    lines = []
    for row in facts.cells:
        c = row.counts
        jobs = f"{row.jobs}/{row.shards} shards" if row.shards else f"{row.jobs} job(s)"
        lines.append(
            f"  cell {one_line(row.cell, 100)}: {jobs}, passed {c.passed}, failed {c.failed}, "
            f"errors {c.error}, pass rate {percent_text(row.pass_rate)}, {_seconds(row.wall_time)}"
        )
    slowest = facts.slowest
    if slowest is not None and len(facts.jobs) > 1:
        lines.append(f"  slowest job: {one_line(slowest.name, 120)} {_seconds(slowest.wall_time)}")
    for title, entries in (
        ("failing in every cell", facts.broken),
        ("failing in some cells only", facts.some_cells),
    ):
        if entries:
            lines.append(f"  {title}:")
            lines += [f"    {e.nodeid} [{_cells(e)}]" for e in entries[:MAX_LISTED]]
            if len(entries) > MAX_LISTED:
                lines.append(f"    … and {len(entries) - MAX_LISTED} more")
    return "".join(line + "\n" for line in lines)


def _across(entry: AcrossCells) -> dict[str, Any]:
    return {
        "nodeid": entry.nodeid,
        "cells": list(entry.cells),
        "other_cells": list(entry.other_cells),
        "message": entry.message,
    }


def result_keys(facts: MergeFacts) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell": row.cell,
                "jobs": row.jobs,
                "shards": row.shards,
                "passed": row.counts.passed,
                "failed": row.counts.failed,
                "errors": row.counts.error,
                "skipped": row.counts.skipped,
                "flaky": row.counts.flaky,
                "pass_rate": percent_number(row.pass_rate),
                "wall_time": row.wall_time,
                "seed": row.seed,
            }
            for row in facts.cells
        ],
        "jobs": [
            {
                "name": j.name,
                "verdict": j.verdict,
                "tests": j.tests,
                "wall_time": j.wall_time,
                "source": j.source,
            }
            for j in facts.jobs
        ],
        "failing_everywhere": [_across(e) for e in facts.broken],
        "failing_in_some_cells": [_across(e) for e in facts.some_cells],
        "flaky_somewhere": [_across(e) for e in facts.flaky],
        "diagnosed": [
            {
                "cell": f.cell,
                "nodeid": f.nodeid,
                "category": f.category,
                "detail": f.detail,
                "command": f.command or None,
            }
            for f in facts.findings
        ],
    }
