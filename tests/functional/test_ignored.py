"""Ignored test files, through the real pytest: every mechanism, its line, its test count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

Project = Callable[[Mapping[str, str]], Path]
GateRun = Any  # tests/conftest.py's GateRun: proc, result, summary, code, counts
REPO = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra)
    return env


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "test_gate", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )


TWO = "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n"
THREE = (
    "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2, 3])\ndef test_n(n):\n    assert n\n"
)
ONE = "def test_ok():\n    pass\n"


def ignored_of(run: GateRun) -> dict[str, tuple[str, str, int | None]]:
    return {i["path"]: (i["mechanism"], i["source"], i["tests"]) for i in run.result["ignored"]}


MECHANISMS: dict[str, tuple[dict[str, str], tuple[str, ...], dict[str, Any]]] = {
    "--ignore in pyproject addopts": (
        {
            "pyproject.toml": """
                [tool.pytest.ini_options]
                testpaths = ["tests"]
                addopts = "-ra --ignore=tests/test_off.py"
                """,
            "tests/test_on.py": ONE,
            "tests/test_off.py": THREE,
        },
        (),
        {"tests/test_off.py": ("--ignore", "pyproject.toml:3", 3)},
    ),
    "--ignore-glob in pytest.ini": (
        {
            "pytest.ini": """
                [pytest]
                addopts =
                    -ra
                    --ignore-glob=tests/test_*_legacy.py
                """,
            "tests/test_on.py": ONE,
            "tests/test_a_legacy.py": TWO,
            "tests/test_b_legacy.py": ONE,
        },
        (),
        {
            "tests/test_a_legacy.py": ("--ignore-glob", "pytest.ini:4", 2),
            "tests/test_b_legacy.py": ("--ignore-glob", "pytest.ini:4", 1),
        },
    ),
    "collect_ignore in conftest.py": (
        {
            "tests/conftest.py": """
                collect_ignore = [
                    "helpers.py",
                    "test_old.py",
                ]
                """,
            "tests/helpers.py": "X = 1\n",  # not a test file: not news
            "tests/test_on.py": ONE,
            "tests/test_old.py": TWO,
        },
        (),
        {"tests/test_old.py": ("collect_ignore", "tests/conftest.py:3", 2)},
    ),
    "collect_ignore_glob in conftest.py": (
        {
            "conftest.py": """
                import sys

                collect_ignore_glob = []
                if sys.version_info > (3,):
                    collect_ignore_glob.append("tests/test_py2_*.py")
                """,
            "tests/test_on.py": ONE,
            "tests/test_py2_compat.py": THREE,
        },
        (),
        {"tests/test_py2_compat.py": ("collect_ignore_glob", "conftest.py:5", 3)},
    ),
    "norecursedirs in setup.cfg": (
        {
            "setup.cfg": """
                [metadata]
                name = demo

                [tool:pytest]
                norecursedirs =
                    .*
                    integration
                """,
            "tests/test_on.py": ONE,
            "tests/integration/test_db.py": TWO,
            "tests/integration/test_api.py": THREE,
            "tests/integration/helpers.py": "",
        },
        (),
        {"tests/integration/": ("norecursedirs", "setup.cfg:7", 5)},
    ),
    "norecursedirs in tox.ini": (
        {
            "tox.ini": """
                [tox]
                envlist = py3

                [pytest]
                norecursedirs = slow_suite .*
                """,
            "tests/test_on.py": ONE,
            "tests/slow_suite/test_slow.py": ONE,
        },
        (),
        {"tests/slow_suite/": ("norecursedirs", "tox.ini:5", 1)},
    ),
    "a pytest_ignore_collect hook of the user's own": (
        {
            "conftest.py": """
                import os


                def pytest_ignore_collect(collection_path, config):
                    if "network" in collection_path.name and not os.environ.get("NET"):
                        return True
                    return None
                """,
            "tests/test_on.py": ONE,
            "tests/test_network.py": TWO,
        },
        (),
        {"tests/test_network.py": ("pytest_ignore_collect", "conftest.py:4", 2)},
    ),
    "--ignore on the command line": (
        {"tests/test_on.py": ONE, "tests/test_off.py": TWO},
        ("--pytest-args=--ignore=tests/test_off.py",),
        {"tests/test_off.py": ("--ignore", "command line", 2)},
    ),
    "--ignore in a workflow's pytest-args": (
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".github/workflows/ci.yml": """
                name: ci
                on: push
                jobs:
                  test:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: org/test-gate@v1
                        with:
                          pytest-args: -q --ignore=tests/test_off.py
                """,
            "tests/test_on.py": ONE,
            "tests/test_off.py": THREE,
        },
        ("--pytest-args=-q --ignore=tests/test_off.py",),
        {"tests/test_off.py": ("--ignore", ".github/workflows/ci.yml:10", 3)},
    ),
}


@pytest.mark.parametrize("name", list(MECHANISMS))
def test_each_mechanism_is_reported_with_its_line_and_count(
    name: str, project: Project, gate_run: Callable[..., GateRun]
) -> None:
    files, args, expected = MECHANISMS[name]
    run = gate_run(project(files), *args)
    assert run.code == 0, run.proc.stdout + run.proc.stderr
    assert ignored_of(run) == expected
    assert run.counts["passed"] == 1
    for path in expected:
        assert path in run.summary
    # one count of ignored files everywhere: a directory counts every test file it holds
    files = run.result["ignored_files"]
    assert f"Ignored test files ({files})" in run.summary
    assert f"  ignored test files: {files}\n" in run.proc.stdout


# `test-gate ignored` runs in the test interpreter; TEST_GATE_OTHER_PYTHON adds another one
# (such as a venv with pytest 7) to prove the plugin there too.
INTERPRETERS = [sys.executable, *filter(None, [os.environ.get("TEST_GATE_OTHER_PYTHON")])]


@pytest.mark.parametrize("python", INTERPRETERS)
@pytest.mark.parametrize("name", list(MECHANISMS))
def test_each_mechanism_through_the_ignored_command(
    name: str, python: str, project: Project
) -> None:
    files, args, expected = MECHANISMS[name]
    done = cli("ignored", str(project(files)), "--python", python, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(" test file(s) never run:")
    assert len([line for line in lines if line.startswith("  tests/")]) == len(expected)
    for path, (mechanism, source, tests) in expected.items():
        assert any(
            line.split()[0] == path
            and f" {tests} tests  {mechanism} " in line
            and line.endswith(f"({source})")
            for line in lines[1:]
        ), (path, lines)


def test_deselected_tests_are_counted_per_file(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "pytest.ini": "[pytest]\nmarkers =\n    slow: slow tests\n",
            "tests/test_a.py": """
                import pytest


                def test_fast():
                    pass


                @pytest.mark.slow
                def test_slow():
                    pass


                def test_gone():
                    pass
                """,
            "tests/test_b.py": "def test_quick():\n    pass\n\n\ndef test_other():\n    pass\n",
        }
    )
    run = gate_run(
        root, "--", "-m", "not slow", "-k", "not quick", "--deselect", "tests/test_a.py::test_gone"
    )
    assert run.code == 0, run.proc.stdout
    assert run.result["deselected_by_file"] == [
        {"path": "tests/test_a.py", "mechanism": "--deselect", "count": 1},
        {"path": "tests/test_a.py", "mechanism": "-m not slow", "count": 1},
        {"path": "tests/test_b.py", "mechanism": "-k not quick", "count": 1},
    ]
    assert run.result["ignored"] == []
    assert "### Deselected tests (3 in 2 files)" in run.summary


def test_modules_that_never_ran(project: Project, gate_run: Callable[..., GateRun]) -> None:
    root = project(
        {
            "tests/test_on.py": ONE,
            "tests/test_db.py": """
                import pytest

                pytest.skip("no database here", allow_module_level=True)


                def test_query():
                    pass
                """,
            "tests/test_win.py": """
                import pytest

                pytestmark = pytest.mark.skipif(True, reason="windows only")


                def test_a():
                    pass


                def test_b():
                    pass
                """,
        }
    )
    run = gate_run(root)
    assert run.code == 0, run.proc.stdout
    assert [
        (n["path"], n["how"], n["reason"], n["line"], n["tests"]) for n in run.result["never_ran"]
    ] == [
        ("tests/test_db.py", "skipped while importing", "no database here", 3, 1),
        ("tests/test_win.py", "module-level skip mark", "windows only", 3, 2),
    ]
    assert "### Collected but never ran (2 modules)" in run.summary
    assert "collected but never ran: 2 module(s)" in run.proc.stdout


COMBINED = {
    ".git/HEAD": "ref: refs/heads/main\n",
    ".github/workflows/ci.yml": """
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: org/test-gate@v1
                with:
                  working-directory: app
                  pytest-args: --ignore=tests/test_flaky_api.py
        """,
    "app/pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        addopts = [
            "--ignore=tests/test_currency.py",
            "--ignore-glob=tests/test_*_v1.py",
        ]
        """,
    "app/tests/conftest.py": """
        collect_ignore = ["test_legacy.py"]
        """,
    "app/tests/test_ok.py": ONE,
    "app/tests/test_currency.py": TWO,
    "app/tests/test_export_v1.py": THREE,
    "app/tests/test_legacy.py": ONE,
    "app/tests/test_flaky_api.py": TWO,
    # a virtualenv and a node_modules full of test files are not news
    "app/.venv/pyvenv.cfg": "home = /usr/bin\n",
    "app/.venv/lib/python3/site-packages/pkg/tests/test_pkg.py": ONE,
    "app/venv2/pyvenv.cfg": "home = /usr/bin\n",
    "app/venv2/test_inside.py": ONE,
    "app/node_modules/lib/test_js.py": ONE,
}


def _github_env(tmp_path: Path, workspace: Path) -> dict[str, str]:
    out = tmp_path / "gh"
    out.mkdir(exist_ok=True)
    return clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(out / "output"),
        GITHUB_STEP_SUMMARY=str(out / "summary"),
        GITHUB_WORKSPACE=str(workspace),
    )


def test_four_mechanisms_together(
    project: Project, gate_run: Callable[..., GateRun], tmp_path: Path
) -> None:
    repo = project(COMBINED)
    run = gate_run(
        repo / "app",
        "--github",
        "true",
        "--pytest-args=--ignore=tests/test_flaky_api.py",
        env=_github_env(tmp_path, repo),
    )
    assert run.code == 0, run.proc.stdout + run.proc.stderr
    assert ignored_of(run) == {
        "tests/test_currency.py": ("--ignore", "pyproject.toml:4", 2),
        "tests/test_export_v1.py": ("--ignore-glob", "pyproject.toml:5", 3),
        "tests/test_legacy.py": ("collect_ignore", "tests/conftest.py:1", 1),
        "tests/test_flaky_api.py": ("--ignore", ".github/workflows/ci.yml:9", 2),
    }
    # each file once in the summary table
    for path in ignored_of(run):
        assert run.summary.count(f"`{path}`") == 1
    assert "### Ignored test files (4)" in run.summary
    # one warning each, on the line that ignores it, with paths from the repository root
    warnings = sorted(
        line for line in run.proc.stdout.splitlines() if line.startswith("::warning ")
    )
    located = sorted(w.split("::")[1] for w in warnings)
    title = "warning title=Ignored test file%3A tests/"
    assert located == sorted(
        [
            f"{title}test_currency.py,file=app/pyproject.toml,line=4",
            f"{title}test_export_v1.py,file=app/pyproject.toml,line=5",
            f"{title}test_legacy.py,file=app/tests/conftest.py,line=1",
            f"{title}test_flaky_api.py,file=.github/workflows/ci.yml,line=9",
        ]
    )
    output = (tmp_path / "gh" / "output").read_text()
    assert "ignored<<" in output
    assert output.split("ignored<<", 1)[1].splitlines()[1] == "4"


def test_max_ignored_fails_the_gate(project: Project, gate_run: Callable[..., GateRun]) -> None:
    root = project(MECHANISMS["--ignore in pyproject addopts"][0])
    assert gate_run(root, "--max-ignored", "1").code == 0
    run = gate_run(root, "--max-ignored", "0")
    assert run.code == 1
    assert run.result["reasons"] == [
        "1 test file(s) are ignored, more than the allowed 0 (--max-ignored): tests/test_off.py"
    ]
    bad = gate_run(root, "--max-ignored", "some")
    assert bad.code == 2
    assert bad.proc.stderr.strip().splitlines() == [
        "test-gate: error: --max-ignored: 'some' is not a count; use a whole number >= 0, "
        "or 'none' for no limit"
    ]


def test_git_ignored_build_copies_are_not_news_but_a_tests_build_dir_is(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            ".gitignore": "/build/\n",
            "tests/test_on.py": ONE,
            "build/lib/pkg/tests/test_copy.py": ONE,  # a build artifact
            "tests/build/test_builder.py": TWO,  # tests of the build step, silently skipped
        }
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    run = gate_run(root)
    assert ignored_of(run) == {
        "tests/build/": ("norecursedirs", "pytest's default norecursedirs", 2)
    }


def test_ignored_command_lists_without_running_tests(project: Project) -> None:
    repo = project(COMBINED)
    app = repo / "app"
    (app / "tests" / "test_boom.py").write_text("def test_boom():\n    raise SystemExit(3)\n")
    done = cli(
        "ignored", str(app), "--python", sys.executable, "--", "--ignore=tests/test_flaky_api.py"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "4 test file(s) never run:"
    assert any(
        "tests/test_currency.py" in line and "2 tests" in line and "(pyproject.toml:4)" in line
        for line in lines
    )
    assert any(".github/workflows/ci.yml:9" in line for line in lines)
    # without the workflow's --ignore, three files are ignored
    limited = cli("ignored", str(app), "--python", sys.executable, "--max-ignored", "2")
    assert limited.returncode == 1
    assert limited.stdout.splitlines()[0] == "3 test file(s) never run:"
    assert limited.stdout.splitlines()[-1] == (
        "test-gate ignored: 3 test file(s) are ignored, more than the allowed 2 (--max-ignored)"
    )
    out = app.parent / "audit.json"
    passed = cli(
        "ignored",
        str(app),
        "--python",
        sys.executable,
        "--max-ignored",
        "3",
        "--result-file",
        str(out),
    )
    assert passed.returncode == 0
    data = json.loads(out.read_text())
    assert data["ignored_files"] == 3
    assert {i["path"]: i["line"] for i in data["ignored"]} == {
        "tests/test_currency.py": 4,
        "tests/test_export_v1.py": 5,
        "tests/test_legacy.py": 1,
    }


def test_ignored_command_fails_when_pytest_cannot_collect(project: Project) -> None:
    root = project({"conftest.py": "import no_such_module\n", "tests/test_on.py": ONE})
    done = cli("ignored", str(root), "--python", sys.executable)
    assert done.returncode == 1
    assert "pytest could not collect the tests" in done.stdout
    assert "no_such_module" in done.stdout


def test_under_xdist_the_workers_report_to_the_controller(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    probe = subprocess.run([sys.executable, "-c", "import xdist"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("pytest-xdist is not installed in the test interpreter")
    files, _, expected = MECHANISMS["--ignore in pyproject addopts"]
    root = project({**files, "tests/test_more.py": TWO})
    run = gate_run(root, "--", "-n", "2", "-k", "not test_b")
    assert run.code == 0, run.proc.stdout
    assert ignored_of(run) == expected
    assert run.result["deselected_by_file"] == [
        {"path": "tests/test_more.py", "mechanism": "-k not test_b", "count": 1}
    ]


def test_demo_project_reports_its_ignored_file() -> None:
    done = cli("ignored", str(REPO / "examples" / "demo-project"), "--python", sys.executable)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[:2] == [
        "1 test file(s) never run:",
        "  tests/test_currency.py     2 tests  --ignore tests/test_currency.py  "
        "(pyproject.toml:10)",
    ]
