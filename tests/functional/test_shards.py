"""Shards and matrix cells, merged: real pytest runs of a 60-test fixture split three ways, and
the merge's one verdict. A part that is missing, there twice, or split from another suite
fails the merge with a reason that names it."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env, cli, write_tree

MODULES = 6
SUITE = {
    f"tests/test_part{m}.py": f"""
        import os
        import pytest

        @pytest.mark.parametrize("n", range(10))
        def test_case(n):
            if {m} == 2 and n == 3:
                assert not os.environ.get("CELL_BREAKS"), "breaks in this cell only"
    """
    for m in range(MODULES)
}
# collects one more test where EXTRA_TEST is set: shards that see different suites
SUITE["tests/conftest.py"] = """
    import os

    def pytest_collect_file(parent, file_path):
        return None

    if os.environ.get("EXTRA_TEST"):
        def test_only_here():
            pass
"""
SUITE["tests/test_extra.py"] = """
    import os
    import pytest

    if os.environ.get("EXTRA_TEST"):
        def test_only_in_some_shards():
            pass
"""


@dataclass
class Merged:
    code: int
    result: dict[str, Any]
    stdout: str
    stderr: str
    summary: str


def shard_run(
    root: Path, label: str, out: Path, *extra: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`test-gate run --shard` on the fixture; its result file."""
    args = ["--shard", label] if label else []
    proc = cli(
        "run",
        str(root),
        "--python",
        sys.executable,
        "--github",
        "false",
        "--seed",
        "7",
        "--diagnose",
        "false",
        "--result-file",
        str(out),
        *args,
        *extra,
        env=env or clean_env(),
    )
    assert out.exists(), proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def merge(*args: str) -> Merged:
    out = Path(args[0]).parent  # beside the first result or folder: never the working dir
    result, summary = out / "merged.json", out / "merged.md"
    proc = cli(
        "merge",
        *args,
        "--github",
        "false",
        "--result-file",
        str(result),
        "--summary-file",
        str(summary),
    )
    data = json.loads(result.read_text()) if result.exists() else {}
    text = summary.read_text() if summary.exists() else ""
    return Merged(proc.returncode, data, proc.stdout, proc.stderr, text)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("sharded") / "project", SUITE)


@pytest.fixture(scope="module")
def shards(suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results of the three shards, in one folder, as downloaded artifacts are."""
    folder = tmp_path_factory.mktemp("artifacts")
    for k in (1, 2, 3):
        (folder / f"shard-{k}").mkdir()
        shard_run(suite, f"{k}/3", folder / f"shard-{k}" / "result.json")
    return folder


@pytest.fixture
def artifacts(shards: Path, tmp_path: Path) -> Path:
    """A copy of the shards' results that a test may change."""
    return Path(shutil.copytree(shards, tmp_path / "artifacts"))


def test_three_shards_merged_count_as_one_unsharded_run(
    suite: Path, artifacts: Path, tmp_path: Path
) -> None:
    whole = shard_run(suite, "", tmp_path / "whole.json")
    merged = merge(str(artifacts))
    assert merged.code == 0, merged.stdout + merged.stderr
    assert merged.result["verdict"] == "pass"
    assert merged.result["kind"] == "merge"
    for key in ("passed", "failed", "error", "skipped", "flaky", "collected"):
        assert merged.result["counts"][key] == whole["counts"][key], key
    assert merged.result["counts"]["passed"] == 60
    assert sorted(t[0] for t in merged.result["tests"]) == sorted(t[0] for t in whole["tests"])
    assert merged.result["seed"] == whole["seed"] == 7
    (cell,) = merged.result["cells"]
    assert (cell["jobs"], cell["shards"], cell["passed"]) == (3, 3, 60)
    assert "| 3 of 3 shards | 60 |" in merged.summary
    assert "Slowest job" in merged.summary


def test_each_shard_ran_its_own_third(shards: Path) -> None:
    results = [json.loads((shards / f"shard-{k}/result.json").read_text()) for k in (1, 2, 3)]
    assert [r["counts"]["passed"] for r in results] == [20, 20, 20]
    assert [r["shard"]["index"] for r in results] == [1, 2, 3]
    assert len({r["shard"]["suite_digest"] for r in results}) == 1
    assert all(r["verdict"] == "pass" for r in results)
    assert all(r["cell"].startswith("py3.") for r in results)


def test_a_shards_command_replays_what_that_shard_ran(suite: Path, shards: Path) -> None:
    result = json.loads((shards / "shard-2/result.json").read_text())
    command = result["reproduce"]
    assert "--test-gate-shard=2/3" in command and "--random-order-seed=7" in command
    words = shlex.split(command.split(" && ")[-1])  # "python -m pytest ...", run in the suite
    proc = subprocess.run(
        [sys.executable, *words[1:], "-v", "-p", "no:cacheprovider"],
        cwd=suite,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    ran = [ln.split(" ")[0] for ln in proc.stdout.splitlines() if " PASSED" in ln]
    assert ran == [t[0] for t in result["tests"]]


def test_a_missing_shard_fails_the_merge_and_is_named(artifacts: Path) -> None:
    shutil.rmtree(artifacts / "shard-2")
    merged = merge(str(artifacts))
    assert merged.code == 1
    first = merged.result["reasons"][0]
    assert "shard 2/3 is missing" in first and "20 of the suite's 60 tests" in first
    assert merged.result["counts"]["passed"] == 40


def test_a_shard_run_twice_fails_the_merge(artifacts: Path) -> None:
    shutil.copytree(artifacts / "shard-1", artifacts / "shard-1-again")
    merged = merge(str(artifacts))
    assert merged.code == 1
    assert any("shard 1/3 appears 2 times" in r for r in merged.result["reasons"])


def test_shards_that_collected_different_suites_fail_the_merge(
    suite: Path, artifacts: Path
) -> None:
    shard_run(
        suite,
        "3/3",
        artifacts / "shard-3" / "result.json",
        env=clean_env(EXTRA_TEST="1"),
    )
    merged = merge(str(artifacts))
    assert merged.code == 1
    assert any("collected different suites" in r for r in merged.result["reasons"])


def test_shards_with_different_seeds_fail_the_merge(suite: Path, artifacts: Path) -> None:
    shard_run(suite, "3/3", artifacts / "shard-3" / "result.json", "--seed", "8")
    merged = merge(str(artifacts))
    assert merged.code == 1
    assert any("different seeds" in r and "3/3: 8" in r for r in merged.result["reasons"])


def test_a_failure_in_one_cell_only_is_named_with_that_cell(suite: Path, tmp_path: Path) -> None:
    plain = shard_run(suite, "", tmp_path / "a.json", "--cell", "linux")
    broken = shard_run(
        suite, "", tmp_path / "b.json", "--cell", "special", env=clean_env(CELL_BREAKS="1")
    )
    assert plain["verdict"] == "pass" and broken["counts"]["failed"] == 1
    merged = merge(
        str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--expect-cells", "linux,special"
    )
    only = merged.result["failing_in_some_cells"]
    assert [(e["nodeid"], e["cells"], e["other_cells"]) for e in only] == [
        ("tests/test_part2.py::test_case[3]", ["special"], ["linux"])
    ]
    assert merged.result["failing_everywhere"] == []
    assert "Failing in some cells only (1)" in merged.summary
    assert merged.result["failures"][0]["nodeid"] == "tests/test_part2.py::test_case[3]"
    assert merged.result["counts"]["passed"] == 119  # 60 + 59: two cells, one failure
    assert "[special]" in merged.stdout


def test_an_expected_cell_that_is_missing_fails(artifacts: Path) -> None:
    cell = json.loads((artifacts / "shard-1/result.json").read_text())["cell"]
    merged = merge(str(artifacts), "--expect-cells", f"{cell},py3.99-windows")
    assert merged.code == 1
    assert any("cell py3.99-windows is missing" in r for r in merged.result["reasons"])


def test_a_file_that_is_not_a_result_fails_the_merge_naming_it(artifacts: Path) -> None:
    (artifacts / "shard-1" / "notes.json").write_text('{"hello": 1}')
    (artifacts / "shard-2" / "result.json").write_text('{"tool": "test-gate", "schema": 2, "te')
    merged = merge(str(artifacts))
    assert merged.code == 1
    reasons = merged.result["reasons"]
    assert any("notes.json is not a test-gate result file" in r for r in reasons)
    assert any("shard-2/result.json is not valid JSON" in r for r in reasons)


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "1/0"])
def test_a_bad_shard_value_is_one_line_and_exit_2(suite: Path, value: str) -> None:
    proc = cli("run", str(suite), "--shard", value, "--github", "false")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert f"--shard: {value!r} is not a shard; use K/N" in proc.stderr


def test_durations_from_a_previous_result_balance_the_shards(suite: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.json"
    shard_run(suite, "", whole)
    part = shard_run(suite, "1/2", tmp_path / "s1.json", "--durations-from", str(whole))
    assert part["shard"]["split_by"] == "durations"
    assert "--test-gate-durations=" in part["reproduce"]
    bad = cli("run", str(suite), "--shard", "1/2", "--durations-from", str(tmp_path / "nope.json"))
    assert (
        bad.returncode == 2 and "--durations-from:" in bad.stderr and "does not exist" in bad.stderr
    )


def test_a_shard_the_split_left_empty_passes_with_a_notice(project: Any, tmp_path: Path) -> None:
    root = project({"tests/test_two.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n"})
    empty = shard_run(root, "2/3", tmp_path / "empty.json")
    assert empty["verdict"] == "pass", empty["reasons"]
    assert empty["shard"]["ids"] == [] and empty["counts"]["passed"] == 0
    assert any("shard 2/3 got no tests" in n for n in empty["notices"])
    for k in (1, 3):
        shard_run(root, f"{k}/3", tmp_path / f"s{k}.json")
    merged = merge(*(str(tmp_path / f"{n}.json") for n in ("s1", "empty", "s3")))
    assert merged.code == 0 and merged.result["counts"]["passed"] == 2
