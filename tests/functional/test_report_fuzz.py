"""Mutations of real reports: never a traceback, and never a pass for a report that lost data.

The reports come from real pytest runs with pytest-test-gate (a flaky test, a skip, an xfail,
parametrized tests, and in one of them a failure). Each case changes one place of the JSON
tree: it deletes it, replaces it with a value of another type, or duplicates a list entry.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from conftest import RealReport
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_gate.analyse.verdict import Policy, decide
from test_gate.read.report import read_report

Path_ = tuple[Any, ...]
# deleting one of these loses data the verdict rests on
VITAL_KEYS = frozenset(
    {"outcome", "when", "nodeid", "exitcode", "run_id", "schema", "reports", "tests", "test_gate"}
    | {"passed"}  # a row of plainly passed phases
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["passed", "failed", "bogus", "FAILED", "rerun", "???", ""]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
CASES = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def paths(node: Any, here: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*here, key)
            yield from paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*here, index)
            yield from paths(value, (*here, index))


def mutate(data: dict[str, Any], path: Path_, how: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = value
    return out


def judge(report: RealReport, data: dict[str, Any]) -> bool:
    run = read_report(data, run_id=report.run_id, source="report")
    return decide(run, Policy()).passed


def lost_data(path: Path_, how: str) -> bool:
    """A deletion of something the verdict rests on: a vital key of the tests, the record or
    the report itself, or a test or a phase report. (pytest-json-report's collectors,
    summary and environment are not what the gate counts from.)"""
    if how != "delete" or path[0] not in ("tests", "test_gate", "exitcode"):
        return False
    in_list = isinstance(path[-1], int) and len(path) >= 2 and path[-2] in ("tests", "reports")
    return in_list or path[-1] in VITAL_KEYS


def test_the_real_reports_are_as_expected(
    passing_report: RealReport, failing_report: RealReport
) -> None:
    assert judge(passing_report, passing_report.data)
    assert not judge(failing_report, failing_report.data)


@CASES
@given(data=st.data(), how=st.sampled_from(["delete", "replace", "duplicate"]), value=VALUES)
def test_a_failing_report_never_passes_and_never_crashes(
    failing_report: RealReport, data: st.DataObject, how: str, value: Any
) -> None:
    path = data.draw(st.sampled_from(list(paths(failing_report.data))))
    mutated = mutate(failing_report.data, path, how, value)
    assert not judge(failing_report, mutated), (path, how, value)


@CASES
@given(data=st.data(), how=st.sampled_from(["delete", "replace", "duplicate"]), value=VALUES)
def test_a_passing_report_that_lost_data_fails_and_nothing_crashes(
    passing_report: RealReport, data: st.DataObject, how: str, value: Any
) -> None:
    path = data.draw(st.sampled_from(list(paths(passing_report.data))))
    mutated = mutate(passing_report.data, path, how, value)
    passed = judge(passing_report, mutated)
    if lost_data(path, how):
        assert not passed, (path, how)
