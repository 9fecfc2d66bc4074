"""The analysis step: one result, decided once."""

from __future__ import annotations

from conftest import gate_result

from test_gate.analyse.result import check_seed
from test_gate.read.records import Attempt, Outcome, RunData, TestRecord


def test_a_report_of_another_seed_cannot_be_reproduced() -> None:
    run = check_seed(RunData(tests=(), seed="8"), 7)
    assert run.seed == "7"
    assert "seed 8 is not the seed 7" in run.problems[0]
    assert check_seed(RunData(tests=(), seed="7"), 7).problems == ()
    assert check_seed(RunData(tests=()), 7).seed == "7"


def test_service_failures_are_grouped_once_for_every_renderer() -> None:
    refused = Attempt(Outcome.FAILED, "ConnectionRefusedError: [Errno 111] Connection refused")
    tests = tuple(TestRecord(f"t.py::t{i}", "t.py", i, (refused,), i) for i in range(3))
    result = gate_result(RunData(tests=tests, collected=3, exit_code=1))
    assert len(result.unreachable) == 1 and len(result.unreachable[0].tests) == 3
    assert result.ignored_files == 0


def test_the_users_settings_win_and_the_gate_says_so() -> None:
    from test_gate.analyse.result import setting_notices
    from test_gate.read.records import Choice

    choices = [
        Choice("reruns", "5", "user", "--reruns"),
        Choice("bucket", "module", "test-gate", "--random-order-bucket"),
        Choice("test_timeout", "", "missing", "--timeout"),
        Choice("randomly", "off", "overridden", "-p randomly"),
    ]
    notices = setting_notices(choices, {"reruns": 2, "bucket": "module", "test_timeout": 60.0})
    assert notices == (
        "--reruns 5 comes from your pytest options or configuration: it is used, and "
        "test-gate's reruns (2) is not",
        "test-timeout 60.0 was not applied: the plugin that owns --timeout is not loaded "
        "(not installed: test-gate install-plugins; or turned off by a `-p no:`)",
        "-p randomly in your pytest options or configuration is turned off by test-gate's "
        "`-p no:randomly`: the order is pytest-random-order's, with the seed the result keeps, "
        "so that the run can be replayed",
    )
