"""Result files of other jobs (shards, matrix cells) read back into typed records, for a
merge. Anything that is not a readable test-gate result of the schema this test-gate writes
is a problem that names the file, never a file skipped.

A result file is data from another job, and anything on the way could have changed it, so it
is checked against itself before its tests are merged: every number is bounded before it
sizes anything, the counts must be the ones its rows give, its verdict the one its reasons
give, its shard the one its ids and digest give. A file that contradicts itself is refused
with every contradiction named.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_test_gate.split import MAX_SHARDS, SplitError, digest, parse_shard

from test_gate.read.records import (
    Attempt,
    CollectError,
    IgnoredPath,
    NeverRan,
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
MAX_ATTEMPTS = 1001  # a test run once and rerun up to 1,000 times
MAX_RERUNS = 1_000_000  # reruns one result file may claim in all
MAX_COUNT = 100_000_000  # tests in a suite, or any count of them
MAX_CELL = 100
COUNTED = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "interrupted")
_HEX = re.compile(r"[0-9a-f]{64}")


class ResultRefused(ReportError):
    """A result file that contradicts itself: every contradiction, one line each."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines[0])
        self.lines = tuple(lines)


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
    never_ran: tuple[NeverRan, ...] = ()
    asked: tuple[int, int] | None = None  # the shard it was asked to run, K of N
    reasons: tuple[str, ...] = ()

    @property
    def part(self) -> tuple[int, int] | None:
        """K of N: the shard it ran, or was asked to run when it could not say (a crash)."""
        return (self.shard.index, self.shard.total) if self.shard is not None else self.asked

    @property
    def shard_label(self) -> str:
        part = self.part
        return f"{part[0]}/{part[1]}" if part else ""


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


def _head(data: Any, path: Path) -> None:
    """A test-gate result of this schema, of one job: else why it cannot be merged."""
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
            f"{text(data.get('version'))[:40] or 'unknown'}) and this test-gate merges schema "
            f"{SCHEMA}: "
            + (
                "upgrade test-gate for the merge"
                if newer
                else "run every job with the same test-gate version"
            )
        )
    kind = data.get("kind")
    if kind == "merge":
        raise ReportError(f"result {path} is already a merge: merge the jobs' own results")
    if kind not in ("run", "gate"):
        raise ReportError(f"result {path}: its kind is {text(kind)[:40]!r}, not run or gate")


def read_result(path: Path) -> JobResult:
    """One result file; ReportError when it cannot be merged, with the reason (ResultRefused,
    with every reason, when it contradicts itself)."""
    data = read_json(path, "result")
    _head(data, path)
    findings = Findings(f"result {path}")
    cell = _cell(data.get("cell"), findings)
    rows = as_list(data.get("tests"), "its tests", findings)
    tests = tuple(_tests(rows, data, cell, findings))
    errors = tuple(
        CollectError(text(e.get("nodeid")), text(e.get("message")), "")
        for e in _dicts(data.get("collection_errors"))
    )
    verdict, reasons, blind = _verdict(data, findings)
    collected, deselected = _counts(data.get("counts"), tests, len(errors), findings)
    shard, asked = _shard(data, tests, findings)
    if asked is not None and shard is None and not blind:
        findings.add(
            f"it was asked for shard {asked[0]}/{asked[1]} and does not say which tests it was "
            "given, yet gives no reason it could not see its run: it contradicts itself"
        )
    if shard is not None and shard.ids and len(shard.ids) != collected - deselected:
        findings.add(
            f"its shard was given {len(shard.ids)} test(s), but it collected {collected} and "
            f"deselected {deselected}: it contradicts itself"
        )
    kept = collected - deselected
    if len(tests) > kept:
        findings.add(
            f"it lists {len(tests)} test(s), more than the {kept} it collected and kept: it "
            "contradicts itself"
        )
    elif verdict == "pass" and shard is None and len(tests) < kept:
        findings.add(
            f"it passed, yet {kept - len(tests)} of the {kept} tests it collected and kept have "
            "no row: it contradicts itself"
        )
    problems = findings.lines()
    if problems:
        raise ResultRefused(problems)
    seed = data.get("seed")
    wall = data.get("wall_time")
    return JobResult(
        source=str(path),
        cell=cell,
        shard=shard,
        seed=text(seed)[:40]
        if isinstance(seed, (int, str)) and not isinstance(seed, bool)
        else None,
        verdict=verdict,
        blind_reasons=blind,
        tests=tests,
        collect_errors=errors,
        ignored=tuple(_ignored(data.get("ignored"))),
        collected=collected,
        deselected=deselected,
        wall_time=number(wall) if isinstance(wall, (int, float)) and number(wall) >= 0 else None,
        python=text(data.get("python"))[:200],
        order_dependent=tuple(_dicts(data.get("order_dependent"))),
        broken=tuple(_dicts(data.get("broken"))),
        version=text(data.get("version"))[:40],
        never_ran=tuple(_never_ran(data.get("never_ran"))),
        asked=asked,
        reasons=reasons,
    )


def read_results(paths: Iterable[Path]) -> tuple[list[JobResult], list[str]]:
    """Every result file that can be merged, and for each one that cannot, why (a refused
    file gives every reason it found)."""
    jobs: list[JobResult] = []
    problems: list[str] = []
    for path in paths:
        try:
            jobs.append(read_result(path))
        except ResultRefused as exc:
            problems.extend(exc.lines)
        except ReportError as exc:
            problems.append(str(exc))
    return jobs, problems


def _cell(value: Any, findings: Findings) -> str:
    if value is None:
        return "default"
    name = value if isinstance(value, str) else ""
    if not name.strip() or len(name) > MAX_CELL or not name.isprintable():
        findings.add(
            f"its cell {text(value)[:60]!r} is not a cell name (up to {MAX_CELL} printable "
            "characters on one line)"
        )
        return "default"
    return name.strip()


def _strings(value: Any, where: str, findings: Findings) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    findings.add(f"{where} is {type(value).__name__}, not a list of strings")
    return ()


def _verdict(
    data: dict[str, Any], findings: Findings
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The job's verdict, its reasons, and those of them that say it could not see its run:
    a verdict agrees with its reasons (a fail has at least one, a pass none)."""
    verdict = data.get("verdict")
    if verdict not in ("pass", "fail"):
        findings.add(f"its verdict is {text(verdict)[:40]!r}, not pass or fail")
        verdict = "fail"
    reasons = _strings(data.get("reasons"), "its reasons", findings)
    blind = _strings(data.get("blind_reasons"), "its blind_reasons", findings)
    if (verdict == "pass") != (not reasons):
        findings.add(
            f"its verdict is {verdict} with {len(reasons)} reason(s): a pass has none and a fail "
            "at least one, so it contradicts itself"
        )
    if any(r not in reasons for r in blind):
        findings.add("a blind reason is not among its reasons: it contradicts itself")
    return verdict, reasons, blind


def _counts(
    value: Any, tests: Sequence[TestRecord], errors: int, findings: Findings
) -> tuple[int, int]:
    """The counts must be the ones the rows give (collection errors count as errors);
    collected and deselected are bounded. Returns those two."""
    counts = as_dict(value, "its counts", findings)
    if counts is None:
        findings.add("it has no counts")
        return 0, 0
    said: dict[str, int] = {}
    for name in (*COUNTED, "flaky", "reruns", "collected", "deselected"):
        found = integer(counts.get(name))
        if found is None or not 0 <= found <= MAX_COUNT:
            findings.add(
                f"its count {name} is {text(counts.get(name))[:40]}, not a whole number from 0 "
                f"to {MAX_COUNT:,}"
            )
            found = 0
        said[name] = found
    outcomes = Counter(t.attempts[-1].outcome.value for t in tests)
    rows = {name: outcomes[name] for name in COUNTED}
    rows["error"] += errors
    rows["flaky"] = sum(1 for t in tests if t.flaky)
    rows["reruns"] = sum(len(t.attempts) - 1 for t in tests)
    wrong = [f"{n} {said[n]} where its rows give {rows[n]}" for n in rows if said[n] != rows[n]]
    if wrong and not findings.grouped:  # rows it could not read: that is the root cause
        findings.add(f"its counts contradict its tests: {', '.join(wrong)}")
    if said["deselected"] > said["collected"]:
        findings.add(
            f"it deselected {said['deselected']} of the {said['collected']} tests it collected: "
            "it contradicts itself"
        )
        return said["collected"], 0
    return said["collected"], said["deselected"]


def _shard(
    data: dict[str, Any], tests: Sequence[TestRecord], findings: Findings
) -> tuple[ShardInfo | None, tuple[int, int] | None]:
    """The shard the job ran, checked against its own ids and digest; else the shard it was
    asked to run, when the job could not say (it crashed before it split the suite)."""
    asked = None
    if data.get("shard_asked") is not None:
        try:
            asked = parse_shard(text(data.get("shard_asked"))[:20])
        except SplitError as exc:
            findings.add(f"its shard_asked is not K/N: {exc}")
    try:
        shard = shard_info(data.get("shard"))
    except ShardUnreadable as exc:
        findings.add(str(exc))
        return None, asked
    if shard is None:
        return None, asked
    if asked is not None and asked != (shard.index, shard.total):
        findings.add(f"it was asked for shard {asked[0]}/{asked[1]} and ran {shard.label}")
    if shard.total > MAX_SHARDS or shard.suite > MAX_COUNT:
        findings.add(
            f"its shard claims {shard.label} of a suite of {shard.suite:,} tests, over the limits "
            f"({MAX_SHARDS:,} shards, {MAX_COUNT:,} tests)"
        )
        return None, asked
    ids = set(shard.ids)
    if len(ids) != len(shard.ids):
        findings.add(f"its shard lists {len(shard.ids) - len(ids)} test(s) twice")
    if len(ids) > shard.suite:
        findings.add(
            f"its shard was given {len(ids)} tests of a suite of {shard.suite}: it contradicts "
            "itself"
        )
    if digest(shard.ids) != shard.ids_digest:
        findings.add("its shard's ids do not match their digest (ids_digest)")
    if not _HEX.fullmatch(shard.suite_digest):
        findings.add("its shard's suite_digest is not a digest")
    extra = [t.nodeid for t in tests if t.nodeid not in ids]
    if extra:
        findings.add(
            f"its shard ran {len(extra)} test(s) it was not given, e.g. {sorted(extra)[0]}: it "
            "contradicts itself"
        )
    return shard, None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _row_ok(row: Any) -> bool:
    return (
        isinstance(row, list)
        and len(row) == 4
        and isinstance(row[0], str)
        and bool(row[0])
        and isinstance(row[1], str)
        and row[1] in OUTCOMES
        and integer(row[2]) is not None
        and 1 <= row[2] <= MAX_ATTEMPTS
        and isinstance(row[3], (int, float))
        and not isinstance(row[3], bool)
        and math.isfinite(row[3])
        and row[3] >= 0
    )


def _tests(
    rows: list[Any], data: dict[str, Any], cell: str, findings: Findings
) -> Iterable[TestRecord]:
    """The compact rows, with what the result says of each failure and flaky test; a row
    of the wrong shape, a test listed twice, or more reruns than a file may claim is a
    problem (and no attempt is made for it)."""
    failures = {text(f.get("nodeid")): f for f in _dicts(data.get("failures"))}
    flaky = {text(f.get("nodeid")): f for f in _dicts(data.get("flaky"))}
    seen: set[str] = set()
    reruns = 0
    for order, row in enumerate(rows):
        if not _row_ok(row):
            findings.test(
                f"rows are not [id, outcome, attempts from 1 to {MAX_ATTEMPTS}, seconds]",
                text(row)[:200],
            )
            continue
        nodeid, outcome, attempts, seconds = row[0], OUTCOMES[row[1]], row[2], float(row[3])
        if nodeid in seen:
            findings.test("are listed more than once", nodeid[:200])
            continue
        seen.add(nodeid)
        reruns += attempts - 1
        if reruns > MAX_RERUNS:
            findings.add(f"it claims more than {MAX_RERUNS:,} reruns in all")
            return
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
            tests=_bounded(item.get("tests")),
            files=_bounded(item.get("files")) or 1,
            pattern=text(item.get("pattern")),
            origin=text(item.get("origin")),
            source_line=_bounded(item.get("line")),
            estimate=bool(item.get("tests_estimated")),
        )


def _never_ran(value: Any) -> Iterable[NeverRan]:
    for item in _dicts(value):
        yield NeverRan(
            path=text(item.get("path")),
            how=text(item.get("how")),
            reason=text(item.get("reason")),
            line=_bounded(item.get("line")),
            tests=_bounded(item.get("tests")),
            estimate=bool(item.get("estimate")),
        )


def _bounded(value: Any) -> int | None:
    found = integer(value)
    return found if found is not None and 0 <= found <= MAX_COUNT else None
