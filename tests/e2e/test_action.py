"""The composite action, end to end under act: step results, outputs, summaries, annotations,
and what hostile test output or input cannot do."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import ActRun

pytestmark = pytest.mark.e2e


def test_the_job_fails_when_the_gate_fails_and_passes_when_it_passes(gate: ActRun) -> None:
    steps = gate.steps
    assert gate.code == 1, gate.stderr[-2000:]
    assert steps["pass"]["outcome"] == "success"
    assert steps["fail"]["outcome"] == "failure"
    assert steps["bad"]["outcome"] == "failure"
    assert steps["hostile"]["outcome"] == "failure"


def test_outputs_carry_the_verdict_and_counts(gate: ActRun) -> None:
    passed = gate.steps["pass"]["outputs"]
    assert {k: passed[k] for k in ("verdict", "pass-rate", "passed", "failed", "errors")} == {
        "verdict": "pass",
        "pass-rate": "100.00",
        "passed": "3",
        "failed": "0",
        "errors": "0",
    }
    assert (passed["skipped"], passed["flaky"], passed["seed"], passed["ignored"]) == (
        "1",
        "0",
        "4242",
        "0",
    )
    failed = gate.steps["fail"]["outputs"]
    assert (failed["verdict"], failed["pass-rate"], failed["passed"], failed["failed"]) == (
        "fail",
        "90.00",
        "9",
        "1",
    )
    assert failed["flaky"] == "1"
    assert failed["seed"].isdigit()
    for name in ("result-file", "report-file", "summary-file"):
        path = Path(failed[name])
        assert path.name.endswith((".json", ".md"))
        assert "hostexecutor" not in path.parts  # under RUNNER_TEMP, not in the workspace


def test_no_scratch_file_lands_in_the_workspace(gate: ActRun) -> None:
    status = (gate.out / "status.txt").read_text().splitlines()
    assert status == ["true"], status


def test_the_summary_says_why_and_how_to_reproduce(gate: ActRun) -> None:
    page = gate.summary("fail")
    assert page.startswith("## ❌ test-gate failed")
    assert "**Pass rate 90.00%** (9 of 10 attempted tests passed) · threshold 95%" in page
    assert "below the threshold 95%" in page
    assert "tests/test_mixed.py::test_hostile_output" in page
    assert "### Flaky tests (1)" in page
    seed = gate.steps["fail"]["outputs"]["seed"]
    assert f"--random-order-seed={seed} --reruns=1" in page
    ok = gate.summary("pass")
    assert ok.startswith("## ✅ test-gate passed")
    assert "--random-order-seed=4242" in ok
    assert ok == (gate.out / "pass-summary.md").read_text()


def _as_github_reads(msg: str) -> dict[str, str]:
    """Properties of a command line as GitHub's runner reads them: they end at the first `::`
    after the command (act's own parser takes the last one, so a message with `::` in it loses
    its properties there)."""
    line = msg[msg.index("::") :].rstrip("\n")
    head = line[2 : line.index("::", 2)]
    _, _, props = head.partition(" ")
    pairs = (item.split("=", 1) for item in props.split(",") if "=" in item)
    return {k: v.replace("%3A", ":").replace("%2C", ",").replace("%25", "%") for k, v in pairs}


def test_failures_and_flaky_tests_are_annotated_at_their_lines(gate: ActRun) -> None:
    errors = [_as_github_reads(r["msg"]) for r in gate.commands("error", "fail")]
    assert errors == [
        {"title": "test-gate failed"},
        {
            "title": "Test failed: tests/test_mixed.py::test_hostile_output",
            "file": "e2e/fail/tests/test_mixed.py",
            "line": "21",
        },
    ]
    warnings = [_as_github_reads(r["msg"]) for r in gate.commands("warning", "fail")]
    assert warnings == [
        {
            "title": "Flaky test: tests/test_mixed.py::test_flaky",
            "file": "e2e/fail/tests/test_mixed.py",
            "line": "11",
        }
    ]


def test_test_output_cannot_issue_workflow_commands(gate: ActRun) -> None:
    annotations = [r for c in ("warning", "error", "notice") for r in gate.commands(c)]
    assert not [r for r in annotations if r.get("arg", "").startswith("pwned")]
    assert not [r for r in annotations if r.get("kvPairs", {}).get("title") == "pwned"]
    assert not [r for r in gate.commands("set-output") if r.get("name") == "injected"]
    assert not gate.commands("add-mask")
    assert gate.steps["fail"]["outputs"]["verdict"] == "fail"
    # the lines were there, shown but not obeyed
    ignored = " ".join(r.get("msg", "") for r in gate.commands("ignored", "fail"))
    assert "::warning::pwned-warning" in ignored
    assert "::set-output name=injected::yes" in ignored
    # controls: outside the window act obeys the same commands
    assert [r["arg"] for r in gate.commands("warning", "6")] == ["control-warning"]
    assert [r["name"] for r in gate.commands("set-output", "6")] == ["control"]


def test_hostile_pytest_args_run_nothing(gate: ActRun, pwned: Path) -> None:
    created = sorted(p.name for p in pwned.parent.iterdir())
    assert created == []
    page = gate.summary("hostile")
    assert "pytest exited with code 4" in page
    assert f"';' touch {pwned}-1 '&&' touch {pwned}-2 '$(touch'" in page


def test_bad_input_fails_the_step_with_one_line(gate: ActRun) -> None:
    lines = "".join(gate.output_lines("bad", "gate")).splitlines()
    expected = (
        "test-gate: error: --threshold: 'abc' is not a percentage; use a number from 0 to 100, "
        "such as 98, 98.5 or 98%"
    )
    assert expected in lines
    assert not [line for line in lines if "Traceback" in line]
    annotation = gate.commands("error", "bad")
    assert [(r["kvPairs"].get("title"), r["arg"]) for r in annotation] == [
        ("test-gate: bad input", expected.removeprefix("test-gate: error: "))
    ]
    assert not gate.summary("bad")


def test_uv_builds_the_gate_venv_and_a_second_use_reuses_it(gate_uv: ActRun) -> None:
    assert gate_uv.code == 0, gate_uv.stderr[-2000:]
    first = "".join(gate_uv.output_lines("first", "setup"))
    second = "".join(gate_uv.output_lines("second", "setup"))
    assert "Gate venv with uv " in first
    assert "Reusing the gate venv" in second
    assert gate_uv.steps["first"]["outputs"]["verdict"] == "pass"
    assert gate_uv.steps["second"]["outputs"]["seed"] == "7"
    assert not gate_uv.summary("second")  # summary: false
    assert not gate_uv.commands("notice", "second")  # annotations: false
    assert gate_uv.summary("first").startswith("## ✅ test-gate passed")
