"""Shared helpers: write small fixture projects and run the real CLI on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from stored_run import stored_run

from test_gate.read.history_runs import RunEntry

REPO = Path(__file__).resolve().parent.parent

# The fuzz tests draw their cases from a fixed seed in CI (TEST_GATE_HYPOTHESIS=ci, set by
# .ci/run), so a red CI run is the same run when repeated; elsewhere they explore anew.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("TEST_GATE_HYPOTHESIS", "default"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: no GitHub variables leak in from the outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    # fixture projects do not use hypothesis; its plugin costs ~1 s per pytest process
    env["PYTEST_ADDOPTS"] = "-p no:hypothesispytest"
    env.pop("TEST_GATE_RUN_ID", None)
    env.update(extra)
    return env


def cli(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "test_gate", *args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        errors="backslashreplace",  # tests may print undecodable bytes
        check=False,
    )


@dataclass
class GateRun:
    proc: subprocess.CompletedProcess[str]
    result: dict[str, Any]
    summary: str

    @property
    def code(self) -> int:
        return self.proc.returncode

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.result["counts"]
        return counts


@pytest.fixture
def project(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """Write a fixture project from a mapping of relative path -> source text."""

    def make(files: Mapping[str, str]) -> Path:
        return write_tree(tmp_path / "project", files)

    return make


def run_gate(path: Path, out: Path, *args: str, env: Mapping[str, str] | None = None) -> GateRun:
    """`test-gate run` on a project with the interpreter running this suite; the result and
    the summary are written into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result_file, summary_file = out / "result.json", out / "summary.md"
    result_file.unlink(missing_ok=True)
    proc = cli(
        "run",
        str(path),
        "--python",
        sys.executable,
        "--github",
        "false",
        "--result-file",
        str(result_file),
        "--summary-file",
        str(summary_file),
        *args,
        env=env,
    )
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    summary = summary_file.read_text() if summary_file.exists() else ""
    return GateRun(proc, result, summary)


@pytest.fixture
def gate_run(tmp_path: Path) -> Callable[..., GateRun]:
    """Run `test-gate run` on a project with the interpreter running this suite."""

    def run(path: Path, *args: str, env: Mapping[str, str] | None = None) -> GateRun:
        return run_gate(path, tmp_path / "out", *args, env=env)

    return run


def gate_result(run: Any, policy: Any = None, **kw: Any) -> Any:
    """The analysis step on records made in a test: what every renderer takes."""
    from test_gate.analyse.result import Files, analyse
    from test_gate.analyse.verdict import Policy

    files = kw.pop("files", Files(Path("result.json"), Path("summary.md")))
    return analyse(run, policy or Policy(), files, **kw)


REPORT_SUITE = {
    "tests/test_suite.py": """
        import pytest

        ATTEMPTS = []

        def test_ok():
            pass

        def test_flaky():
            ATTEMPTS.append(1)
            assert len(ATTEMPTS) > 1, "fails the first time only"

        @pytest.mark.skip(reason="later")
        def test_skipped():
            pass

        @pytest.mark.xfail(reason="known")
        def test_known():
            assert 0

        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n):
            assert n
    """,
}
FAILING_TEST = """
        def test_fails():
            assert 1 == 2, "two is not one"
"""


@dataclass(frozen=True)
class RealReport:
    """A JSON report written by a real pytest run with pytest-test-gate, and its run id."""

    data: dict[str, Any]
    run_id: str


def real_report(root: Path, files: Mapping[str, str], run_id: str) -> RealReport:
    write_tree(root, files)
    report = root / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--test-gate",
            f"--test-gate-run-id={run_id}",
            "--reruns=1",
            "--json-report",
            f"--json-report-file={report}",
        ],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        check=False,
    )
    return RealReport(json.loads(report.read_text()), run_id)


@pytest.fixture(scope="session")
def passing_report(tmp_path_factory: pytest.TempPathFactory) -> RealReport:
    return real_report(tmp_path_factory.mktemp("passing"), REPORT_SUITE, "run-pass")


@pytest.fixture(scope="session")
def failing_report(tmp_path_factory: pytest.TempPathFactory) -> RealReport:
    files = {**REPORT_SUITE, "tests/test_fails.py": FAILING_TEST}
    return real_report(tmp_path_factory.mktemp("failing"), files, "run-fail")


def history_entry(
    branch: str = "main", outcomes: dict[str, str] | None = None, n: int = 0
) -> RunEntry:
    """One run of a two-test suite, as the history store keeps it."""
    outcomes = outcomes or {"t.py::a": "passed", "t.py::b": "passed"}
    failed = sum(1 for o in outcomes.values() if o == "failed")
    run = stored_run(
        run_key=f"run-{n}",
        time=f"2026-11-29T10:{n % 60:02d}:00+00:00",
        commit_sha=f"{n:040x}",
        branch=branch,
        kind="run",
        seed="7",
        verdict="fail" if failed else "pass",
        pass_rate=100.0 * (len(outcomes) - failed) / len(outcomes),
        passed=len(outcomes) - failed,
        failed=failed,
        collected=len(outcomes),
        wall_time=1.5,
    )
    tests = [("", nodeid, o, 1, 12, None) for nodeid, o in outcomes.items()]
    return RunEntry(run, tests)
