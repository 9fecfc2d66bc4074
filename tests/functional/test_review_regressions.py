"""Cases that once let the gate pass or crash: each stays fixed."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from conftest import GateRun, clean_env, cli

Project = Callable[[Mapping[str, str]], Path]
Run = Callable[..., GateRun]


def test_session_stopped_early_fails_even_with_deselection(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_p.py": """
                import pytest

                def test_ok(): pass
                def test_stops(): pytest.exit("resource gone", returncode=0)
                def test_never_reached(): pass
                def test_slow(): pass
            """
        }
    )
    run = gate_run(root, "--seed", "1", "--diagnose", "false", "--", "-k", "not slow")
    assert run.code == 1, run.proc.stdout
    assert run.counts["deselected"] == 1 and run.counts["collected"] == 4


def test_every_xdist_worker_run_counts_with_dist_each(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_e.py": """
                import os

                def test_ok(): pass
                def test_fails_on_one_worker():
                    assert os.environ.get("PYTEST_XDIST_WORKER") != "gw0"
            """
        }
    )
    run = gate_run(
        root,
        "--reruns",
        "0",
        "--threshold",
        "0",
        "--diagnose",
        "false",
        "--",
        "-n",
        "2",
        "--dist",
        "each",
    )
    assert run.counts["failed"] == 1 and run.counts["passed"] == 3
    assert run.counts["flaky"] == 0 and run.counts["reruns"] == 0


def test_threshold_is_compared_exactly_at_any_precision(project: Project, gate_run: Run) -> None:
    root = project(
        {"test_t.py": "def test_a(): pass\ndef test_b(): pass\ndef test_c(): assert 0\n"}
    )
    threshold = "66.66666666666666666666666666667"
    run = gate_run(root, "--reruns", "0", "--diagnose", "false", "--threshold", threshold)
    assert run.code == 1
    assert f"threshold {threshold}%" in run.result["reasons"][0]


def test_report_leaves_out_captured_output(project: Project, gate_run: Run, tmp_path: Path) -> None:
    root = project({"test_o.py": "def test_loud():\n    print('x' * 200_000)\n    assert 0\n"})
    report = tmp_path / "report.json"
    gate_run(root, "--reruns", "0", "--diagnose", "false", "--report-file", str(report))
    assert report.stat().st_size < 100_000
    assert "stdout" not in json.loads(report.read_text())["tests"][0]["call"]


def test_undecodable_text_from_tests_does_not_crash(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_u.py": """
                import os

                def test_name():
                    assert False, "missing " + os.fsdecode(b"caf\\xe9.txt")
            """
        }
    )
    run = gate_run(root, "--reruns", "0", "--diagnose", "false")
    assert run.code == 1
    assert "Traceback" not in run.proc.stderr
    assert "caf\\xe9" in run.result["failures"][0]["message"]
    assert "caf\\xe9" in run.summary


def test_a_test_that_clears_the_environment_does_not_make_the_report_stale(
    project: Project, gate_run: Run
) -> None:
    root = project(
        {
            "test_env.py": """
                import os

                def test_clear():
                    for name in list(os.environ):
                        if name.startswith("TEST_"):
                            del os.environ[name]
            """
        }
    )
    run = gate_run(root)
    assert run.code == 0, run.result.get("reasons")


@pytest.mark.parametrize("name", ["test_gate_plugin.py", "tgate_recorder_helpers.py"])
def test_a_project_file_cannot_stand_in_for_the_gate_plugin(
    name: str, project: Project, gate_run: Run
) -> None:
    root = project({name: "def test_mine(): pass\n", "test_other.py": "def test_b(): pass\n"})
    run = gate_run(root)
    assert run.code == 0, run.result.get("reasons")


def test_gate_command_output_is_guarded_in_actions(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text(
        json.dumps(
            {
                "exitcode": 1,
                "tests": [
                    {
                        "nodeid": "t.py::test[\n::warning title=pwned::x]",
                        "outcome": "failed",
                        "setup": {"outcome": "passed"},
                        "call": {"outcome": "failed"},
                        "teardown": {"outcome": "passed"},
                    }
                ],
            }
        )
    )
    env = clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "out"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
    )
    proc = cli("gate", str(report), "--threshold", "0", env=env)
    stdout = proc.stdout
    token = re.search(r"^::stop-commands::(\w+)$", stdout, flags=re.M)
    assert token
    end = stdout.index(f"::{token.group(1)}::")
    after = stdout[end:].split("\n", 1)[1]
    assert not any(ln.startswith("::warning title=pwned") for ln in after.splitlines())


@pytest.mark.parametrize("option", ["--result-file", "--summary-file", "--report-file"])
def test_a_directory_as_an_output_file_is_bad_input(option: str, tmp_path: Path) -> None:
    proc = cli("run", str(tmp_path), "--python", sys.executable, option, str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and option in proc.stderr


@pytest.mark.parametrize("value", ["1_0", "1e2", "٩٨", "0x10", "+98", ".5"])
def test_threshold_takes_plain_decimals_only(value: str, tmp_path: Path) -> None:
    proc = cli("gate", str(tmp_path / "r.json"), "--threshold", value)
    assert proc.returncode == 2 and "--threshold" in proc.stderr


def test_plugins_load_when_autoload_is_off(project: Project, gate_run: Run) -> None:
    root = project({"test_a.py": "def test_a(): pass\n"})
    run = gate_run(root, env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    assert run.code == 0, run.proc.stdout[-2000:]
    assert run.counts["passed"] == 1


def test_a_crashed_xdist_worker_counts_once_with_its_reason(
    project: Project, gate_run: Run
) -> None:
    root = project(
        {
            "test_c.py": """
                import ctypes

                def test_ok(): pass
                def test_crash(): ctypes.string_at(0)
            """
        }
    )
    run = gate_run(root, "--diagnose", "false", "--reruns", "2", "--", "-n", "2")
    assert run.code == 1
    assert (run.counts["failed"], run.counts["passed"], run.counts["reruns"]) == (1, 1, 2)
    assert "crashed while running" in run.result["failures"][0]["message"]


def test_ignored_audit_output_is_guarded_in_actions(project: Project) -> None:
    root = project(
        {
            "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--ignore=tests/test_off.py"\n',
            "tests/test_on.py": "def test_a(): pass\n",
            "tests/test_off.py": "def test_b(): pass\n",
        }
    )
    proc = cli(
        "ignored", str(root), "--python", sys.executable, env=clean_env(GITHUB_ACTIONS="true")
    )
    assert proc.returncode == 0, proc.stderr
    token = re.search(r"^::stop-commands::(\w+)$", proc.stdout, flags=re.M)
    assert token and f"::{token.group(1)}::" in proc.stdout
    assert proc.stdout.index("tests/test_off.py") > token.end()
