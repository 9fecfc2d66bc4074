"""pytest-test-gate's record file, read back as the report's section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_gate.read.record import RecordError, load_record


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
