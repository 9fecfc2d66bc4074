"""Records for the rendering tests: many failing tests, and the result they make."""

from __future__ import annotations

from conftest import gate_result

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Verdict
from test_gate.read.records import Attempt, Outcome, RunData, TestRecord


def failing(n: int, trace: str = "E   boom\n" * 50, message: str = "boom") -> list[TestRecord]:
    return [
        TestRecord(
            f"tests/test_{i % 7}.py::test_case_{i}",
            f"tests/test_{i % 7}.py",
            i + 1,
            (Attempt(Outcome.FAILED, message, trace, 0.01 * i),),
            i,
        )
        for i in range(n)
    ]


def result_of(tests: list[TestRecord], code: int = 1, **kw: object) -> GateResult:
    run = RunData(tests=tuple(tests), collected=len(tests), exit_code=code, seed="42")
    result: GateResult = gate_result(run, **kw)
    return result


def verdict_of(tests: list[TestRecord], code: int = 1) -> Verdict:
    return result_of(tests, code).verdict
