"""Validation: every option is parsed by one rule per kind, and bad input names the option."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from test_gate.cli import diagnose_settings
from test_gate.settings import (
    DiagnoseSettings,
    HistorySettings,
    UsageError,
    history_settings,
    parse_bool,
    parse_count,
    parse_seed,
    parse_threshold,
)


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
        ("diagnose_timeout", "1_0"),
        ("diagnose_timeout", "\u0663"),
        ("diagnose_timeout", "\uff11"),
        ("max_victims", "1.5"),
        ("orders", "0"),
        ("orders", "101"),
    ],
)
def test_bad_values_name_the_option(option: str, value: str) -> None:
    with pytest.raises(UsageError, match="--" + option.replace("_", "-")):
        parse(**{option: value})


@pytest.mark.parametrize("text", ["98", "98.5", "98%", " 100 ", "0"])
def test_thresholds_as_people_write_them(text: str) -> None:
    assert Decimal(0) <= parse_threshold(text) <= Decimal(100)


@pytest.mark.parametrize("text", ["abc", "nan", "101", "-1", "1_0", "1e2", "\u0663", "9\uff18"])
def test_bad_thresholds_are_refused_with_the_accepted_values(text: str) -> None:
    with pytest.raises(UsageError, match=r"--threshold: .* use a number from 0 to 100"):
        parse_threshold(text)


def test_counts_seeds_and_booleans() -> None:
    assert parse_count("3", "--reruns") == 3
    assert parse_count("none", "--max-ignored", allow_none=True) is None
    assert parse_seed("random") is None and parse_seed("42") == 42
    assert parse_bool("Yes", "--x") is True and parse_bool("off", "--x") is False
    for bad in ("-1", "1.5", "\u0663"):
        with pytest.raises(UsageError, match="--reruns"):
            parse_count(bad, "--reruns")
    with pytest.raises(UsageError, match="--x: 'maybe' is not a boolean"):
        parse_bool("maybe", "--x")


def test_shard_cell_and_expected_cells() -> None:
    from test_gate.settings import cell, expected_cells, shard

    assert shard("2/3") == (2, 3) and shard("") is None and shard(None) is None
    for bad in ("0/3", "4/3", "a/b", "1/0"):
        with pytest.raises(UsageError, match=r"^--shard: .* is not a shard; use K/N"):
            shard(bad)
    assert cell(" py3.12-linux ") == "py3.12-linux" and cell("") is None
    for bad in ("a\nb", "x" * 101, "tab\there"):
        with pytest.raises(UsageError, match=r"^--cell: .* is not a cell name"):
            cell(bad)
    assert expected_cells("a, b\nc") == ("a", "b", "c")
    with pytest.raises(UsageError, match="'a' is named twice"):
        expected_cells("a,b,a")


def test_durations_need_a_shard_and_a_readable_file(tmp_path: Path) -> None:
    from test_gate.settings import durations_file

    good = tmp_path / "d.json"
    good.write_text('{"t.py::a": 1.5}')
    assert durations_file(str(good), True) == good
    with pytest.raises(UsageError, match="balances shards; give --shard K/N with it"):
        durations_file(str(good), False)
    (tmp_path / "bad.json").write_text('["no"]')
    with pytest.raises(UsageError, match="holds no test durations"):
        durations_file(str(tmp_path / "bad.json"), True)


def history(**given: str) -> HistorySettings:
    values: dict[str, Any] = {
        "path": "h.db",
        "branch": None,
        "base": None,
        "fail_on": "all",
        "max_flaky_rate": "none",
        "window": "20",
        "keep": "200",
        "quarantine": None,
    }
    values.update(given)
    return history_settings(**values)


def test_the_history_options_and_their_defaults(tmp_path: Path) -> None:
    assert history() == HistorySettings(path=Path("h.db"))
    chosen = history(fail_on=" NEW ", max_flaky_rate="2.5%", window="5", keep="50", branch="x")
    assert (chosen.fail_on, chosen.max_flaky_rate, chosen.window, chosen.keep, chosen.branch) == (
        "new",
        Decimal("2.5"),
        5,
        50,
        "x",
    )
    assert not HistorySettings().asked and history(path="").path is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"fail_on": "some"}, "--fail-on: 'some' is not a choice; use all or new"),
        ({"fail_on": "new", "path": ""}, "--fail-on: 'new' needs --history FILE"),
        ({"window": "0"}, "--window: '0' is not a count of runs; use 1 or more"),
        ({"window": "-3"}, "--window: '-3' is not a count"),
        ({"keep": "0"}, "--keep-runs: '0' is not a count of runs"),
        ({"max_flaky_rate": "lots"}, "--max-flaky-rate: 'lots' is not a percentage"),
        ({"max_flaky_rate": "101"}, "--max-flaky-rate: '101' is not a percentage"),
        ({"branch": "a\nb"}, "--branch: "),
        ({"base": "x" * 300}, "--base-branch: "),
        ({"path": "."}, "--history: '.' is a directory"),
        ({"quarantine": "missing.toml"}, "--quarantine: missing.toml: cannot be read"),
    ],
)
def test_bad_history_options_name_the_option(given: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        history(**given)
    assert str(raised.value).startswith(message), str(raised.value)


def test_a_durations_file_is_a_regular_file_of_finite_durations(tmp_path: Path) -> None:
    """A FIFO would block before pytest starts, /dev/zero never ends, and an infinite weight
    would crash every shard's pytest: each is a usage error, in one line."""
    import os

    from test_gate.settings import durations_file

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, message in [
        (fifo, "is not a regular file"),
        (Path("/dev/zero"), "is not a regular file"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(UsageError, match=message):
            durations_file(str(path), True)
    for value in ("Infinity", "1e308", "-1", "NaN"):
        bad = tmp_path / "weights.json"
        bad.write_text('{"t.py::a": ' + value + ', "t.py::b": 1}')
        with pytest.raises(UsageError, match="holds no test durations"):
            durations_file(str(bad), True)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(UsageError, match="cannot be read as JSON"):
        durations_file(str(deep), True)
