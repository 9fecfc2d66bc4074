"""Which plugins a test interpreter needs: standard markers and specifiers, pytest held."""

from __future__ import annotations

from pytest_test_gate.protocol import __version__ as PLUGIN_VERSION

from test_gate import __version__
from test_gate.run.plugins import PLUGINS_FILE, plan, requirements

PINS = requirements(PLUGINS_FILE.read_text(encoding="utf-8"))
PY312 = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux"}
PY39 = {**PY312, "python_version": "3.9", "python_full_version": "3.9.18"}
HAVE = {
    "pytest-json-report": "1.5.0",
    "pytest-random-order": "1.2.0",
    "pytest-rerunfailures": "16.7",
    "pytest-timeout": "2.4.0",
    "pytest-test-gate": PLUGIN_VERSION,
    "pytest": "9.2.0",
}


def test_the_shipped_file_pins_the_plugins() -> None:
    assert {p.name for p in PINS} == {
        "pytest-json-report",
        "pytest-random-order",
        "pytest-rerunfailures",
        "pytest-timeout",
    }
    rerun = next(p for p in PINS if p.name == "pytest-rerunfailures")
    # exactly two versions: the newest, and the one for older pytest and Python
    candidates = [
        "16.0",
        "16.0.1",
        "16.1",
        "16.2",
        "16.3",
        "16.4",
        "16.5",
        "16.6",
        "16.6.1",
        "16.7",
    ]
    assert [v for v in candidates if rerun.specifier.contains(v)] == ["16.0", "16.7"]


def test_nothing_to_do_when_every_pin_is_met() -> None:
    todo = plan(PINS, HAVE, PY312, "src/")
    assert todo.missing == ()
    assert "pytest-rerunfailures==16.7" in todo.wanted
    assert todo.hold == "pytest==9.2.0"


def test_the_older_rerunfailures_meets_the_pin_too() -> None:
    assert plan(PINS, {**HAVE, "pytest-rerunfailures": "16.0"}, PY39, "src/").missing == ()


def test_what_is_missing_is_installed_and_pytest_is_held() -> None:
    todo = plan(PINS, {**HAVE, "pytest-random-order": None, "pytest": "7.4.4"}, PY312, "src/")
    assert todo.missing == ("pytest-random-order==1.2.0",)
    assert todo.hold == "pytest==7.4.4"


def test_pytest_test_gate_comes_from_the_source_given_at_this_version() -> None:
    todo = plan(PINS, {**HAVE, "pytest-test-gate": "0.0.1"}, PY312, "/action/pytest-test-gate")
    assert todo.missing == ("/action/pytest-test-gate",)
    assert f"pytest-test-gate=={PLUGIN_VERSION}" in todo.wanted


def test_no_hold_when_pytest_is_not_installed() -> None:
    assert plan(PINS, {**HAVE, "pytest": None}, PY312, "x").hold == ""


def test_test_gate_and_its_plugin_are_released_together() -> None:
    assert __version__ == PLUGIN_VERSION
