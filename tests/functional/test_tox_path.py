"""The tox/nox path: pytest with pytest-test-gate in an environment of its own, then
`test-gate gate` on its report, gives the counts `test-gate run` gives."""

from __future__ import annotations

import json
import subprocess
import venv
from collections.abc import Callable
from pathlib import Path

from conftest import FAILING_TEST, REPORT_SUITE, GateRun, clean_env, cli

# the suite of the real reports elsewhere in the tests: a flaky test, a skip, an xfail,
# parametrized tests, and a failure
FILES = {**REPORT_SUITE, "tests/test_fails.py": FAILING_TEST}


def _pytest_version() -> str:
    import pytest

    return pytest.__version__


def test_a_separate_environment_then_gate_gives_the_same_counts(
    project: Callable[[dict[str, str]], Path],
    gate_run: Callable[..., GateRun],
    tmp_path: Path,
) -> None:
    root = project(FILES)
    # an environment of its own, as tox or nox would make it: pytest, then test-gate's plugins
    env_dir = tmp_path / "toxenv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"pytest=={_pytest_version()}"], check=True)
    installed = cli("install-plugins", "--python", python)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # one line a package, no pip log; pytest-test-gate as a wheel made here, with no build
    lines = installed.stdout.strip().splitlines()
    assert all(line.startswith(("test-gate: installed ", "test-gate: kept ")) for line in lines)
    assert any(line.startswith("test-gate: installed pytest-test-gate==") for line in lines)
    report = tmp_path / "report.json"
    tox = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "--test-gate",
            "--json-report",
            f"--json-report-file={report}",
            "-p",
            "no:randomly",
            "--random-order-bucket=module",
            "--random-order-seed=5",
            "--reruns=2",
        ],
        cwd=root,
        env=clean_env(PYTEST_ADDOPTS=""),
        capture_output=True,
        text=True,
        check=False,
    )
    assert tox.returncode == 1, tox.stdout[-2000:]
    result_file = tmp_path / "gated.json"
    gated = cli("gate", str(report), "--github", "false", "--result-file", str(result_file))
    assert gated.returncode == 1
    tox_result = json.loads(result_file.read_text())

    run = gate_run(root, "--seed", "5")
    assert tox_result["counts"] == run.counts
    assert tox_result["counts"]["flaky"] == 1 and tox_result["counts"]["failed"] == 1
    assert [f["nodeid"] for f in tox_result["flaky"]] == ["tests/test_suite.py::test_flaky"]
    assert tox_result["reasons"] == run.result["reasons"]
