"""Result files of other jobs (shards, matrix cells) read back into typed records, for a
merge. Anything that is not a readable test-gate result of the schema this test-gate writes
is a problem that names the file, never a file skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from test_gate.read.records import (
    Attempt,
    CollectError,
    IgnoredPath,
    Outcome,
    ShardInfo,
    TestRecord,
)
from test_gate.read.report import ReportError, read_json
from test_gate.read.shard import ShardUnreadable, shard_info
from test_gate.read.values import Findings, as_dict, as_list, integer, number, text

TOOL = "test-gate"
SCHEMA = 2  # the result schema this test-gate writes and merges
OUTCOMES = {o.value: o for o in Outcome}


@dataclass(frozen=True)
class JobResult:
    """One job's gated run, as its result file says."""

    source: str
    cell: str
    shard: ShardInfo | None
    seed: str | None
    verdict: str
    blind_reasons: tuple[str, ...]
    tests: tuple[TestRecord, ...]
    collect_errors: tuple[CollectError, ...]
    ignored: tuple[IgnoredPath, ...]
    collected: int
    deselected: int
    wall_time: float | None
    python: str
    order_dependent: tuple[dict[str, Any], ...] = ()  # the job's diagnosis entries
    broken: tuple[dict[str, Any], ...] = ()
    version: str = ""


def result_files(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files named, and every `*.json` under the folders named (downloaded artifacts),
    in a stable order; and what could not be used."""
    found: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                Path(root) / name
                for root, _, names in os.walk(path)
                for name in names
                if name.endswith(".json")
            )
            if not inside:
                problems.append(f"{path}: the folder holds no result file (*.json)")
            found.extend(inside)
        else:
            found.append(path)
    return list(dict.fromkeys(found)), problems


def read_result(path: Path) -> JobResult:
    """One result file; ReportError when it cannot be merged, with the reason."""
    data = read_json(path, "result")
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        if isinstance(data, dict) and data.get("schema") == 1 and "verdict" in data:
            raise ReportError(
                f"result {path} was written by test-gate 0.2 or older (result schema 1), which "
                f"does not list its tests: merging needs schema {SCHEMA}; run that job with "
                "this test-gate"
            )
        raise ReportError(f'result {path} is not a test-gate result file (no "tool": "{TOOL}")')
    schema = data.get("schema")
    if schema != SCHEMA:
        newer = isinstance(schema, int) and schema > SCHEMA
        raise ReportError(
            f"result {path} has result schema {schema!r:.20} (test-gate "
            f"{text(data.get('version')) or 'unknown'}) and this test-gate merges schema "
            f"{SCHEMA}: "
            + (
                "upgrade test-gate for the merge"
                if newer
                else "run every job with the same test-gate version"
            )
        )
    if data.get("kind") == "merge":
        raise ReportError(f"result {path} is already a merge: merge the jobs' own results")
    findings = Findings(f"result {path}")
    rows = as_list(data.get("tests"), "its tests", findings)
    cell = text(data.get("cell")) or "default"
    tests = tuple(_tests(rows, data, cell, findings))
    problems = findings.lines()
    if problems:
        raise ReportError(problems[0])
    try:
        shard = shard_info(data.get("shard"))
    except ShardUnreadable as exc:
        raise ReportError(f"result {path}: {exc}") from None
    counts = as_dict(data.get("counts"), "its counts", findings) or {}
    seed = data.get("seed")
    return JobResult(
        source=str(path),
        cell=cell,
        shard=shard,
        seed=text(seed) if isinstance(seed, (int, str)) else None,
        verdict=text(data.get("verdict")),
        blind_reasons=tuple(text(r) for r in as_list(data.get("blind_reasons"), "", findings)),
        tests=tests,
        collect_errors=tuple(
            CollectError(text(e.get("nodeid")), text(e.get("message")), "")
            for e in _dicts(data.get("collection_errors"))
        ),
        ignored=tuple(_ignored(data.get("ignored"))),
        collected=integer(counts.get("collected")) or 0,
        deselected=integer(counts.get("deselected")) or 0,
        wall_time=number(data.get("wall_time")) if data.get("wall_time") is not None else None,
        python=text(data.get("python")),
        order_dependent=tuple(_dicts(data.get("order_dependent"))),
        broken=tuple(_dicts(data.get("broken"))),
        version=text(data.get("version")),
    )


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _tests(
    rows: list[Any], data: dict[str, Any], cell: str, findings: Findings
) -> Iterable[TestRecord]:
    """The compact rows, with what the result says of each failure and flaky test."""
    failures = {text(f.get("nodeid")): f for f in _dicts(data.get("failures"))}
    flaky = {text(f.get("nodeid")): f for f in _dicts(data.get("flaky"))}
    for order, row in enumerate(rows):
        ok = (
            isinstance(row, list)
            and len(row) >= 4
            and isinstance(row[0], str)
            and row[1] in OUTCOMES
            and integer(row[2]) is not None
            and row[2] >= 1
        )
        if not ok:
            findings.test("rows are not [id, outcome, attempts, seconds]", text(row)[:200])
            continue
        nodeid, outcome, attempts = row[0], OUTCOMES[row[1]], row[2]
        seconds = number(row[3])
        failure = failures.get(nodeid)
        last = Attempt(outcome, duration=seconds / attempts)
        line = None
        if failure is not None:
            last = Attempt(
                outcome,
                message=text(failure.get("message")),
                duration=seconds / attempts,
                crash_path=text(failure.get("crash_path")),
                crash_line=integer(failure.get("crash_line")),
            )
            line = integer(failure.get("line"))
        first_failure = text((flaky.get(nodeid) or {}).get("first_failure"))
        earlier = Attempt(Outcome.FAILED, message=first_failure, duration=seconds / attempts)
        yield TestRecord(
            nodeid=nodeid,
            path=nodeid.split("::", 1)[0],
            line=line,
            attempts=(*([earlier] * (attempts - 1)), last),
            order=order,
            cell=cell,
        )


def _ignored(value: Any) -> Iterable[IgnoredPath]:
    for item in _dicts(value):
        yield IgnoredPath(
            path=text(item.get("path")),
            mechanism=text(item.get("mechanism")),
            source=text(item.get("source")),
            tests=integer(item.get("tests")),
            files=integer(item.get("files")) or 1,
            pattern=text(item.get("pattern")),
            origin=text(item.get("origin")),
            source_line=integer(item.get("line")),
            estimate=bool(item.get("tests_estimated")),
        )
