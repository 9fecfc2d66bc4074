"""A run as the history store keeps it, for the tests and the benchmarks: every column of
schema 1 with a plain value, and the ones a case is about given. Schema 2's columns are left
out unless given (a store of schema 1 is made from such rows too)."""

from __future__ import annotations

from test_gate.read.store import RUN_COLUMNS

DEFAULTS: dict[str, object] = {
    "run_key": "r",
    "time": "2026-12-01T00:00:00+00:00",
    "commit_sha": "0" * 40,
    "branch": "main",
    "lane": "py3.12-linux",
    "cell": "py3.12-linux",
    "kind": "gate",
    "seed": None,
    "verdict": "pass",
    "blind": 0,
    "pass_rate": 100.0,
    "passed": 0,
    "failed": 0,
    "error": 0,
    "skipped": 0,
    "xfailed": 0,
    "xpassed": 0,
    "interrupted": 0,
    "flaky": 0,
    "reruns": 0,
    "collected": 0,
    "wall_time": 1.0,
}


def stored_run(**given: object) -> dict[str, object]:
    unknown = sorted(set(given) - set(RUN_COLUMNS))
    assert not unknown, f"not a column of runs: {unknown}"
    return {**DEFAULTS, **given}
