"""The job summary: verdict first, under the size limit, degrading with a note."""

from __future__ import annotations

from render_helpers import failing, result_of

from test_gate.render import markdown, summary


def test_summary_leads_with_verdict_rate_and_seed() -> None:
    page = summary.render(result_of(failing(3), command="python -m pytest --random-order-seed=42"))
    first = page.index("test-gate failed")
    assert (
        first
        < page.index("Pass rate 0.00%")
        < page.index("**Seed** `42`")
        < page.index("### Failures (3)")
        < page.index("### Details (3)")
    )
    assert "| test | outcome | what it is | message |" in page
    assert "<details><summary><code>tests/test_0.py::test_case_0</code></summary>" in page


def test_huge_run_stays_under_the_limit_with_a_note() -> None:
    page = summary.render(result_of(failing(3000, trace="E   " + "x" * 5000 + "\n")))
    assert len(page.encode()) <= markdown.SUMMARY_LIMIT
    assert "test-gate failed" in page and "**Seed**" in page
    # every failure keeps its row; the details give way first, with a note saying so
    failures = page.split("### Failures (3000)", 1)[1].split("\n### ", 1)[0]
    assert failures.count("| `tests/test_") == 3000
    assert "tests' details not shown: the summary has a size limit" in page
    assert 0 < page.count("<details>") < 3000


def test_small_limit_degrades_to_compact_lines_then_a_note() -> None:
    page = summary.render(result_of(failing(40)), limit=6_000)
    assert len(page.encode()) <= 6_000
    assert "| `tests/test_0.py::test_case_0` |" in page
    assert "✂️" in page


def test_skips_are_grouped_by_reason_and_folded() -> None:
    from render_helpers import result_of as make

    from test_gate.read.records import Attempt, Outcome, TestRecord

    skipped = [
        TestRecord(f"t.py::s{i}", "t.py", i, (Attempt(Outcome.SKIPPED, "Skipped: no db"),), i)
        for i in range(3)
    ]
    xfail = TestRecord("t.py::x", "t.py", 9, (Attempt(Outcome.XFAILED, "known bug"),), 9)
    page = summary.render(make([*skipped, xfail], code=0))
    assert "### Skipped and xfailed (4)" in page
    assert "<details><summary>skipped: no db (3)</summary>" in page
    assert page.index("skipped: no db (3)") < page.index("xfailed: known bug (1)")


def test_a_failure_message_keeps_its_lines() -> None:
    from render_helpers import result_of as make

    from test_gate.read.records import Attempt, Outcome, TestRecord

    message = "AssertionError: math is broken\nassert 4 == 5\n +  where 4 = add(2, 2)"
    test = TestRecord("t.py::t", "t.py", 1, (Attempt(Outcome.FAILED, message),), 0)
    page = summary.render(make([test]))
    # the row has its first line, the details the whole message (there is no traceback)
    assert "| `t.py::t` | failed | – | AssertionError: math is broken |" in page
    assert "```text\nAssertionError: math is broken\nassert 4 == 5\n +  where 4" in page


def test_the_slowest_table_only_when_a_test_is_slow() -> None:
    fast = failing(5)  # 0.00 to 0.04 s
    assert "Slowest" not in summary.render(result_of(fast))
    slow = failing(20)  # up to 0.19 s
    assert "### Slowest 10 tests" in summary.render(result_of(slow))
