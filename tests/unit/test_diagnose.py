"""The diagnosis over a simulated suite: which runs it asks for, and what it concludes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from test_gate.analyse.diagnose import Diagnoser
from test_gate.analyse.findings import (
    BROKEN,
    NEEDS_SETTER,
    ORDER_DEPENDENT,
    POLLUTED,
    UNCONFIRMED,
    BudgetSpent,
    Diagnosis,
    OrderedRun,
    ProbeResult,
)
from test_gate.analyse.victims import diagnose
from test_gate.read.records import Attempt, Outcome, RunData
from test_gate.read.records import TestRecord as Record
from test_gate.run.prober import Prober

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


def examined(runs: list[OrderedRun], prober: Prober) -> Diagnosis:
    """The diagnosis of every failure, with time to spare."""
    return diagnose(runs, Diagnoser(prober, lambda _: None), max_victims=None, budget_seconds=9)


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
    result = examined(main_run(order, suite), prober)
    by_name = {e.nodeid: e for e in result.examined}
    assert (by_name["t8"].category, by_name["t8"].kind, by_name["t8"].culprits) == (
        ORDER_DEPENDENT,
        POLLUTED,
        ("t3",),
    )
    # alone, ceil(log2 8) probes, the printed command, alone once more
    assert by_name["t8"].runs <= 3 + 3
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
    result = examined(main_run(order, suite), prober)
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
    result = examined(main_run(order, suite), FakeProber(suite))
    (item,) = result.examined
    assert item.category == UNCONFIRMED
    assert "did not come back" in item.note


def test_budget_spent_lists_the_rest_as_not_examined() -> None:
    order = [f"t{i}" for i in range(6)]
    suite = polluted_by("t5", "t0", broken=["t1", "t2"])
    prober = FakeProber(suite, max_runs=1)
    result = examined(main_run(order, suite), prober)
    assert [e.nodeid for e in result.examined] == ["t1"]
    assert [n for n, _ in result.not_examined] == ["t2", "t5"]
    assert all("time budget (9 s)" in why for _, why in result.not_examined)
    assert any("state-setter" in note for note in result.notes)


def scripted(victim: str, outcomes: Sequence[str]) -> Suite:
    """The victim's outcome run after run, whatever ran before it (it fails at random)."""
    left = list(outcomes)

    def suite(order: Sequence[str]) -> dict[str, str]:
        out = {n: "passed" for n in order}
        if victim in order:
            out[victim] = left.pop(0) if left else "failed"
        return out

    return suite


def test_a_victim_that_fails_at_random_gets_no_polluter() -> None:
    # main run fails; alone passes; the bisection and its printed command happen to fail;
    # alone once more: fails. A coin flip, not a polluter.
    suite = scripted("v", ["failed", "passed", "failed", "failed", "failed"])
    order = ["a", "b", "c", "v"]
    runs = main_run(order, suite)
    prober = FakeProber(suite)
    result = examined(runs, prober)
    (item,) = result.examined
    assert item.category == UNCONFIRMED and item.culprits == ()
    assert "changes between identical runs (flaky)" in item.note
    assert prober.asked[-1] == (("v",), True)  # the confirmation: alone, as printed


def test_the_answer_is_kept_when_the_victim_passes_alone_again() -> None:
    suite = polluted_by("v", "b")
    prober = FakeProber(suite)
    order = ["a", "b", "c", "v"]
    result = examined(main_run(order, suite), prober)
    (item,) = result.examined
    assert item.culprits == ("b",)
    assert [a for a in prober.asked if a == (("v",), True)] == [(("v",), True)] * 2
    # alone twice and ceil(log2 3) probes: the last probe was b alone, run as the printed
    # command, so it is not run again as the confirmation
    assert item.runs == 2 + 2


def test_a_setter_is_not_named_when_the_victim_then_passes_alone() -> None:
    # fails alone, passes after the tests after it, ... then passes alone: flaky
    suite = scripted("v", ["failed", "failed", "passed", "passed", "passed", "passed"])
    prober = FakeProber(suite)
    result = examined(main_run(["v", "a", "b"], suite), prober)
    (item,) = result.examined
    assert item.category == UNCONFIRMED and item.culprits == ()
    assert "failed alone, then passed alone" in item.note


def test_a_new_polluter_costs_at_most_one_miss_of_a_known_one() -> None:
    def suite(order: Sequence[str]) -> dict[str, str]:
        out = {n: "passed" for n in order}
        for victim, polluter in (("v1", "p1"), ("v2", "p2")):
            if victim in order and polluter in order[: order.index(victim)]:
                out[victim] = "failed"
        return out

    order = ["p1", "p2", "a", "b", "c", "d", "e", "v1", "v2"]
    prober = FakeProber(suite)
    result = examined(main_run(order, suite), prober)
    second = {e.nodeid: e for e in result.examined}["v2"]
    assert second.culprits == ("p2",)
    # alone, the known polluter p1 (a miss), ceil(log2 8) probes, the printed command, alone
    assert second.runs <= 1 + 1 + 3 + 1 + 1


class HangingProber(FakeProber):
    """Times out when `hangs` is run alone (the per-run limit, not the budget)."""

    def __init__(self, suite: Suite, hangs: str) -> None:
        super().__init__(suite)
        self.hangs = hangs

    def run(self, tests: Sequence[str], *, printed: bool = False) -> ProbeResult:
        if tuple(tests) == (self.hangs,):
            self.runs += 1
            return ProbeResult({}, timed_out=True, seconds=30.0)
        return super().run(tests, printed=printed)


def test_a_hanging_run_is_reported_and_the_next_test_is_examined() -> None:
    suite = polluted_by("z", "a", broken=["h"])
    prober = HangingProber(suite, "h")
    result = examined(main_run(["a", "h", "z"], suite), prober)
    by_name = {e.nodeid: e for e in result.examined}
    assert by_name["h"].category == UNCONFIRMED
    assert "hangs when run alone" in by_name["h"].note
    assert by_name["z"].culprits == ("a",)


def with_state(runs: list[OrderedRun], *changes: tuple[str, str, str, str]) -> list[OrderedRun]:
    """The main run, with what its tests left changed (the state watch's record)."""
    from dataclasses import replace

    from test_gate.read.records import StateChange

    state = tuple(StateChange(n, k, b, a) for n, k, b, a in changes)
    return [replace(runs[0], run=replace(runs[0].run, state_changes=state))]


def test_the_test_that_changed_what_the_victim_saw_is_tried_first() -> None:
    """The state says which test to try: alone, that test then the victim, alone once more;
    no bisection of the 40 tests before it."""
    order = [f"t{i:02d}" for i in range(40)] + ["v"]
    suite = polluted_by("v", "t07")
    prober = FakeProber(suite)
    runs = with_state(
        main_run(order, suite),
        ("t07", "os.environ['MODE']", "unset", "'strict'"),
        ("t30", "logging: logger 'x' level", "NOTSET", "ERROR"),
    )
    result = examined(runs, prober)
    (item,) = result.examined
    assert item.culprits == ("t07",)  # t30 changed state too, and later: tried, not named
    assert item.runs <= 4
    assert [s.key for s in item.state] == ["os.environ['MODE']"]


def test_a_flaky_test_costs_at_most_three_runs() -> None:
    """Passed on its rerun, passes alone, and no state points at a polluter: flaky by
    itself, in one run; with a state suspect that does not make it fail, in two."""
    order = [f"t{i:02d}" for i in range(30)] + ["v"]

    def suite(tests: Sequence[str]) -> dict[str, str]:
        return {n: "passed" for n in tests}

    tests = tuple(
        Record(
            n,
            "t.py",
            1,
            (Attempt(Outcome.FAILED), Attempt(Outcome.PASSED))
            if n == "v"
            else (Attempt(Outcome.PASSED),),
            i,
        )
        for i, n in enumerate(order)
    )
    runs = [OrderedRun(RunData(tests=tests), 5)]
    for extra in ((), (("t03", "os.environ['MODE']", "unset", "'x'"),)):
        prober = FakeProber(suite)
        result = examined(with_state(runs, *extra), prober)
        (item,) = result.examined
        assert item.masked and item.category == UNCONFIRMED
        assert item.runs == 1 + len(extra) <= 3
        assert "flaky by itself" in item.note


def test_a_setter_found_once_is_tried_first_for_the_next_victim() -> None:
    def suite(order: Sequence[str]) -> dict[str, str]:
        out = {n: "passed" for n in order}
        for victim in ("v1", "v2"):
            if victim in order and "setup" not in order[: order.index(victim)]:
                out[victim] = "failed"
        return out

    order = ["v1", "a", "v2", "b", "c", "d", "e", "setup"]
    prober = FakeProber(suite)
    result = examined(main_run(order, suite), prober)
    first, second = result.examined
    assert first.culprits == second.culprits == ("setup",)
    # alone, the known setter then the victim, alone once more
    assert second.runs == 3
