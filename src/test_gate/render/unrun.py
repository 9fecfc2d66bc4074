"""What never ran, as text: ignored test files, tests deselected per file, modules collected
but never run. Summary sections, the warning annotations that land on the line ignoring each
file, result keys, terminal lines, and the audit table of `test-gate ignored`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from test_gate.read.records import DeselectedFile, IgnoredPath, NeverRan, RunData, files_ignored
from test_gate.render.annotation import MESSAGE_LIMIT, Annotation
from test_gate.render.escape import code, md, one_line
from test_gate.render.markdown import Section, table

MAX_LISTED = 10


def tests_text(tests: int | None, estimate: bool) -> str:
    if tests is None:
        return "?"
    return f"~{tests}" if estimate else str(tests)


def path_text(item: IgnoredPath) -> str:
    if item.path.endswith("/") and item.files != 1:
        return f"{item.path} ({item.files} files)"
    return item.path


def ignored_row(item: IgnoredPath) -> tuple[str, str, str, str]:
    """(file, tests, why, where) as Markdown table cells."""
    return (
        code(path_text(item), in_table=True),
        tests_text(item.tests, item.estimate),
        code(item.why, in_table=True),
        code(item.source, in_table=True) if item.source else "unknown",
    )


def ignored_section(items: Sequence[IgnoredPath]) -> Section | None:
    if not items:
        return None
    return Section(
        f"Ignored test files ({files_ignored(items)})",
        table(("file", "tests", "why", "where"), [ignored_row(i) for i in items]),
        intro="These test files were never run. Tests are counted from the source "
        "(~: an estimate).",
        what="ignored files",
    )


def deselected_section(items: Sequence[DeselectedFile]) -> Section | None:
    if not items:
        return None
    total = sum(d.count for d in items)
    rows = [
        (code(d.path, in_table=True), str(d.count), code(d.mechanism, in_table=True)) for d in items
    ]
    return Section(
        f"Deselected tests ({total} in {len({d.path for d in items})} files)",
        table(("file", "deselected", "by"), rows),
        intro="Collected, then dropped before the run. They are outside the pass rate.",
        what="files",
    )


def never_ran_section(items: Sequence[NeverRan]) -> Section | None:
    if not items:
        return None
    rows = [
        (
            code(n.path + (f":{n.line}" if n.line else ""), in_table=True),
            tests_text(n.tests, n.estimate),
            md(n.how),
            md(n.reason) if n.reason else "",
        )
        for n in items
    ]
    return Section(
        f"Collected but never ran ({len(items)} modules)",
        table(("module", "tests", "how", "reason"), rows),
        intro="Every test of these modules was skipped: they count for nothing.",
        what="modules",
    )


def annotation(item: IgnoredPath) -> Annotation:
    """A warning on the line that ignores the file (the config, conftest or workflow line)."""
    tests = tests_text(item.tests, item.estimate)
    message = (
        f"{path_text(item)} ({tests} tests) never runs: {item.why}"
        + (f" ({item.origin})" if item.origin and item.origin not in item.why else "")
        + (f", at {item.source}" if item.source else "")
    )
    return Annotation(
        "warning",
        one_line(message, MESSAGE_LIMIT),
        title=f"Ignored test file: {item.path}",
        file=item.source_file,
        line=item.source_line if item.source_file else None,
    )


def warnings_for(run: RunData) -> list[Annotation]:
    return [annotation(i) for i in run.ignored]


def result_extra(run: RunData) -> dict[str, Any]:
    return {
        "ignored_files": files_ignored(run.ignored),
        "deselected_by_file": [
            {"path": d.path, "mechanism": d.mechanism, "count": d.count}
            for d in run.deselected_files
        ],
        "never_ran": [
            {
                "path": n.path,
                "how": n.how,
                "reason": n.reason,
                "line": n.line,
                "tests": n.tests,
                "estimate": n.estimate,
            }
            for n in run.never_ran
        ],
    }


def terminal_lines(run: RunData) -> str:
    """Lines for the verdict block: what was deselected or never ran (ignored files are in
    the verdict block already)."""
    lines = []
    if run.deselected_files:
        total = sum(d.count for d in run.deselected_files)
        lines.append(f"  deselected tests: {total}")
        for d in run.deselected_files[:MAX_LISTED]:
            lines.append(f"    {d.path}: {d.count} ({one_line(d.mechanism, 120)})")
    if run.never_ran:
        lines.append(f"  collected but never ran: {len(run.never_ran)} module(s)")
        for n in run.never_ran[:MAX_LISTED]:
            reason = f": {one_line(n.reason, 120)}" if n.reason else ""
            lines.append(f"    {n.path} ({n.how}{reason})")
    return "".join(line + "\n" for line in lines)


def audit(run: RunData) -> str:
    """The plain-text report of `test-gate ignored`."""
    lines = []
    files = files_ignored(run.ignored)
    if run.ignored:
        lines.append(f"{files} test file(s) never run:")
        width = max(len(path_text(i)) for i in run.ignored)
        for i in run.ignored:
            lines.append(
                f"  {path_text(i):<{width}}  {tests_text(i.tests, i.estimate):>4} tests  "
                f"{i.why}  ({i.source or 'unknown'})"
            )
    else:
        lines.append("No test file is ignored.")
    extra = terminal_lines(run)
    if extra:
        lines.append(extra.rstrip("\n"))
    return "\n".join(lines) + "\n"
