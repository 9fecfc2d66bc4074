"""The CLI as the action calls it: `--option=value` words, GitHub files, the plugin install."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from conftest import REPO, clean_env, cli

PASSING = {"tests/test_ok.py": "def test_ok():\n    assert True\n"}


def _github_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "gh").mkdir()
    return clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp_path / "gh" / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "gh" / "summary"),
        RUNNER_TEMP=str(tmp_path / "gh"),
    )


def _outputs(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"^([\w-]+)<<(ghadelimiter_[\w-]+)\n(.*?)\n\2$", text, re.M | re.S)
    return {name: value for name, _, value in found}


def test_the_outputs_are_the_actions_outputs(
    project: Callable[[Mapping[str, str]], Path], tmp_path: Path
) -> None:
    root = project(PASSING)
    env = _github_env(tmp_path)
    proc = cli(
        "run",
        f"--path={root}",
        f"--python={sys.executable}",
        "--pytest-args=-q",
        "--allow-no-tests=false",
        "--seed=11",
        "--github=true",
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = _outputs(Path(env["GITHUB_OUTPUT"]))
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert set(outputs) == set(action["outputs"])
    assert (outputs["verdict"], outputs["passed"], outputs["seed"]) == ("pass", "1", "11")
    for name in ("result-file", "report-file", "summary-file"):
        assert Path(outputs[name]).is_relative_to(tmp_path / "gh"), name  # under RUNNER_TEMP
    assert "test-gate passed" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


def test_allow_no_tests_takes_a_value(
    project: Callable[[Mapping[str, str]], Path], tmp_path: Path
) -> None:
    root = project({"tests/test_none.py": "X = 1\n"})
    base = ("run", f"--path={root}", f"--python={sys.executable}", "--github=false")
    assert cli(*base, "--allow-no-tests=false").returncode == 1
    assert cli(*base, "--allow-no-tests=true").returncode == 0
    assert cli(*base, "--allow-no-tests").returncode == 0
    bad = cli(*base, "--allow-no-tests=maybe")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "test-gate: error: --allow-no-tests: 'maybe' is not a boolean; use true or false"
    ]


def test_path_is_given_once(project: Callable[[Mapping[str, str]], Path]) -> None:
    root = project(PASSING)
    both = cli("run", str(root), f"--path={root}", "--github=false")
    assert both.returncode == 2
    assert "either as PATH or as --path" in both.stderr
    missing = cli("run", "--path=-nope", "--github=false")
    assert missing.returncode == 2
    assert missing.stderr.startswith("test-gate: error: --path: '-nope' is not a directory")


def test_install_plugins_keeps_pinned_plugins_already_there() -> None:
    proc = cli("install-plugins", f"--python={sys.executable}")
    assert proc.returncode == 0, proc.stderr
    assert "already has the pinned plugins" in proc.stdout
    assert "pip install" not in proc.stdout


def test_install_plugins_names_a_bad_interpreter_in_one_line(tmp_path: Path) -> None:
    proc = cli("install-plugins", f"--python={tmp_path / 'nope'}")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--python:" in proc.stderr and "cannot be run" in proc.stderr


def test_a_relative_python_is_relative_to_where_the_gate_starts(
    project: Callable[[Mapping[str, str]], Path],
) -> None:
    root = project({"sub/tests/test_ok.py": "def test_ok():\n    assert True\n"})
    relative = os.path.relpath(sys.executable, root)
    proc = cli("run", "--path=sub", f"--python={relative}", "--github=false", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
