"""The exact-order part: the file's order wins, and nothing else runs or is even imported."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
    "tests/other/test_boom.py": 'raise RuntimeError("this module must not be imported")\n',
}


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    for name, text in FILES.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester


def run(pytester: pytest.Pytester, ids: list[str], *args: str) -> dict[str, Any]:
    order = pytester.path / "ids.txt"
    order.write_text("".join(i + "\n" for i in ids))
    results = pytester.path / "results.json"
    pytester.runpytest_subprocess(
        f"--test-gate-order={order}", f"--test-gate-outcomes={results}", "-p", "no:randomly", *args
    )
    data: dict[str, Any] = json.loads(results.read_text())
    return data


def test_runs_exactly_the_ids_in_the_file_order(suite: pytest.Pytester) -> None:
    ids = ["tests/test_b.py::test_b[r]", "tests/test_a.py::test_a2", "tests/test_b.py::test_b[p q]"]
    # random order asked on top: the file's order still wins
    data = run(suite, [*ids, "tests/test_a.py::test_gone"], "--random-order-seed=3")
    assert data["ran"] == ids
    assert data["outcomes"] == {ids[0]: "passed", ids[1]: "failed", ids[2]: "passed"}
    assert data["missing"] == ["tests/test_a.py::test_gone"]


def test_other_test_modules_are_not_even_imported(suite: pytest.Pytester) -> None:
    data = run(suite, ["tests/test_a.py::test_a1"], "tests")
    assert data["ran"] == ["tests/test_a.py::test_a1"]
    assert data["outcomes"] == {"tests/test_a.py::test_a1": "passed"}
    assert data["exit_status"] == 0  # no collection error from tests/other/test_boom.py


def test_outcomes_alone_keep_the_order_pytest_was_given(suite: pytest.Pytester) -> None:
    results = suite.path / "results.json"
    suite.runpytest_subprocess(
        f"--test-gate-outcomes={results}",
        "-p",
        "no:randomly",
        "-p",
        "no:random_order",
        "tests/test_b.py::test_b[r]",
        "tests/test_a.py::test_a1",
    )
    data = json.loads(results.read_text())
    assert data["ran"] == ["tests/test_b.py::test_b[r]", "tests/test_a.py::test_a1"]
