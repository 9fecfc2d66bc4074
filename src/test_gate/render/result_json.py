"""The result file: the machine-readable contract (schema 1, see the README)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict, format_percent
from test_gate.read.records import IgnoredPath, TestRecord
from test_gate.render import diagnosis as diagnosis_view
from test_gate.render import unrun

SCHEMA = 1


def rate_number(verdict: Verdict) -> float | None:
    """The pass rate rounded down to two decimals: never reports more than was earned."""
    if verdict.pass_rate is None:
        return None
    return float(format_percent(verdict.pass_rate))


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
    """The result file's text."""
    return json.dumps(data(result), indent=2) + "\n"


def data(result: GateResult) -> dict[str, Any]:
    session = result.run.session
    return {
        **verdict_data(result.verdict, command=result.command),
        "python": session.python or None,
        "notices": list(result.notices),
        **unrun.result_extra(result.run),
        **diagnosis_view.result_keys(result.diagnosis, result.unreachable, result.reproduce),
    }


def verdict_data(verdict: Verdict, *, command: str | None = None) -> dict[str, Any]:
    counts = asdict(verdict.counts)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "verdict": verdict.label,
        "reasons": list(verdict.reasons),
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
