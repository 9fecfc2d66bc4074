"""The result file: the machine-readable contract (schema 1, see the README)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from test_gate import __version__
from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, percent_number
from test_gate.read.records import IgnoredPath, Outcome, ShardInfo, TestRecord
from test_gate.render import unrun

SCHEMA = 2  # 2: what a merge needs (tool, cell, shard, tests, blind reasons, wall time)
TOOL = "test-gate"


def rate_number(verdict: Verdict) -> float | None:
    """The pass rate rounded down to two decimals: never reports more than was earned."""
    return percent_number(verdict.pass_rate)


def ignored_entry(item: IgnoredPath) -> dict[str, Any]:
    return {
        "path": item.path,
        "mechanism": item.mechanism,
        "source": item.source,
        "tests": item.tests,
        "files": item.files,
        "pattern": item.pattern,
        "origin": item.origin,
        "line": item.source_line,
        "tests_estimated": item.estimate,
    }


def _failure(test: TestRecord) -> dict[str, Any]:
    last = test.last
    return {
        "nodeid": test.nodeid,
        "outcome": test.outcome.value,
        "path": test.path,
        "line": test.line,
        "crash_path": last.crash_path or None,
        "crash_line": last.crash_line,
        "message": last.message,
        "attempts": len(test.attempts),
    }


def render(result: GateResult) -> str:
    """The result file's text: indented, but each test's row on one line (a result holds
    every test, and the indenting encoder is pure Python: 60,000 rows cost it 0.5 s)."""
    whole = data(result)
    rows = whole.pop("tests")
    head = json.dumps(whole, indent=2)
    # one C-encoded line, cut between rows: every row starts with its id, a string, and a
    # quote inside a string is escaped, so '], ["' is only ever a boundary between rows
    body = json.dumps(rows)[1:-1].replace('], ["', '],\n    ["')
    tests = f'"tests": [\n    {body}\n  ]' if rows else '"tests": []'
    return head[:-2] + f",\n  {tests}\n}}\n"


def data(result: GateResult) -> dict[str, Any]:
    session = result.run.session
    return {
        **verdict_data(result.verdict, command=result.command),
        "kind": "merge" if result.merge else "run" if result.seed is not None else "gate",
        "cell": result.cell,
        "shard": shard_data(result.run.shard),
        "shard_asked": result.shard_asked or None,
        "wall_time": round(session.seconds, 3) if session.seconds is not None else None,
        "python": session.python or None,
        "environment": dict(result.run.environment),
        "notices": list(result.notices),
        **unrun.result_extra(result.run),
        **_diagnosis_merge_and_history(result),
        "tests": [test_row(t) for t in result.run.tests],
    }


def _diagnosis_merge_and_history(result: GateResult) -> dict[str, Any]:
    """The diagnosis's keys (with the services failures could not reach), a merge's and a
    history's, each view imported when it has something to say."""
    keys: dict[str, Any] = {"unreachable": []}
    if result.diagnosis is not None or result.unreachable:
        from test_gate.render import diagnosis as diagnosis_view

        keys = diagnosis_view.result_keys(result.diagnosis, result.unreachable, result.reproduce)
    if result.merge:
        from test_gate.render import merge as merge_view

        keys.update(merge_view.result_keys(result.merge))
    if result.history:
        from test_gate.render import history as history_view

        keys.update(history_view.result_keys(result.history))
    return keys


_VALUES = {outcome: outcome.value for outcome in Outcome}  # a dict beats the enum's property


def test_row(test: TestRecord) -> list[Any]:
    """One test, compact (a result holds every test): [id, outcome, attempts, seconds], and
    its cell in a merge. (Called once per test: the record's properties are inlined.)"""
    attempts = test.attempts
    last = attempts[-1]
    seconds = last.duration if len(attempts) == 1 else sum(a.duration for a in attempts)
    row = [test.nodeid, _VALUES[last.outcome], len(attempts), round(seconds, 6)]
    return [*row, test.cell] if test.cell else row


def shard_data(shard: ShardInfo | None) -> dict[str, Any] | None:
    if shard is None:
        return None
    return {
        "index": shard.index,
        "total": shard.total,
        "suite": shard.suite,
        "suite_digest": shard.suite_digest,
        "split_by": shard.split_by,
        "durations_from": shard.durations_from or None,
        "ids_digest": shard.ids_digest,
        "ids": list(shard.ids),
    }


def verdict_data(verdict: Verdict, *, command: str | None = None) -> dict[str, Any]:
    counts = asdict(verdict.counts)
    data: dict[str, Any] = {
        "tool": TOOL,
        "schema": SCHEMA,
        "version": __version__,
        "verdict": verdict.label,
        "reasons": list(verdict.reasons),
        "blind_reasons": list(verdict.blind_reasons),
        "threshold": float(verdict.threshold),
        "pass_rate": rate_number(verdict),
        "counts": counts,
        "seed": int(verdict.seed) if verdict.seed and verdict.seed.isdigit() else verdict.seed,
        "reproduce": command,
        "pytest_exit_code": verdict.exit_code,
        "failures": [_failure(t) for t in verdict.failures],
        "collection_errors": [
            {"nodeid": e.nodeid, "message": e.message} for e in verdict.collect_errors
        ],
        "flaky": [
            {
                "nodeid": t.nodeid,
                "attempts": len(t.attempts),
                "first_failure": t.attempts[0].message,
            }
            for t in verdict.flaky
        ],
        "ignored": [ignored_entry(i) for i in verdict.ignored],
        "slowest": [
            {"nodeid": t.nodeid, "duration": round(t.duration, 6)} for t in verdict.slowest
        ],
    }
    return data
