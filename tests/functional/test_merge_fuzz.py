"""Mutations of real result files, merged: never an exception, and never a pass once a value
the merged verdict rests on was changed. The results come from real shard runs (three shards
of one suite); each case changes one place of one file's JSON tree: it deletes it, gives it a
value of another type or size, or duplicates a list entry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_report_fuzz import Path_, mutate, paths
from test_shards import shard_run

from test_gate.analyse.merge import merge_jobs
from test_gate.analyse.verdict import Policy, decide
from test_gate.read.results import read_results

SUITE = {
    "tests/test_a.py": """
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_case(n):
            pass

        @pytest.mark.skip(reason="later")
        def test_later():
            pass
    """,
    "tests/test_b.py": "def test_b():\n    pass\n",
}
# what the merged verdict rests on: a change to any of these must not pass
VITAL = frozenset(
    {"tool", "schema", "kind", "verdict", "reasons", "blind_reasons", "counts", "tests"}
    | {"shard", "cell", "seed"}
)
BENIGN_SHARD = frozenset({"split_by", "durations_from"})
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["pass", "fail", "passed", "failed", "1/3", "3/3", "##[error]x", "\n"]),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
CASES = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = write_tree(tmp_path_factory.mktemp("fuzz") / "project", SUITE)
    out = tmp_path_factory.mktemp("results")
    return [shard_run(root, f"{k}/3", out / f"r{k}.json") for k in (1, 2, 3)]


def merged(folder: Path, files: list[dict[str, Any]]) -> bool:
    """Whether the merge of these result files passes; problems as the merge command has them."""
    paths = []
    for number, data in enumerate(files):
        paths.append(folder / f"r{number}.json")
        paths[-1].write_text(json.dumps(data))
    run, _ = merge_jobs(*read_results(paths))
    return decide(run, Policy()).passed


def vital(path: Path_, how: str) -> bool:
    if path[0] not in VITAL:
        return False
    if path[0] == "shard" and len(path) >= 2 and path[1] in BENIGN_SHARD:
        return False
    # a row's seconds: any duration the row could hold
    return not (path[0] == "tests" and len(path) == 3 and path[2] == 3 and how != "delete")


def test_the_real_shards_merge_and_pass(shards: list[dict[str, Any]], tmp_path: Path) -> None:
    assert merged(tmp_path, shards)


@CASES
@given(
    data=st.data(),
    which=st.integers(min_value=0, max_value=2),
    how=st.sampled_from(["delete", "replace", "duplicate"]),
    value=VALUES,
)
def test_a_changed_result_never_crashes_the_merge_or_passes_it(
    shards: list[dict[str, Any]],
    tmp_path: Path,
    data: st.DataObject,
    which: int,
    how: str,
    value: Any,
) -> None:
    path = data.draw(st.sampled_from(list(paths(shards[which]))))
    changed = mutate(shards[which], path, how, value)
    files = [changed if n == which else copy.deepcopy(f) for n, f in enumerate(shards)]
    passed = merged(tmp_path, files)  # an exception fails the test
    if changed != shards[which] and vital(path, how):
        assert not passed, (path, how, value)
