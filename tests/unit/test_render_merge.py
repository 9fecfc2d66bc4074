"""A merge's page: a row per cell, the slowest job, failures told apart across cells; and
names from other jobs' files escaped like any text from tests."""

from __future__ import annotations

from conftest import gate_result
from test_merge import SUITE, job

from test_gate.analyse.merge import merge_jobs
from test_gate.render import annotations, result_json, summary, terminal
from test_gate.render.markdown import SUMMARY_LIMIT


def merged(*jobs: object) -> object:
    run, facts = merge_jobs(list(jobs))  # type: ignore[arg-type]
    return gate_result(run, merge=facts)


def test_a_row_per_cell_and_the_cells_of_each_failure() -> None:
    result = merged(job("linux", failing=(SUITE[0],)), job("macos"))
    page = summary.render(result)  # type: ignore[arg-type]
    assert "| linux | 1 | 8 | 1 | 0 | 0 | 0 | 88.88% | 1.0 s |" in page
    assert "### Failing in some cells only (1)" in page
    assert f"| `{SUITE[0]}` in linux | failed (2 attempts) |" in page
    assert page.index("Failing in some cells only") < page.index("### Failures (1)")
    text = terminal.render(result)  # type: ignore[arg-type]
    assert "cell linux: 1 job(s), passed 8, failed 1" in text
    assert f"{SUITE[0]} [linux]" in text


def test_a_hostile_cell_name_is_shown_not_obeyed() -> None:
    hostile = "x | <img src=x> \u202e `code` ::error::forged"
    result = merged(job(hostile, failing=(SUITE[0],)))
    page = summary.render(result)  # type: ignore[arg-type]
    assert "\u202e" not in page and "<U+202E>" in page
    # as text, escaped; inside a code span (the result file's name) it is inert as it is
    assert "| x \\| &lt;img src=x&gt;" in page
    assert all(line.count("`") >= 2 for line in page.splitlines() if "<img" in line)
    (failure,) = [a for a in annotations.render(result) if "test_0" in a.title]  # type: ignore[arg-type]
    assert "\u202e" not in failure.title and "<U+202E>" in failure.title


def test_the_result_file_holds_the_cells_and_each_tests_cell() -> None:
    data = result_json.data(merged(job("linux"), job("macos", failing=(SUITE[1],))))  # type: ignore[arg-type]
    assert data["kind"] == "merge"
    assert [c["cell"] for c in data["cells"]] == ["linux", "macos"]
    assert data["tests"][0][4] == "linux"
    assert data["failing_in_some_cells"][0]["cells"] == ["macos"]


def test_fifty_thousand_tests_a_shard_stay_within_the_summary_budget() -> None:
    suite = [f"tests/test_{n // 100}.py::test_{n}" for n in range(150_000)]
    failing = tuple(suite[::50])
    jobs = [job("linux", shard=(k, 3), suite=suite, failing=failing) for k in (1, 2, 3)]
    page = summary.render(merged(*jobs))  # type: ignore[arg-type]
    assert len(page.encode()) <= SUMMARY_LIMIT
    assert "| linux | 3 of 3 shards |" in page
