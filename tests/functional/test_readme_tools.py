"""The README's tox and nox snippets run as written: each tool runs pytest with the record on
in an environment of its own, then `test-gate gate` counts its report as `test-gate run`
would. The only change is pytest-test-gate's git URL, pointed at this source tree."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, clean_env, cli, write_tree

README = (REPO / "README.md").read_text(encoding="utf-8")
GIT_URL = "git+https://github.com/org/test-gate#subdirectory=pytest-test-gate"
PROJECT = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "demo"
        version = "1.0"

        [tool.setuptools]
        py-modules = ["demo"]
    """,
    "demo.py": "def add(a, b):\n    return a + b\n",
    "tests/test_demo.py": """
        import pathlib

        from demo import add

        def test_add():
            assert add(2, 2) == 4

        def test_flaky():
            marker = pathlib.Path(__file__).with_name("flaky-marker")
            if not marker.exists():
                marker.write_text("x")
                assert False, "fails the first time only"

        def test_fails():
            assert add(1, 1) == 3
    """,
}


def snippet(first_line: str) -> str:
    """The code block of the README that starts with `first_line`."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", README, flags=re.S)
    found = [b for b in blocks if b.startswith(first_line)]
    assert len(found) == 1, first_line
    return found[0].replace(GIT_URL, (REPO / "pytest-test-gate").as_uri())


def command(text: str) -> list[str]:
    """The tool's line of the `sh` block that follows a snippet: `tox -e gate; test-gate gate
    F` -> (`tox -e gate`, F)."""
    tool, _, gate = text.partition(";")
    return [tool.strip(), gate.split()[-1]]


def gated(root: Path, tool: list[str], report: str) -> dict[str, int]:
    done = subprocess.run(
        tool, cwd=root, env=clean_env(), capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # a test fails
    result = root / "result.json"
    proc = cli("gate", str(root / report), "--github=false", f"--result-file={result}", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    counts: dict[str, int] = json.loads(result.read_text())["counts"]
    return counts


def _after(marker: str) -> str:
    return README.split(marker, 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("tool", ["tox", "nox"])
def test_the_snippet_runs_as_written(tool: str, tmp_path: Path) -> None:
    root = write_tree(tmp_path / tool, PROJECT)
    if tool == "tox":
        (root / "tox.ini").write_text(snippet("# tox.ini"))
        line = _after("# tox.ini")
    else:
        (root / "noxfile.py").write_text(snippet("# noxfile.py"))
        line = _after("# noxfile.py")
    run, report = command(line)
    words = run.split()
    words[0] = str(Path(sys.executable).parent / words[0])  # the tool of this environment
    if tool == "nox":  # the project is installed as the README says to
        noxfile = root / "noxfile.py"
        noxfile.write_text(
            noxfile.read_text().replace(
                "    session.install(\n", '    session.install("-e", ".")\n    session.install(\n'
            )
        )
    counts = gated(root, words, report)
    assert (counts["passed"], counts["failed"], counts["flaky"]) == (2, 1, 1)
