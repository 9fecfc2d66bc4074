"""Installed, the plugin is off: nothing changes until an option turns it on."""

from __future__ import annotations

import json

import pytest
from record_helpers import read_events

TESTS = """
def test_ok():
    pass

def test_bad():
    assert 0
"""


def test_installed_it_changes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=TESTS)
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--json-report", f"--json-report-file={report}"
    )
    result.assert_outcomes(passed=1, failed=1)
    assert "test_gate" not in json.loads(report.read_text())
    assert [p.name for p in pytester.path.glob("*.json")] == ["report.json"]


def test_its_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    for option in (
        "--test-gate",
        "--test-gate-run-id",
        "--test-gate-record",
        "--test-gate-order",
        "--test-gate-outcomes",
    ):
        result.stdout.fnmatch_lines([f"*{option}*"])


def test_turned_on_the_record_lands_in_the_json_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=TESTS)
    report = pytester.path / "report.json"
    pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "--test-gate",
        "--test-gate-run-id=r1",
        "--json-report",
        f"--json-report-file={report}",
    )
    record = json.loads(report.read_text())["test_gate"]
    assert record["run_id"] == "r1"
    assert record["collected"] == 2
    assert {r["nodeid"] for r in record["reports"]} == {"test_a.py::test_ok", "test_a.py::test_bad"}
    # a test that plainly passed is one row; a failing one keeps each phase report, with its
    # passed setup and teardown as rows around the failed call
    ok = [r for r in record["reports"] if r["nodeid"] == "test_a.py::test_ok"]
    assert [r.keys() for r in ok] == [{"nodeid", "location", "passed"}]
    assert [when for when, _ in ok[0]["passed"]] == ["setup", "call", "teardown"]
    bad = [r for r in record["reports"] if r["nodeid"] == "test_a.py::test_bad"]
    assert [r.get("when") or r["passed"][0][0] for r in bad] == ["setup", "call", "teardown"]
    assert bad[1]["outcome"] == "failed" and "passed" not in bad[1]


def test_without_autoload_it_is_named_with_p(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_a=TESTS)
    record = pytester.path / "record.jsonl"
    result = pytester.runpytest_subprocess(
        "-p", "pytest_test_gate.plugin", f"--test-gate-record={record}"
    )
    result.assert_outcomes(passed=1, failed=1)
    assert read_events(record)["selected"] == 2
