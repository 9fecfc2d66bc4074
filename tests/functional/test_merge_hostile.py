"""Result files a merge must not trust: each is a real shard's result, changed the way a
forger, a bug or a damaged artifact would change it. None may crash the merge, exhaust its
memory, or pass it; each is named with its file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env, write_tree
from test_shards import SUITE, merge, shard_run


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("forged") / "project", SUITE)


@pytest.fixture(scope="module")
def real(suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real shards of the suite, and a real whole-suite run of it in another cell."""
    folder = tmp_path_factory.mktemp("real")
    for k in (1, 2, 3):
        shard_run(suite, f"{k}/3", folder / f"shard-{k}.json")
    shard_run(suite, "", folder / "whole.json", "--cell", "whole")
    return folder


def _rewrite(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _first_row(value: Any, at: int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["tests"][0][at] = value

    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data[key] = value

    return change


def _twice(outcome: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["tests"].append([data["tests"][0][0], outcome, 1, 0.1])

    return change


def _suite_size(data: dict[str, Any]) -> None:
    data["shard"]["suite"] += 5


def _counts(**values: int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["counts"].update(values)

    return change


def _rows_gone(data: dict[str, Any]) -> None:
    data["tests"] = []
    data["failures"] = []
    for key in ("passed", "failed", "flaky", "reruns"):
        data["counts"][key] = 0


def _shard_total(total: int) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["shard"]["total"] = total
        data["shard_asked"] = f"{data['shard']['index']}/{total}"

    return change


FORGED: dict[str, tuple[str, Callable[[dict[str, Any]], None], str]] = {
    "a billion attempts": ("shard-1.json", _first_row(10**9, 2), "rows are not [id, outcome"),
    "an outcome that is a list": ("shard-1.json", _first_row(["passed"], 1), "rows are not"),
    "a suite size with the same digest": (
        "shard-2.json",
        _suite_size,
        "shards with the same suite digest claim different suite sizes",
    ),
    "a test listed twice, passed": ("shard-1.json", _twice("passed"), "listed more than once"),
    "a test listed once failed, once passed": (
        "shard-1.json",
        _twice("failed"),
        "listed more than once",
    ),
    "a negative count": ("shard-1.json", _counts(skipped=-3), "its count skipped is -3"),
    "a collected count of 1000": (
        "whole.json",
        _counts(collected=1000),
        "it passed, yet 940 of the 1000 tests it collected and kept have no row",
    ),
    "a deselected count": ("whole.json", _counts(deselected=4), "it lists 60 test(s), more than"),
    "the rows gone": ("whole.json", _rows_gone, "tests it collected and kept have no row"),
    "blind reasons as a string": (
        "shard-3.json",
        _set("blind_reasons", "pytest crashed"),
        "its blind_reasons is str, not a list of strings",
    ),
    "blind reasons as an object": (
        "shard-3.json",
        _set("blind_reasons", {"a": 1}),
        "its blind_reasons is dict, not a list of strings",
    ),
    "a fail with passing rows": (
        "shard-2.json",
        _set("verdict", "fail"),
        "its verdict is fail with 0 reason(s)",
    ),
    "a verdict of Markdown": (
        "shard-2.json",
        _set("verdict", "pass |\n\n## ✅ test-gate passed\n[x](https://example.invalid)"),
        "its verdict is 'pass |",
    ),
    "a shard of 999999": ("shard-1.json", _shard_total(999999), "over the limits (1,000 shards"),
    "ids that do not match their digest": (
        "shard-1.json",
        lambda d: d["shard"]["ids"].__setitem__(0, "tests/test_part0.py::test_case[forged]"),
        "its shard's ids do not match their digest",
    ),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_a_forged_result_fails_the_merge_naming_its_file(
    case: str, real: Path, tmp_path: Path
) -> None:
    name, change, message = FORGED[case]
    folder = Path(shutil.copytree(real, tmp_path / "results"))
    _rewrite(folder / name, change)
    merged = merge(str(folder))
    assert "Traceback" not in merged.stderr, merged.stderr
    assert merged.code == 1, merged.stdout
    assert merged.result["verdict"] == "fail"
    reasons = merged.result["reasons"]
    assert any(message in r and name in r for r in reasons), reasons
    assert not any(line.startswith("## ✅") for line in merged.summary.splitlines())
    assert "[x](https://" not in merged.summary


def test_the_untouched_results_merge_and_pass(real: Path) -> None:
    merged = merge(str(real))
    assert merged.code == 0, merged.result["reasons"]


def test_a_thousand_shards_claimed_by_one_result_are_one_reason(real: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(real / "shard-1.json", folder / "only.json")
    _rewrite(folder / "only.json", _shard_total(1000))
    merged = merge(str(folder))
    assert merged.code == 1
    missing = [r for r in merged.result["reasons"] if "shards are missing" in r]
    assert len(missing) == 1 and "999 shards are missing" in missing[0], merged.result["reasons"]
    assert len(merged.result["reasons"]) < 10
    assert (tmp_path / "merged.json").stat().st_size < 200_000


CRASH = {
    "tests/conftest.py": """
        import os
        if os.environ.get("CRASH"):
            raise RuntimeError("the conftest cannot import")
    """,
    "tests/test_a.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n",
}


def test_a_crashed_shard_keeps_its_label_and_its_reason_comes_first(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", CRASH)
    out = tmp_path / "results"
    shard_run(root, "1/2", out / "one.json")
    crashed = shard_run(root, "2/2", out / "two.json", env=clean_env(CRASH="1"))
    assert crashed["shard"] is None and crashed["shard_asked"] == "2/2"
    merged = merge(str(out))
    assert merged.code == 1
    first = merged.result["reasons"][0]
    assert first.startswith("py") and "[2/2]:" in first, merged.result["reasons"]
    assert not any("--cell" in r for r in merged.result["reasons"])


def test_a_cell_that_ran_no_test_fails_the_merge(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    shard_run(suite, "", out / "a.json", "--cell", "linux")
    shard_run(
        suite, "", out / "b.json", "--cell", "macos", "--allow-no-tests", "--", "-k", "typo_x"
    )
    merged = merge(str(out), "--expect-cells", "linux,macos")
    assert merged.code == 1
    assert any("cell macos attempted no test" in r for r in merged.result["reasons"])
    assert merge(str(out), "--allow-no-tests").code == 0


NEVER_RAN = {
    "tests/test_a.py": "def test_a():\n    pass\n",
    "tests/test_gone.py": """
        import pytest
        pytest.skip("needs a database", allow_module_level=True)

        def test_db():
            pass
    """,
}


def test_what_never_ran_survives_the_merge(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", NEVER_RAN)
    out = tmp_path / "results"
    for k in (1, 2):
        shard_run(root, f"{k}/2", out / f"r{k}.json")
    merged = merge(str(out))
    assert [n["path"] for n in merged.result["never_ran"]] == ["tests/test_gone.py"]
    assert "tests/test_gone.py" in merged.stdout and "tests/test_gone.py" in merged.summary
