"""--diagnose, --diagnose-timeout, --max-victims, --orders: validated, with sensible defaults."""

from __future__ import annotations

import argparse

import pytest

from test_gate.analyse.diagnose import OrderedRun
from test_gate.cli import diagnose_settings
from test_gate.read.records import Attempt, Outcome, RunData
from test_gate.read.records import TestRecord as Record
from test_gate.run.diagnosis import order_seeds, wanted
from test_gate.settings import MAX_SEED, DiagnoseSettings, UsageError


def parse(**given: str) -> DiagnoseSettings:
    values = {"diagnose": "auto", "diagnose_timeout": "300", "max_victims": "20", "orders": "1"}
    values.update(given)
    return diagnose_settings(argparse.Namespace(**values))


def test_defaults() -> None:
    assert parse() == DiagnoseSettings("auto", 300.0, 20, 1)


def test_accepted_values() -> None:
    assert parse(diagnose="TRUE", diagnose_timeout="1.5", max_victims="none", orders="3") == (
        DiagnoseSettings("true", 1.5, None, 3)
    )
    assert parse(diagnose="off").mode == "false"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("diagnose", "sometimes"),
        ("diagnose_timeout", "0"),
        ("diagnose_timeout", "-5"),
        ("diagnose_timeout", "nan"),
        ("diagnose_timeout", "inf"),
        ("max_victims", "1.5"),
        ("orders", "0"),
        ("orders", "101"),
    ],
)
def test_bad_values_name_the_option(option: str, value: str) -> None:
    with pytest.raises(UsageError, match="--" + option.replace("_", "-")):
        parse(**{option: value})


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
