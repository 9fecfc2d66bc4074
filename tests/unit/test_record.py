"""pytest-test-gate's record file, read back as the report's section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_test_gate.protocol import PASSED

from test_gate.read.attempts import records_from_plugin
from test_gate.read.record import RecordError, load_record
from test_gate.read.values import Findings


def write(path: Path, *events: dict[str, object], cut: str = "") -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + cut)
    return path


def test_events_fold_into_the_section(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl",
        {"event": "start", "schema": 2, "run_id": "x"},
        {"event": "collected", "collected": 1, "selected": 1},
        {"event": "test_start", "nodeid": "t.py::a"},
        {"event": "report", "nodeid": "t.py::a", "when": "setup", "outcome": "passed"},
        {"event": "test_end", "nodeid": "t.py::a"},
        {"event": "test_start", "nodeid": "t.py::b"},
        {"event": "finish", "finished": 2.0},
    )
    section = load_record(path)
    assert section["run_id"] == "x" and section["finished"] == 2.0
    assert [r["nodeid"] for r in section["reports"]] == ["t.py::a"]
    assert section["running"] == ["t.py::b"]


def test_a_line_cut_by_a_stop_means_the_session_did_not_finish(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.jsonl",
        {"event": "start", "schema": 2},
        {"event": "finish", "finished": 2.0},
        cut='{"event": "rep',
    )
    assert "finished" not in load_record(path)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "is empty"),
        ('{"event": "start"\n', "corrupt at line 1"),
        ('{"event": "bogus"}\n', r"does not know \('bogus'\)"),
        ("[1]\n", "corrupt at line 1"),
    ],
)
def test_a_broken_record_is_one_line(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    with pytest.raises(RecordError, match=needle):
        load_record(path)


def test_a_passing_test_is_one_row_and_anything_else_keeps_its_reports(tmp_path: Path) -> None:
    where = ["t.py", 0]

    def setup(nodeid: str, outcome: str = "passed") -> dict[str, object]:
        return {"event": "report", "nodeid": nodeid, "when": "setup", "outcome": outcome}

    path = write(
        tmp_path / "r.jsonl",
        {"event": "start", "schema": 4},
        {**setup("t.py::a"), "duration": 0.5, "location": where},
        {"event": "test_end", "nodeid": "t.py::a", "location": where, "passed": [["call", 1.0]]},
        {**setup("t.py::b"), "duration": 0.5, "location": where},
        {"event": "report", "nodeid": "t.py::b", "when": "call", "outcome": "failed"},
        {"event": "test_end", "nodeid": "t.py::b", "location": where, "passed": [["teardown", 0]]},
        {**setup("t.py::c", "skipped"), "duration": 0.5, "location": where},
        {"event": "test_end", "nodeid": "t.py::c", "location": where, "passed": [["teardown", 0]]},
    )
    reports = load_record(path)["reports"]
    assert reports[0] == {
        "nodeid": "t.py::a",
        "location": where,
        "passed": [["setup", 0.5], ["call", 1.0]],
    }
    assert [r.get("when", "row") for r in reports[1:]] == ["setup", "call", "row", "setup", "row"]


def test_a_test_that_plainly_passed_reads_as_its_row_would(tmp_path: Path) -> None:
    """A test whose three phases plainly passed is checked as its end line is read (a Plain),
    alone and after a failed attempt of the same test: what the gate makes of it is what it
    makes of the report's rows."""
    where = ["t.py", 2]

    def setup(nodeid: str, seconds: float = 0.5) -> dict[str, object]:
        report = {"nodeid": nodeid, "when": "setup", "outcome": "passed", "duration": seconds}
        return {"event": "report", **report, "location": where}

    def end(nodeid: str) -> dict[str, object]:
        passed = [["call", 0.25], ["teardown", 0.125]]
        return {"event": "test_end", "nodeid": nodeid, "location": where, "passed": passed}

    failed = {"nodeid": "t.py::b", "when": "call", "outcome": "rerun", "duration": 0.1}
    torn = {"nodeid": "t.py::b", "when": "teardown", "outcome": "passed", "duration": 0.1}
    events = [
        {"event": "start", "schema": 5},
        *(setup("t.py::a"), end("t.py::a")),
        setup("t.py::b"),
        {"event": "report", **failed, "location": where},
        {"event": "report", **torn, "location": where},
        *(setup("t.py::b", 0.75), end("t.py::b")),
        {"event": "finish", "finished": 2.0},
    ]
    section = load_record(write(tmp_path / "r.jsonl", *events))
    assert [type(r) for r in section["reports"]] == [tuple, dict, dict, dict, tuple]

    def row(nodeid: str, seconds: float = 0.5) -> dict[str, object]:
        phases = [["setup", seconds], ["call", 0.25], ["teardown", 0.125]]
        return {"nodeid": nodeid, "location": where, PASSED: phases}

    plain_setup = {k: v for k, v in setup("t.py::b").items() if k != "event"}
    rows = [row("t.py::a"), plain_setup, failed, torn, row("t.py::b", 0.75)]
    findings, expected = Findings("a"), Findings("b")
    got = records_from_plugin(section, findings)
    want = records_from_plugin({**section, "reports": rows}, expected)
    assert got == want and findings.lines() == expected.lines() == []
    assert [t.nodeid for t in got] == ["t.py::a", "t.py::b"]
    assert got[0].duration == 0.875 and (got[0].path, got[0].line) == ("t.py", 3)
    assert got[1].flaky and got[1].attempts[-1].duration == 1.125
