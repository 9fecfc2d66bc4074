"""Rendering: escaping, the summary's size budget, the annotation budget, the result schema."""

from __future__ import annotations

import json
from decimal import Decimal

from conftest import gate_result
from hypothesis import given
from hypothesis import strategies as st

from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import Policy, Verdict, decide
from test_gate.read.records import Attempt, Outcome, RunData, TestRecord
from test_gate.render import annotations, markdown, result_json, summary, terminal
from test_gate.render.escape import code, code_block, md


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


def test_md_escapes_markup_and_html() -> None:
    text = md("**bold** <script>alert(1)</script> [x](http://e) | @team\nnext")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*\\*bold\\*\\*" in text
    assert "\\[x\\](http" in text
    assert "\\|" in text and "\n" not in text


def test_code_span_survives_backticks_and_pipes() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", in_table=True) == "`a\\|b`"


@given(st.text())
def test_code_block_cannot_be_closed_from_inside(text: str) -> None:
    block = code_block(text)
    fence = block.split("\n", 1)[0]
    body = block[len(fence) + 1 : -len(fence) - 1]
    assert not any(line.startswith(fence) for line in body.split("\n"))


def test_summary_leads_with_verdict_rate_and_seed() -> None:
    page = summary.render(result_of(failing(3), command="python -m pytest --random-order-seed=42"))
    first = page.index("test-gate failed")
    assert (
        first
        < page.index("Pass rate 0.00%")
        < page.index("**Seed** `42`")
        < page.index("### Failures (3)")
    )
    assert "<details><summary>traceback</summary>" in page


def test_huge_run_stays_under_the_limit_with_a_note() -> None:
    page = summary.render(result_of(failing(3000, trace="E   " + "x" * 5000 + "\n")))
    assert len(page.encode()) <= markdown.SUMMARY_LIMIT
    assert "test-gate failed" in page and "**Seed**" in page
    # every failure keeps its line; tracebacks give way first, with a note saying so
    assert page.count("- `tests/test_") == 3000
    assert "failures shown without details: the summary has a size limit" in page
    assert 0 < page.count("<details>") < 3000


def test_small_limit_degrades_to_compact_lines_then_a_note() -> None:
    page = summary.render(result_of(failing(40)), limit=6_000)
    assert len(page.encode()) <= 6_000
    assert "- `tests/test_0.py::test_case_0`" in page
    assert "✂️" in page


def test_annotations_respect_the_budget_and_say_what_is_left() -> None:
    flaky = [
        TestRecord(
            f"t.py::flaky_{i}",
            "t.py",
            i + 1,
            (Attempt(Outcome.FAILED, "x"), Attempt(Outcome.PASSED)),
            i,
        )
        for i in range(15)
    ]
    verdict = verdict_of([*failing(25), *flaky])
    notes = annotations.from_verdict(verdict)
    by_level = {
        level: [a for a in notes if a.level == level] for level in ("error", "warning", "notice")
    }
    assert len(by_level["error"]) == annotations.PER_LEVEL
    assert len(by_level["warning"]) == annotations.PER_LEVEL
    assert len(by_level["notice"]) == 1
    assert "16 errors, 5 warnings more" in by_level["notice"][0].message
    assert by_level["error"][0].title == "test-gate failed"
    assert by_level["error"][1].file == "tests/test_0.py" and by_level["error"][1].line == 1


def test_result_schema_keeps_its_keys() -> None:
    data = result_json.data(result_of(failing(1), command="cmd"))
    json.dumps(data)
    for key in (
        "schema",
        "verdict",
        "reasons",
        "threshold",
        "pass_rate",
        "counts",
        "seed",
        "pytest_exit_code",
        "failures",
        "flaky",
        "ignored",
    ):
        assert key in data
    assert data["verdict"] == "fail" and data["reasons"]
    assert data["seed"] == 42 and data["threshold"] == 98.0
    assert set(data["counts"]) >= {
        "passed",
        "failed",
        "error",
        "skipped",
        "xfailed",
        "xpassed",
        "flaky",
        "reruns",
        "collected",
        "deselected",
    }
    assert data["failures"][0] == {
        "nodeid": "tests/test_0.py::test_case_0",
        "outcome": "failed",
        "path": "tests/test_0.py",
        "line": 1,
        "crash_path": None,
        "crash_line": None,
        "message": "boom",
        "attempts": 1,
    }


def test_terminal_block_is_short_and_names_the_reasons() -> None:
    text = terminal.render(result_of(failing(30), command="python -m pytest"))
    assert "test-gate FAILED: pass rate 0.00% (0/30), threshold 98%" in text
    assert "… and 20 more" in text
    assert "reproduce: python -m pytest" in text
    assert len(text.splitlines()) < 30
    assert decide(RunData(tests=(), exit_code=5), Policy(threshold=Decimal(1))).pass_rate is None
