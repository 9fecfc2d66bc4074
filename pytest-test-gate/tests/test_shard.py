"""The shard part and the split: every shard collects the whole suite, keeps its part, and
records the proof; the parts add up to the suite, once each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from record_helpers import record

from pytest_test_gate.split import SplitError, assign, digest, durations_of, parse_shard

MODULES = 5
PER_MODULE = 6


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    for m in range(MODULES):
        pytester.makepyfile(
            **{
                f"test_mod{m}": f"""
import pytest

@pytest.mark.parametrize("n", range({PER_MODULE}))
def test_it(n):
    pass
"""
            }
        )
    return pytester


def shard(pytester: pytest.Pytester, label: str, *args: str) -> dict[str, Any]:
    found: dict[str, Any] = record(pytester, f"--test-gate-shard={label}", *args)["shard"]
    return found


def ran(data: dict[str, Any]) -> list[str]:
    return [r["nodeid"] for r in data["reports"] if r["when"] == "call"]


def test_the_shards_add_up_to_the_suite_once_each(suite: pytest.Pytester) -> None:
    parts = [shard(suite, f"{k}/3") for k in (1, 2, 3)]
    ids = [i for p in parts for i in p["ids"]]
    assert len(ids) == len(set(ids)) == MODULES * PER_MODULE
    assert {p["suite_digest"] for p in parts} == {digest(ids)}
    assert all(p["suite"] == MODULES * PER_MODULE and p["total"] == 3 for p in parts)
    assert [len(p["ids"]) for p in parts] == [10, 10, 10]
    assert all(p["ids_digest"] == digest(p["ids"]) for p in parts)


def test_a_shard_runs_only_its_part_and_the_rest_is_deselected(suite: pytest.Pytester) -> None:
    data = record(suite, "--test-gate-shard=2/3")
    assert sorted(ran(data)) == sorted(data["shard"]["ids"])
    assert data["collected"] == MODULES * PER_MODULE
    assert len(data["deselected"]) == 20


def test_the_other_shards_are_not_listed_as_deselected_files(suite: pytest.Pytester) -> None:
    data = record(suite, "--test-gate-shard=1/3", "--test-gate")
    assert data["deselected_by_file"] == []


def test_the_users_selection_shapes_the_suite_first(suite: pytest.Pytester) -> None:
    parts = [shard(suite, f"{k}/2", "-k", "mod0 or mod1") for k in (1, 2)]
    assert all(p["suite"] == 2 * PER_MODULE for p in parts)
    assert sorted(i for p in parts for i in p["ids"]) == sorted(
        f"test_mod{m}.py::test_it[{n}]" for m in (0, 1) for n in range(PER_MODULE)
    )


def test_one_seed_gives_one_order_in_a_shard(suite: pytest.Pytester) -> None:
    args = ("--random-order-seed=11", "--test-gate-shard=1/2")
    first, second = record(suite, *args), record(suite, *args)
    assert ran(first) == ran(second)
    assert sorted(ran(first)) == sorted(first["shard"]["ids"])


def test_durations_balance_the_shards(suite: pytest.Pytester) -> None:
    fast = {f"test_mod{m}.py::test_it[{n}]": 0.1 for m in range(MODULES) for n in range(6)}
    slow = {f"test_mod0.py::test_it[{n}]": 10.0 for n in range(PER_MODULE)}
    durations = suite.path / "durations.json"
    durations.write_text(json.dumps({**fast, **slow}))
    weights = {**fast, **slow}
    parts = [shard(suite, f"{k}/2", f"--test-gate-durations={durations}") for k in (1, 2)]
    assert {p["split_by"] for p in parts} == {"durations"}
    loads = [sum(weights[i] for i in p["ids"]) for p in parts]
    assert abs(loads[0] - loads[1]) <= 10.0  # one slow test, where a split by count is 57.6 s
    assert len(parts[0]["ids"]) == 3  # half of the time in 3 of the 30 tests


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "1/0", "3"])
def test_a_bad_shard_is_a_usage_error(suite: pytest.Pytester, value: str) -> None:
    result = suite.runpytest_subprocess(f"--test-gate-shard={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test-gate shard*is not a shard; use K/N*"])


def test_durations_need_a_shard_and_a_readable_file(suite: pytest.Pytester) -> None:
    alone = suite.runpytest_subprocess("--test-gate-durations=x.json")
    assert alone.ret == pytest.ExitCode.USAGE_ERROR
    alone.stderr.fnmatch_lines(["*--test-gate-durations needs --test-gate-shard*"])
    missing = suite.runpytest_subprocess("--test-gate-shard=1/2", "--test-gate-durations=x.json")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*'x.json' does not exist*"])


def test_an_exact_order_is_not_split(suite: pytest.Pytester) -> None:
    ids = ["test_mod0.py::test_it[0]", "test_mod4.py::test_it[5]"]
    order = suite.path / "ids.txt"
    order.write_text("".join(i + "\n" for i in ids))
    data = record(suite, "--test-gate-shard=3/3", f"--test-gate-order={order}")
    assert ran(data) == ids
    assert data.get("shard") is None


# -- the split itself -----------------------------------------------------------------------


def test_the_split_does_not_depend_on_the_collection_order() -> None:
    ids = [f"t.py::test_{n}" for n in range(50)]
    assert assign(ids, 4) == assign(list(reversed(ids)), 4)


def test_by_count_the_shards_differ_by_at_most_one_test() -> None:
    for size in (1, 7, 60, 61, 1000):
        for total in (1, 2, 3, 7):
            shards = assign([f"t{n}" for n in range(size)], total)
            sizes = [list(shards.values()).count(k) for k in range(1, total + 1)]
            assert max(sizes) - min(sizes) <= 1, (size, total, sizes)


def test_by_duration_a_shard_is_off_by_at_most_one_test() -> None:
    durations = {f"t{n:03}": float(1 + (n * 37) % 11) for n in range(300)}
    shards = assign(list(durations), 3, durations)
    loads = [sum(d for i, d in durations.items() if shards[i] == k) for k in (1, 2, 3)]
    assert max(loads) - min(loads) <= 2 * max(durations.values())


def test_a_test_without_a_recorded_duration_weighs_as_a_typical_one() -> None:
    shards = assign(["a", "b", "c", "new"], 2, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert sorted(shards.values()) == [1, 1, 2, 2]


def test_shard_values() -> None:
    assert parse_shard(" 2/3 ") == (2, 3)
    for bad in ("0/3", "4/3", "a/b", "1/0", "1/-2", "1/3/4", "１/３"):
        with pytest.raises(SplitError, match="is not a shard"):
            parse_shard(bad)


def test_durations_from_each_kind_of_file() -> None:
    gate_result = {"tool": "test-gate", "tests": [["a", "passed", 1, 0.5], ["a", "passed", 1, 2]]}
    report = {"tests": [{"nodeid": "a", "setup": {"duration": 1}, "call": {"duration": 2}}]}
    assert durations_of(gate_result) == {"a": 2.0}
    assert durations_of(report) == {"a": 3.0}
    assert durations_of({"a": 1, "b": 2.5}) == {"a": 1.0, "b": 2.5}
    assert durations_of({"a": "slow"}) is None
    assert durations_of([1, 2]) is None


def test_under_xdist_the_workers_tell_the_controller_their_split(suite: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    alone = shard(suite, "1/3")
    spread = shard(suite, "1/3", "-n", "2")
    assert spread is not None
    assert spread["suite_digest"] == alone["suite_digest"]
    assert sorted(spread["ids"]) == sorted(alone["ids"])
