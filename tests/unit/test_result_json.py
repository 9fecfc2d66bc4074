"""The result file: its keys keep their meaning."""

from __future__ import annotations

import json

from render_helpers import failing, result_of

from test_gate.render import result_json


def test_result_schema_keeps_its_keys() -> None:
    data = result_json.data(result_of(failing(1), command="cmd"))
    json.dumps(data)
    for key in (
        "schema",
        "verdict",
        "reasons",
        "threshold",
        "pass_rate",
        "counts",
        "seed",
        "pytest_exit_code",
        "failures",
        "flaky",
        "ignored",
    ):
        assert key in data
    assert data["verdict"] == "fail" and data["reasons"]
    assert data["seed"] == 42 and data["threshold"] == 98.0
    assert set(data["counts"]) >= {
        "passed",
        "failed",
        "error",
        "skipped",
        "xfailed",
        "xpassed",
        "flaky",
        "reruns",
        "collected",
        "deselected",
    }
    assert data["failures"][0] == {
        "nodeid": "tests/test_0.py::test_case_0",
        "outcome": "failed",
        "path": "tests/test_0.py",
        "line": 1,
        "crash_path": None,
        "crash_line": None,
        "message": "boom",
        "attempts": 1,
    }
