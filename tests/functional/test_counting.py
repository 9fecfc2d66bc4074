"""Every counting rule and fail-closed case, on real pytest runs of small fixture projects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from conftest import GateRun

Project = Callable[[Mapping[str, str]], Path]
Run = Callable[..., GateRun]


def pytest_line_counts(stdout: str) -> dict[str, int]:
    """The counts in pytest's own closing line, e.g. '2 failed, 4 passed, 1 rerun in 0.1s'."""
    lines = [ln for ln in stdout.splitlines() if re.match(r"^=+ .* in [\d.]+s.* =+$", ln)]
    found = re.findall(r"(\d+) (\w+)", lines[-1]) if lines else []
    return {word.rstrip("s") if word == "errors" else word: int(n) for n, word in found}


def test_mixed_outcomes_follow_the_counting_rules(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_mix.py": """
                import pytest

                def test_ok(): pass
                def test_fail(): assert 1 == 2
                @pytest.mark.skip(reason="not today")
                def test_skip(): pass
                @pytest.mark.xfail(reason="known bug")
                def test_xfail(): assert 0
                @pytest.mark.xfail(reason="fixed?")
                def test_xpass(): pass
                @pytest.mark.xfail(strict=True, reason="must fail")
                def test_strict_xpass(): pass

                @pytest.fixture
                def broken_teardown():
                    yield
                    raise RuntimeError("teardown broke")

                def test_teardown_error(broken_teardown): pass

                @pytest.fixture
                def broken_setup():
                    raise RuntimeError("setup broke")

                def test_setup_error(broken_setup): pass
            """
        }
    )
    run = gate_run(root, "--reruns", "0", "--seed", "3")
    assert run.code == 1
    c = run.counts
    assert (c["passed"], c["failed"], c["error"]) == (1, 2, 2)
    assert (c["skipped"], c["xfailed"], c["xpassed"]) == (1, 1, 1)
    assert run.result["pass_rate"] == 20.0
    pytest_counts = pytest_line_counts(run.proc.stdout)
    # pytest counts these the same way (it counts the teardown-error test as passed too)
    for key in ("failed", "skipped", "xfailed", "xpassed"):
        assert pytest_counts.get(key, 0) == c[key], key
    assert pytest_counts["error"] == c["error"]
    failed = {f["nodeid"].split("::")[1]: f for f in run.result["failures"]}
    assert set(failed) == {
        "test_fail",
        "test_strict_xpass",
        "test_teardown_error",
        "test_setup_error",
    }
    assert failed["test_fail"]["message"] == "assert 1 == 2"
    assert failed["test_fail"]["line"] == 4
    assert failed["test_teardown_error"]["outcome"] == "error"
    assert "XPASS(strict)" in failed["test_strict_xpass"]["message"]


def test_flaky_test_counts_as_passed_and_is_listed(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_flaky.py": """
                calls = []

                def test_flaky():
                    calls.append(1)
                    assert len(calls) > 1, "first attempt fails"

                def test_steady(): pass
            """
        }
    )
    run = gate_run(root, "--threshold", "100")
    assert run.code == 0, run.proc.stdout
    assert run.counts["passed"] == 2 and run.counts["flaky"] == 1 and run.counts["reruns"] == 1
    (flaky,) = run.result["flaky"]
    assert flaky["nodeid"] == "test_flaky.py::test_flaky" and flaky["attempts"] == 2
    assert "first attempt fails" in flaky["first_failure"]
    assert pytest_line_counts(run.proc.stdout)["rerun"] == 1
    assert "Flaky tests (1)" in run.summary


def test_exact_98_percent_boundary(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_many.py": """
                import pytest

                @pytest.mark.parametrize("i", range(49))
                def test_good(i): pass

                def test_bad(): assert False
            """
        }
    )
    at = gate_run(root, "--threshold", "98", "--reruns", "0")
    assert at.code == 0, at.proc.stdout
    assert at.result["pass_rate"] == 98.0 and at.result["verdict"] == "pass"
    above = gate_run(root, "--threshold", "98.01", "--reruns", "0")
    assert above.code == 1
    assert above.result["reasons"] == [
        "pass rate 98.00% is below the threshold 98.01% (49 of 50 passed)"
    ]


def test_collection_error_fails_closed(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_good.py": "def test_ok(): pass\n",
            "test_broken.py": "import not_a_module_anywhere\n\ndef test_never(): pass\n",
        }
    )
    run = gate_run(root, "--threshold", "0")
    assert run.code == 1
    assert run.result["pytest_exit_code"] == 2
    assert run.counts["error"] == 1
    assert run.result["collection_errors"][0]["nodeid"] == "test_broken.py"
    assert any("collection error" in r for r in run.result["reasons"])
    # with --continue-on-collection-errors pytest looks green apart from the collector
    run = gate_run(root, "--threshold", "0", "--", "--continue-on-collection-errors")
    assert run.code == 1
    assert run.counts["passed"] == 1 and run.counts["error"] == 1


def test_empty_suite_fails_unless_allowed(project: Project, gate_run: Run) -> None:
    root = project({"test_nothing.py": "x = 1\n"})
    run = gate_run(root)
    assert run.code == 1
    assert run.result["pass_rate"] is None
    assert any("no test was attempted" in r for r in run.result["reasons"])
    assert any("code 5" in r for r in run.result["reasons"])
    allowed = gate_run(root, "--allow-no-tests")
    assert allowed.code == 0, allowed.proc.stdout


def test_all_skipped_suite_fails(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_skipped.py": """
                import pytest

                @pytest.mark.skip(reason="later")
                def test_a(): pass

                def test_b(): pytest.skip("later too")
            """
        }
    )
    run = gate_run(root)
    assert run.code == 1
    assert run.counts["skipped"] == 2
    assert run.result["pytest_exit_code"] == 0
    assert any("no test was attempted" in r for r in run.result["reasons"])


def test_os_exit_in_a_test_fails_closed(project: Project, gate_run: Run, tmp_path: Path) -> None:
    root = project(
        {
            "test_exit.py": """
                import os

                def test_ok(): pass
                def test_bail(): os._exit(0)
            """
        }
    )
    stale = tmp_path / "stale.json"
    run = gate_run(root, "--report-file", str(stale), "--seed", "1")
    assert run.proc.returncode == 1
    assert any("does not exist" in r for r in run.result["reasons"])
    # an old report at the same path is deleted first, never read
    stale.write_text(json.dumps({"tests": [], "exitcode": 0, "summary": {"total": 0}}))
    run = gate_run(root, "--report-file", str(stale), "--seed", "1")
    assert run.code == 1
    assert any("does not exist" in r for r in run.result["reasons"])


def test_stopped_session_fails_closed(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_stop.py": """
                import pytest

                def test_a(): pass
                def test_b(): pytest.exit("stop right here")
                def test_c(): pass
            """
        }
    )
    run = gate_run(root, "--threshold", "0")
    assert run.code == 1
    assert run.result["pytest_exit_code"] == 2
    assert any("exited with code 2" in r for r in run.result["reasons"])


def test_maxfail_leaves_tests_unrun_and_fails(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_x.py": """
                def test_a(): assert 0
                def test_b(): assert 0
                def test_c(): assert 0
            """
        }
    )
    run = gate_run(root, "--threshold", "0", "--reruns", "0", "--", "-x")
    assert run.code == 1
    assert any("only" in r and "ran" in r for r in run.result["reasons"])


def test_failed_subtest_fails_the_item(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_sub.py": """
                import unittest

                class T(unittest.TestCase):
                    def test_values(self):
                        for i in range(3):
                            with self.subTest(i=i):
                                self.assertNotEqual(i, 1)

                    def test_fine(self):
                        pass
            """
        }
    )
    run = gate_run(root, "--reruns", "0", "--threshold", "0")
    assert run.counts["failed"] == 1 and run.counts["passed"] == 1
    assert run.result["failures"][0]["nodeid"] == "test_sub.py::T::test_values"


def test_users_report_file_option_does_not_win(
    project: Project, gate_run: Run, tmp_path: Path
) -> None:
    root = project({"test_a.py": "def test_a(): pass\n"})
    theirs = tmp_path / "theirs.json"
    run = gate_run(root, "--", f"--json-report-file={theirs}")
    assert run.code == 0, run.proc.stdout + run.proc.stderr
    assert run.counts["passed"] == 1
    assert not theirs.exists()


def test_seed_is_recorded_and_reproduces_the_order(project: Project, gate_run: Run) -> None:
    files = {
        f"test_m{i}.py": "".join(f"def test_{j}(): pass\n" for j in range(5)) for i in range(4)
    }
    root = project(files)
    first = gate_run(root)
    seed = first.result["seed"]
    assert isinstance(seed, int)
    assert f"--random-order-seed={seed}" in first.result["reproduce"]
    assert f"seed {seed}" in first.proc.stdout

    def order(run: GateRun) -> list[str]:
        return re.findall(r"^(test_m\d\.py) ", run.proc.stdout, flags=re.M)

    again = gate_run(root, "--seed", str(seed))
    assert order(again) == order(first)
    assert f"`{seed}`" in again.summary


def test_counts_hold_under_xdist(project: Project, gate_run: Run) -> None:
    root = project(
        {
            "test_x.py": """
                import pytest

                calls = []

                def test_flaky():
                    calls.append(1)
                    assert len(calls) > 1

                @pytest.mark.parametrize("i", range(6))
                def test_ok(i): pass

                def test_bad(): assert 0

                @pytest.mark.skip(reason="later")
                def test_skip(): pass
            """
        }
    )
    run = gate_run(root, "--threshold", "0", "--diagnose", "false", "--", "-n", "2")
    assert run.code == 0, run.proc.stdout
    c = run.counts
    assert (c["passed"], c["failed"], c["skipped"], c["flaky"]) == (7, 1, 1, 1)
    assert c["collected"] == 9
