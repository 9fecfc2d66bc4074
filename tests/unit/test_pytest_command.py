"""The pytest command lines: the one test-gate runs, and the one it prints."""

from __future__ import annotations

from pathlib import Path

from test_gate.read.records import Choice
from test_gate.run.pytest_command import (
    Asked,
    explicit_plugins,
    in_directory,
    pytest_argv,
    reproduce_command,
    without_randomly,
)


def test_our_options_come_last_so_a_users_report_file_cannot_win() -> None:
    argv = pytest_argv(
        "py", ["-k", "fast", "--json-report-file=theirs.json"], Asked(7, 2), Path("/r.json"), "abc"
    )
    assert argv[:5] == ["py", "-m", "pytest", "-k", "fast"]
    assert argv.index("--json-report-file=none") > argv.index("--json-report-file=theirs.json")
    assert "--test-gate-report=/r.json" in argv
    assert "no:randomly" in argv and "--random-order-seed=7" in argv
    assert "--test-gate" in argv and "--test-gate-run-id=abc" in argv
    assert "--test-gate-digest-only" not in argv  # the report is kept unless told otherwise
    only = pytest_argv("py", [], Asked(7, 2), Path("/r.json"), "abc", digest_only=True)
    assert only.index("--test-gate-digest-only") == only.index("--test-gate-report=/r.json") + 1


def test_reruns_and_bucket_are_asked_of_the_plugin_not_forced() -> None:
    argv = pytest_argv("py", ["--reruns", "5"], Asked(7, 2, "global", 30.0), Path("/r"), "id")
    assert "--test-gate-reruns=2" in argv and "--test-gate-bucket=global" in argv
    assert "--test-gate-test-timeout=30" in argv
    assert "--reruns=2" not in argv and not any(a.startswith("--random-order-bucket") for a in argv)


def test_the_printed_command_reproduces_the_order_without_test_gate() -> None:
    command = reproduce_command(Path("/elsewhere"), ["-k", "a b"], Asked(7, 2))
    assert command.startswith("cd /elsewhere && python -m pytest -k 'a b' -p no:randomly")
    assert "test-gate" not in command and "json-report" not in command
    assert "--random-order-bucket=module --random-order-seed=7 --reruns=2" in command


def test_what_the_users_configuration_set_is_not_repeated() -> None:
    chosen = [
        Choice("reruns", "5", "user", "--reruns"),
        Choice("bucket", "global", "user", "--random-order-bucket"),
    ]
    command = reproduce_command(Path("."), ["--reruns", "5"], Asked(7, 2), chosen)
    assert command == "python -m pytest --reruns 5 -p no:randomly --random-order-seed=7"


def test_a_users_p_randomly_is_not_printed_beside_test_gates_p_no_randomly() -> None:
    """test-gate's `-p no:randomly` comes last and wins: a printed command that named both
    would contradict itself."""
    for words in (["-p", "randomly"], ["-prandomly"], ["-p", "pytest_randomly"]):
        command = reproduce_command(Path("."), [*words, "-k", "a"], Asked(7, 2))
        assert command.startswith("python -m pytest -k a -p no:randomly")
    assert without_randomly(["-p", "xdist", "-p"]) == ["-p", "xdist", "-p"]


def test_a_directory_that_starts_with_a_dash_is_still_a_directory() -> None:
    assert in_directory(Path("-dash"), ["python"]) == "cd ./-dash && python"


def test_plugins_are_named_only_when_pytest_loads_none_by_itself() -> None:
    assert explicit_plugins({}) == []
    words = explicit_plugins({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert words[1::2] == [
        "pytest_jsonreport.plugin",
        "random_order.plugin",
        "pytest_rerunfailures",
        "pytest_test_gate.plugin",
    ]
    assert set(words[::2]) == {"-p"}
