"""The diagnosis over a simulated suite: which runs it asks for, and what it concludes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from test_gate.diagnose import (
    BROKEN,
    NEEDS_SETTER,
    ORDER_DEPENDENT,
    POLLUTED,
    UNCONFIRMED,
    Diagnoser,
    OrderedRun,
    diagnose,
)
from test_gate.probe import BudgetSpent, Prober, ProbeResult
from test_gate.records import Attempt, Outcome, RunData
from test_gate.records import TestRecord as Record

Suite = Callable[[Sequence[str]], dict[str, str]]


class FakeProber(Prober):
    """Answers from a function of the order instead of running pytest."""

    def __init__(self, suite: Suite, max_runs: int = 1000) -> None:
        super().__init__(Path("."), "python", (), "", Path("."), deadline=float("inf"))
        self.suite = suite
        self.max_runs = max_runs
        self.asked: list[tuple[tuple[str, ...], bool]] = []

    def run(self, tests: Sequence[str], *, printed: bool = False) -> ProbeResult:
        if self.runs >= self.max_runs:
            raise BudgetSpent
        self.runs += 1
        self.asked.append((tuple(tests), printed))
        return ProbeResult(self.suite(tests), exit_code=0)

    def command(self, tests: Sequence[str]) -> str:
        return "pytest " + " ".join(tests)


def main_run(order: Sequence[str], suite: Suite) -> list[OrderedRun]:
    outcomes = suite(order)
    kinds = {"passed": Outcome.PASSED, "failed": Outcome.FAILED}
    tests = tuple(
        Record(n, "t.py", 1, (Attempt(kinds[outcomes[n]]),), i) for i, n in enumerate(order)
    )
    return [OrderedRun(RunData(tests=tests), 5)]


def polluted_by(victim: str, *polluters: str, broken: Sequence[str] = ()) -> Suite:
    def suite(order: Sequence[str]) -> dict[str, str]:
        out = {}
        for i, name in enumerate(order):
            bad = name in broken or (name == victim and set(polluters) <= set(order[:i]))
            out[name] = "failed" if bad else "passed"
        return out

    return suite


def test_one_polluter_and_a_broken_test() -> None:
    order = [f"t{i}" for i in range(10)]
    suite = polluted_by("t8", "t3", broken=["t5"])
    prober = FakeProber(suite)
    result = diagnose(
        main_run(order, suite),
        Diagnoser(prober, lambda _: None),
        max_victims=None,
        budget_seconds=9,
    )
    by_name = {e.nodeid: e for e in result.examined}
    assert (by_name["t8"].category, by_name["t8"].kind, by_name["t8"].culprits) == (
        ORDER_DEPENDENT,
        POLLUTED,
        ("t3",),
    )
    assert by_name["t8"].runs <= 2 + 3  # alone, ceil(log2 8) probes, the printed command
    assert by_name["t8"].command == "pytest t3 t8"
    assert by_name["t5"].category == BROKEN
    assert by_name["t5"].runs == 2  # alone, then after the tests that ran after it
    printed = [tests for tests, was_printed in prober.asked if was_printed]
    assert ("t3", "t8") in printed and ("t5",) in printed and ("t8",) in printed


def test_a_state_setter_that_ran_after_the_victim() -> None:
    def suite(order: Sequence[str]) -> dict[str, str]:
        out = {n: "passed" for n in order}
        if "v" in order and "setup" not in order[: order.index("v")]:
            out["v"] = "failed"
        return out

    order = ["a", "b", "v", "c", "setup", "d"]
    prober = FakeProber(suite)
    result = diagnose(
        main_run(order, suite),
        Diagnoser(prober, lambda _: None),
        max_victims=None,
        budget_seconds=9,
    )
    (item,) = result.examined
    assert (item.category, item.kind, item.culprits) == (ORDER_DEPENDENT, NEEDS_SETTER, ("setup",))
    assert item.command == "pytest v" and item.passing_command == "pytest setup v"
    assert item.candidates == 3


def test_a_failure_that_does_not_come_back_is_not_explained() -> None:
    calls = {"n": 0}

    def suite(order: Sequence[str]) -> dict[str, str]:
        calls["n"] += 1
        out = {n: "passed" for n in order}
        if calls["n"] == 1:  # the main run only
            out["v"] = "failed"
        return out

    order = ["a", "b", "v"]
    result = diagnose(
        main_run(order, suite),
        Diagnoser(FakeProber(suite), lambda _: None),
        max_victims=None,
        budget_seconds=9,
    )
    (item,) = result.examined
    assert item.category == UNCONFIRMED
    assert "did not come back" in item.note


def test_budget_spent_lists_the_rest_as_not_examined() -> None:
    order = [f"t{i}" for i in range(6)]
    suite = polluted_by("t5", "t0", broken=["t1", "t2"])
    prober = FakeProber(suite, max_runs=1)
    result = diagnose(
        main_run(order, suite),
        Diagnoser(prober, lambda _: None),
        max_victims=None,
        budget_seconds=9,
    )
    assert [e.nodeid for e in result.examined] == ["t1"]
    assert [n for n, _ in result.not_examined] == ["t2", "t5"]
    assert all("time budget (9 s)" in why for _, why in result.not_examined)
    assert any("state-setter" in note for note in result.notes)
