"""Arguments and printed commands of the diagnosis runs."""

from __future__ import annotations

from pathlib import Path

from test_gate.analyse.diagnose import OrderedRun, order_changes
from test_gate.run.prober import (
    command_id,
    diagnosis_args,
    needs_option_kinds,
    parse_help,
    printed_command,
    run_options,
)
from test_gate.read.records import Attempt, Outcome, RunData
from test_gate.read.records import TestRecord as Record


def test_options_stay_selection_goes_when_ids_are_named(tmp_path: Path) -> None:
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
    assert diagnosis_args(args, tmp_path, keep_selection=False) == [
        "-o",
        "xfail_strict=true",
        "-m",
        "not slow",
        "-q",
    ]
    assert diagnosis_args(args, tmp_path, keep_selection=True) == [
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


def test_parallel_options_are_dropped_the_order_is_the_point(tmp_path: Path) -> None:
    args = ["-n", "4", "-n8", "--dist=load", "--numprocesses", "auto", "-v"]
    assert diagnosis_args(args, tmp_path, keep_selection=True) == ["-v"]


def test_a_word_after_an_unknown_long_option_is_its_value(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    args = ["--cov", "src", "--ds", "settings", "--doctest-modules", "tests", "-v", "tests"]
    assert diagnosis_args(args, tmp_path, keep_selection=False) == [
        "--cov",
        "src",
        "--ds",
        "settings",
        "--doctest-modules",
        "-v",
    ]


HELP = """\
usage: python -m pytest [options] [file_or_dir] [file_or_dir] [...]

general:
  -k EXPRESSION         Only run tests matching the given keyword expression,
  --maxfail=num         Exit after first num failures or errors
  -n numprocesses, --numprocesses=numprocesses
                        Shortcut for '--dist=load --tx=NUM*popen'.
  --cov=[SOURCE]        Path or package name to measure during execution

Custom options:
  --runslow
  --reuse-db
  --level=LEVEL
"""


def test_help_says_which_options_take_a_value() -> None:
    kinds = parse_help(HELP)
    assert {"-k", "--maxfail", "-n", "--numprocesses", "--level"} <= kinds.takes_value
    assert kinds.optional_value == {"--cov"}
    assert {"--runslow", "--reuse-db"} <= kinds.flags


def test_a_test_path_after_a_flag_is_not_its_value(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    args = ["--runslow", "tests", "--reuse-db", "tests/test_a.py::test_x", "--level", "3"]
    # without pytest's word: a test path or id after an unknown option is not its value
    expected = ["--runslow", "--reuse-db", "--level", "3"]
    assert diagnosis_args(args, tmp_path, keep_selection=False) == expected
    # with it: flags are flags, and a value is a value even when it names a directory
    kinds = parse_help(HELP.replace("--level=LEVEL", "--level=DIR"))
    args = ["--runslow", "tests", "--level", "tests", "-v"]
    assert diagnosis_args(args, tmp_path, keep_selection=False, kinds=kinds) == [
        "--runslow",
        "--level",
        "tests",
        "-v",
    ]


def test_runs_add_n0_when_xdist_is_installed_and_the_main_rootdir(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    assert run_options(str(tmp_path), sub, [], xdist=True) == ["-n0", "--rootdir=.."]
    assert run_options(str(tmp_path), tmp_path, [], xdist=False) == ["--rootdir=."]
    assert run_options(str(tmp_path), tmp_path, ["--rootdir", "x"], xdist=False) == []


def test_pytest_is_asked_only_for_an_unknown_long_option_before_a_word() -> None:
    assert needs_option_kinds(["--runslow", "tests"], Path("."))
    assert not needs_option_kinds(["-v", "tests", "--cov", "src", "-k", "x"], Path("."))
    assert not needs_option_kinds(["--runslow", "-v"], Path("."))
