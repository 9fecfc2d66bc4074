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
