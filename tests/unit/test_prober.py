"""Arguments and printed commands of the diagnosis runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pytest_test_gate.recorder import option_kinds

from test_gate.analyse.findings import OrderedRun
from test_gate.analyse.victims import order_changes
from test_gate.read.records import Attempt, OptionKinds, Outcome, RunData
from test_gate.read.records import TestRecord as Record
from test_gate.run.prober import command_id, diagnosis_args, printed_command, run_options


@pytest.fixture
def kinds(pytestconfig: pytest.Config) -> OptionKinds:
    """The table the recorder writes, from this very pytest, plus a few plugins' options."""
    table = option_kinds(pytestconfig)
    return OptionKinds(
        frozenset(table["takes_value"]) | {"--ds", "--level"},
        frozenset(table["optional_value"]) | {"--cov"},
        frozenset(table["flags"]) | {"--runslow", "--reuse-db", "--doctest-modules"},
    )


def test_the_recorded_table_knows_pytest_and_its_plugins(kinds: OptionKinds) -> None:
    assert {"-k", "-m", "-o", "-p", "--maxfail", "--reruns", "-n"} <= kinds.takes_value
    assert {"-v", "-x", "--strict-markers", "--test-gate"} <= kinds.flags


def test_options_stay_selection_goes_when_ids_are_named(tmp_path: Path, kinds: OptionKinds) -> None:
    (tmp_path / "tests").mkdir()
    args = [
        "-o",
        "xfail_strict=true",
        "-m",
        "not slow",
        "tests",
        "-x",
        "--maxfail=3",
        "--lf",
        "-q",
        "tests/test_a.py::test_b",
        "--reruns",
        "2",
    ]
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == [
        "-o",
        "xfail_strict=true",
        "-m",
        "not slow",
        "-q",
    ]
    assert diagnosis_args(args, tmp_path, keep_selection=True, kinds=kinds) == [
        "-o",
        "xfail_strict=true",
        "-m",
        "not slow",
        "tests",
        "-q",
        "tests/test_a.py::test_b",
    ]


def test_ids_are_made_relative_to_the_directory_pytest_runs_in(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sub = root / "pkg"
    sub.mkdir(parents=True)
    assert (
        command_id("pkg/tests/test_a.py::test_x[1]", str(root), sub) == "tests/test_a.py::test_x[1]"
    )
    assert command_id("tests/test_a.py::T::test", "", sub) == "tests/test_a.py::T::test"


def test_printed_command_quotes_ids_and_keeps_the_order(tmp_path: Path) -> None:
    command = printed_command(tmp_path, str(tmp_path), ["-o", "a=b c"], ["t.py::z", "t.py::a[x y]"])
    assert command.endswith(
        "python -m pytest -o 'a=b c' --rootdir=. -p no:randomly -p no:random_order "
        "t.py::z 't.py::a[x y]'"
    )
    assert command.startswith("cd ")


def _run(outcomes: dict[str, Outcome]) -> RunData:
    return RunData(
        tests=tuple(
            Record(n, "t.py", 1, (Attempt(o),), i) for i, (n, o) in enumerate(outcomes.items())
        )
    )


def test_order_changes_lists_tests_that_pass_in_one_order_and_fail_in_another() -> None:
    runs = [
        OrderedRun(_run({"a": Outcome.PASSED, "b": Outcome.FAILED, "c": Outcome.SKIPPED}), 1),
        OrderedRun(_run({"b": Outcome.FAILED, "a": Outcome.ERROR, "c": Outcome.SKIPPED}), 2),
    ]
    changes = order_changes(runs)
    assert [(c.nodeid, c.outcomes) for c in changes] == [("a", ((1, "passed"), (2, "error")))]


def test_parallel_options_are_dropped_the_order_is_the_point(
    tmp_path: Path, kinds: OptionKinds
) -> None:
    args = ["-n", "4", "-n8", "--dist=load", "--numprocesses", "auto", "-v"]
    assert diagnosis_args(args, tmp_path, keep_selection=True, kinds=kinds) == ["-v"]


def test_values_follow_the_table_pytest_parsed(tmp_path: Path, kinds: OptionKinds) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    args = ["--cov", "src", "--ds", "settings", "--doctest-modules", "tests", "-v", "tests"]
    # --cov takes an optional value: a directory after it is a test path
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == [
        "--cov",
        "--ds",
        "settings",
        "--doctest-modules",
        "-v",
    ]
    # an option that takes a value keeps it, even when the value names a directory
    args = ["--ds", "tests", "tests"]
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == ["--ds", "tests"]


def test_without_a_table_a_path_after_an_unknown_option_is_a_path(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    args = ["--cov", "src", "--ds", "settings"]
    assert diagnosis_args(args, tmp_path, keep_selection=False) == ["--cov", "--ds", "settings"]


def test_a_test_path_after_a_flag_is_not_its_value(tmp_path: Path, kinds: OptionKinds) -> None:
    (tmp_path / "tests").mkdir()
    args = ["--runslow", "tests", "--reuse-db", "tests/test_a.py::test_x", "--level", "3"]
    expected = ["--runslow", "--reuse-db", "--level", "3"]
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == expected
    args = ["--runslow", "tests", "--level", "tests", "-v"]
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == [
        "--runslow",
        "--level",
        "tests",
        "-v",
    ]
    no_level = replace(kinds, takes_value=kinds.takes_value - {"--level"})
    assert diagnosis_args(["--level", "tests"], tmp_path, keep_selection=False, kinds=no_level) == [
        "--level"
    ]


def test_runs_add_n0_when_xdist_is_installed_and_the_main_rootdir(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    assert run_options(str(tmp_path), sub, [], xdist=True) == ["-n0", "--rootdir=.."]
    assert run_options(str(tmp_path), tmp_path, [], xdist=False) == ["--rootdir=."]
    assert run_options(str(tmp_path), tmp_path, ["--rootdir", "x"], xdist=False) == []


def test_a_test_id_that_looks_like_an_option_stays_a_test(tmp_path: Path) -> None:
    assert command_id("--junitxml=x/test_a.py::test", "", tmp_path) == (
        "./--junitxml=x/test_a.py::test"
    )


def test_a_test_skipped_in_one_order_and_passing_in_another_changed() -> None:
    runs = [
        OrderedRun(_run({"a": Outcome.PASSED, "b": Outcome.SKIPPED}), 1),
        OrderedRun(_run({"a": Outcome.SKIPPED, "b": Outcome.SKIPPED}), 2),
    ]
    assert [c.nodeid for c in order_changes(runs)] == ["a"]
