"""The exact-order plugin inside a real pytest: the file's order wins, nothing else runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import clean_env

from test_gate.run.pytest_process import PLUGIN_DIR

FILES = {
    "tests/test_a.py": """
        def test_a1():
            pass

        def test_a2():
            assert 0
    """,
    "tests/test_b.py": """
        import pytest

        @pytest.mark.parametrize("x", ["p q", "r"])
        def test_b(x):
            pass
    """,
    "tests/other/test_boom.py": """
        raise RuntimeError("this module must not be imported")
    """,
}


def run(root: Path, ids: list[str], *args: str) -> dict[str, object]:
    order = root / "ids.txt"
    order.write_text("".join(i + "\n" for i in ids))
    results = root / "results.json"
    env = clean_env(
        PYTHONPATH=str(PLUGIN_DIR),
        TEST_GATE_ORDER_FILE=str(order),
        TEST_GATE_ORDER_RESULTS=str(results),
        PYTEST_ADDOPTS="-p no:hypothesispytest",
    )
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tgate_order", "-p", "no:randomly", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    data: dict[str, object] = json.loads(results.read_text())
    return data


def test_runs_exactly_the_ids_in_the_file_order(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(FILES)
    ids = ["tests/test_b.py::test_b[r]", "tests/test_a.py::test_a2", "tests/test_b.py::test_b[p q]"]
    # random order asked on top: the file's order still wins
    data = run(root, [*ids, "tests/test_a.py::test_gone"], "--random-order-seed=3")
    assert data["ran"] == ids
    assert data["outcomes"] == {ids[0]: "passed", ids[1]: "failed", ids[2]: "passed"}
    assert data["missing"] == ["tests/test_a.py::test_gone"]


def test_other_test_modules_are_not_even_imported(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(FILES)
    data = run(root, ["tests/test_a.py::test_a1"], "tests")
    assert data["ran"] == ["tests/test_a.py::test_a1"]
    assert data["outcomes"] == {"tests/test_a.py::test_a1": "passed"}
    assert data["exit_status"] == 0  # no collection error from tests/other/test_boom.py


def test_without_the_environment_the_plugin_does_nothing(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project({"tests/test_a.py": FILES["tests/test_a.py"]})
    env = clean_env(PYTHONPATH=str(PLUGIN_DIR), PYTEST_ADDOPTS="-p no:hypothesispytest")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tgate_order", "-q"],
        cwd=root,
        env={k: v for k, v in env.items() if not k.startswith("TEST_GATE_ORDER")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "1 failed, 1 passed" in done.stdout
    assert not os.path.exists(root / "results.json")
