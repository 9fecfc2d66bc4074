"""The run as a CTRF report (Common Test Report Format, JSON), for the reporters that read it.

A test's final attempt is the test; the attempts before it are its `retryAttempts`, and a
test that failed, then passed is `flaky`. What the gate found goes in `extra` objects, the one
place the format allows fields of a producer's own: the verdict, the seed and the command
that reproduces the order for the report; for a test, what it is (new, known,
order-dependent, broken) and its polluter.
"""

from __future__ import annotations

import json
from typing import Any

from test_gate import __version__
from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import format_threshold
from test_gate.read.records import Attempt, Outcome, TestRecord
from test_gate.render import failures
from test_gate.render.result_json import rate_number

SPEC_VERSION = "1.0.0"
STATUS: dict[Outcome, str] = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "failed",
    Outcome.ERROR: "failed",
    Outcome.INTERRUPTED: "failed",
    Outcome.SKIPPED: "skipped",
    Outcome.XFAILED: "skipped",
    Outcome.XPASSED: "other",
}


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _attempt(number: int, attempt: Attempt) -> dict[str, Any]:
    data: dict[str, Any] = {
        "attempt": number,
        "status": STATUS[attempt.outcome],
        "duration": _ms(attempt.duration),
    }
    if attempt.message:
        data["message"] = failures.clean(attempt.message)
    if attempt.longrepr:
        data["trace"] = failures.clean(attempt.longrepr)
    return data


def _gate_extra(found: failures.Entry) -> dict[str, Any]:
    extra: dict[str, Any] = {"what": [plain for plain, _ in found.what]}
    item = found.examined
    if item is not None:
        extra["diagnosis"] = {
            "category": item.category,
            "kind": item.kind or None,
            "culprits": list(item.culprits),
            "command": item.command or None,
            "passingCommand": item.passing_command or None,
            "pollutedState": [s.text for s in item.state],
        }
    return extra


def _test(test: TestRecord, found: failures.Entry | None) -> dict[str, Any]:
    last = test.last
    data: dict[str, Any] = {
        "name": test.nodeid,
        "status": STATUS[last.outcome],
        "duration": _ms(sum(a.duration for a in test.attempts)),
        "rawStatus": last.outcome.value,
        "filePath": test.path,
    }
    if test.line is not None and test.line >= 1:
        data["line"] = test.line
    if last.message:
        data["message"] = failures.clean(last.message)
    if last.longrepr:
        data["trace"] = failures.clean(last.longrepr)
    if len(test.attempts) > 1:
        data["retries"] = len(test.attempts) - 1
        data["retryAttempts"] = [_attempt(i + 1, a) for i, a in enumerate(test.attempts[:-1])]
    data["flaky"] = test.flaky
    extra: dict[str, Any] = {}
    if test.cell:
        extra["cell"] = test.cell
    if found is not None:
        extra["testGate"] = _gate_extra(found)
    if extra:
        data["extra"] = extra
    return data


def render(result: GateResult, now: float) -> str:
    """The CTRF document; `now`: when the run ended (seconds since the epoch)."""
    verdict, run = result.verdict, result.run
    found = {(e.test.cell, e.test.nodeid): e for e in failures.entries(result)}
    tests = [_test(t, found.get((t.cell, t.nodeid))) for t in run.tests]
    for error in run.collect_errors:
        tests.append(
            {
                "name": error.nodeid or "<root>",
                "status": "failed",
                "duration": 0,
                "rawStatus": "collection error",
                "message": error.message or "collection failed",
                "trace": error.longrepr,
                "type": "collection",
            }
        )
    by_status = {s: 0 for s in ("passed", "failed", "skipped", "pending", "other")}
    for test in tests:
        by_status[test["status"]] += 1
    stop = _ms(now)
    seconds = run.session.seconds
    summary: dict[str, Any] = {
        "tests": len(tests),
        **by_status,
        "flaky": sum(1 for t in tests if t.get("flaky")),
        "start": stop - _ms(seconds or 0.0),
        "stop": stop,
    }
    if seconds is not None:
        summary["duration"] = _ms(seconds)
    environment: dict[str, Any] = {}
    env = dict(run.environment)
    if env.get("os"):
        environment["osPlatform"] = env["os"]
    environment["extra"] = {"versions": {k: v for k, v in env.items() if k != "os"}}
    if result.cell:
        environment["testEnvironment"] = result.cell
    document = {
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "generatedBy": f"test-gate {__version__}",
        "results": {
            "tool": {"name": "pytest", "version": env.get("pytest", "") or "unknown"},
            "summary": summary,
            "tests": tests,
            "environment": environment,
            "extra": {
                "testGate": {
                    "verdict": verdict.label,
                    "passRate": rate_number(verdict),
                    "threshold": format_threshold(verdict.threshold),
                    "reasons": list(verdict.reasons),
                    "seed": result.seed,
                    "reproduce": result.command,
                }
            },
        },
    }
    return json.dumps(document, indent=1) + "\n"
