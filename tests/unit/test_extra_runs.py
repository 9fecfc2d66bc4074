"""The extra runs after the main one: the seeds of other orders, and when to diagnose."""

from __future__ import annotations

from test_gate.analyse.findings import OrderedRun
from test_gate.read.records import Attempt, Outcome, RunData
from test_gate.read.records import TestRecord as Record
from test_gate.run.extra_runs import order_seeds, wanted
from test_gate.settings import MAX_SEED, DiagnoseSettings


def test_order_seeds_follow_the_main_seed_and_wrap() -> None:
    assert order_seeds(7, 3) == [7, 8, 9]
    assert order_seeds(MAX_SEED, 2) == [MAX_SEED, 0]


def _runs(*outcomes: Outcome) -> list[OrderedRun]:
    tests = tuple(Record(f"t{i}", "t.py", 1, (Attempt(o),), i) for i, o in enumerate(outcomes))
    return [OrderedRun(RunData(tests=tests), 1)]


def test_auto_diagnoses_only_when_a_test_failed() -> None:
    auto, on, off = DiagnoseSettings("auto"), DiagnoseSettings("true"), DiagnoseSettings("false")
    assert not wanted(auto, _runs(Outcome.PASSED, Outcome.SKIPPED))
    assert wanted(auto, _runs(Outcome.PASSED, Outcome.ERROR))
    assert wanted(on, _runs(Outcome.PASSED))
    assert not wanted(off, _runs(Outcome.FAILED))
