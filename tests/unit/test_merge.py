"""The merge's checks, on job records: each way the jobs can fail to add up to the suite is a
reason, the root cause first, and the failures are told apart across cells."""

from __future__ import annotations

from dataclasses import replace

from pytest_test_gate.split import assign, digest

from test_gate.analyse.merge import Expected, merge_jobs
from test_gate.analyse.verdict import Policy, decide
from test_gate.read.records import Attempt, Outcome, ShardInfo, TestRecord
from test_gate.read.results import JobResult

SUITE = [f"tests/test_m.py::test_{n}" for n in range(9)]


def record(nodeid: str, cell: str, *outcomes: Outcome) -> TestRecord:
    """A test as a result file is read back: with the cell of its job."""
    attempts = tuple(Attempt(o, message=f"{o.value} here") for o in outcomes or (Outcome.PASSED,))
    return TestRecord(nodeid, nodeid.split("::")[0], 1, attempts, 0, cell=cell)


def job(
    cell: str = "py3.12-linux",
    shard: tuple[int, int] | None = None,
    seed: str = "7",
    suite: list[str] = SUITE,
    failing: tuple[str, ...] = (),
    flaky: tuple[str, ...] = (),
    source: str = "",
) -> JobResult:
    info = None
    ids = list(suite)
    if shard is not None:
        split = assign(suite, shard[1])
        ids = [i for i in sorted(suite) if split[i] == shard[0]]
        info = ShardInfo(shard[0], shard[1], len(suite), digest(suite), tuple(ids), digest(ids))
    tests = []
    for nodeid in ids:
        if nodeid in failing:
            tests.append(record(nodeid, cell, Outcome.FAILED, Outcome.FAILED))
        elif nodeid in flaky:
            tests.append(record(nodeid, cell, Outcome.FAILED, Outcome.PASSED))
        else:
            tests.append(record(nodeid, cell))
    name = source or f"{cell}-{shard[0] if shard else 0}.json"
    return JobResult(
        source=name,
        cell=cell,
        shard=info,
        seed=seed,
        verdict="pass",
        blind_reasons=(),
        tests=tuple(tests),
        collect_errors=(),
        ignored=(),
        collected=len(suite),
        deselected=0,
        wall_time=1.0 + (shard[0] if shard else 0),
        python="python",
    )


def reasons(
    *jobs: JobResult, expected: Expected | None = None, problems: tuple[str, ...] = ()
) -> tuple[str, ...]:
    run, _ = merge_jobs(jobs, problems, expected)
    return decide(run, Policy()).reasons


def test_every_shard_once_passes_with_the_whole_suite_counted_once() -> None:
    run, facts = merge_jobs([job(shard=(k, 3)) for k in (1, 2, 3)])
    verdict = decide(run, Policy())
    assert verdict.passed, verdict.reasons
    assert verdict.counts.passed == len(SUITE) and run.collected == len(SUITE)
    (row,) = facts.cells
    assert (row.jobs, row.shards, row.wall_time) == (3, 3, 4.0)
    assert facts.slowest is not None and facts.slowest.name == "py3.12-linux [3/3]"


def test_a_missing_shard_is_the_first_reason() -> None:
    found = reasons(job(shard=(1, 3)), job(shard=(3, 3)))
    assert found[0].startswith("py3.12-linux: shard 2/3 is missing (no result file)")
    assert "3 of the suite's 9 tests" in found[0]


def test_the_expected_shard_count_wins_over_what_the_shards_recorded() -> None:
    found = reasons(job(shard=(1, 2)), job(shard=(2, 2)), expected=Expected(shards=3))
    assert "do not agree on how many there are" in found[0]
    assert "--expect-shards is 3" in found[0]


def test_a_doubled_shard_fails() -> None:
    found = reasons(*(job(shard=(k, 2)) for k in (1, 2)), job(shard=(2, 2), source="again.json"))
    assert any("shard 2/2 appears 2 times" in r and "again.json" in r for r in found)


def test_shards_of_different_suites_fail() -> None:
    other = job(shard=(2, 2), suite=[*SUITE, "tests/test_m.py::test_new"])
    found = reasons(job(shard=(1, 2)), other)
    assert any("collected different suites (1/2 collected 9, 2/2 collected 10" in r for r in found)


def test_a_test_given_to_a_shard_that_never_ran_is_named() -> None:
    second = job(shard=(2, 2))
    second = replace(second, tests=second.tests[1:])
    found = reasons(job(shard=(1, 2)), second)
    lost = second.shard.ids[0] if second.shard else ""
    assert any("1 test(s) collected by the suite ran in no shard" in r and lost in r for r in found)


def test_shards_that_split_differently_fail() -> None:
    first, second = job(shard=(1, 2)), job(shard=(2, 2))
    assert first.shard is not None and second.shard is not None
    moved = first.shard.ids[-1]
    second = replace(second, shard=replace(second.shard, ids=(moved, *second.shard.ids)))
    found = reasons(first, second)
    assert any("given to more than one shard" in r for r in found)


def test_a_whole_run_and_shards_in_one_cell_fail() -> None:
    found = reasons(job(), job(shard=(1, 1)))
    assert any("both a whole-suite run" in r for r in found)
    assert any("2 jobs ran the whole suite" in r for r in reasons(job(), job(source="b.json")))


def test_a_jobs_blind_reason_is_kept_with_its_name() -> None:
    blind = replace(job(shard=(2, 2)), blind_reasons=("pytest was stopped after 60 s",))
    found = reasons(job(shard=(1, 2)), blind)
    assert "py3.12-linux [2/2]: pytest was stopped after 60 s" in found


def test_unreadable_files_come_first() -> None:
    found = reasons(job(), problems=("result x.json is not valid JSON",))
    assert found[0] == "result x.json is not valid JSON"


def test_nothing_to_merge_fails() -> None:
    assert reasons()[0] == "no result file was given: there is nothing to merge"


def test_failures_are_told_apart_across_cells() -> None:
    everywhere, somewhere, wobbly = SUITE[0], SUITE[1], SUITE[2]
    linux = job("linux", failing=(everywhere,), flaky=(wobbly,))
    mac = job("macos", failing=(everywhere, somewhere))
    run, facts = merge_jobs([linux, mac], (), Expected(cells=("linux", "macos")))
    assert [(e.nodeid, e.cells) for e in facts.broken] == [(everywhere, ("linux", "macos"))]
    assert [(e.nodeid, e.cells, e.other_cells) for e in facts.some_cells] == [
        (somewhere, ("macos",), ("linux",))
    ]
    assert [(e.nodeid, e.cells, e.other_cells) for e in facts.flaky] == [
        (wobbly, ("linux",), ("macos",))
    ]
    assert {t.cell for t in run.tests} == {"linux", "macos"}
    assert run.exit_code == 1


def test_cells_must_be_the_expected_ones() -> None:
    found = reasons(job("linux"), expected=Expected(cells=("linux", "windows")))
    assert "cell windows is missing: no result file is of it (--expect-cells)" in found
    found = reasons(job("linux"), job("bsd"), expected=Expected(cells=("linux",)))
    assert any("cell bsd is not one of --expect-cells" in r for r in found)


def test_a_cell_diagnosis_is_kept_with_its_cell_and_command() -> None:
    entry = {"victim": SUITE[3], "kind": "polluted", "polluters": [SUITE[0]], "command": "pytest x"}
    linux = replace(job("linux", failing=(SUITE[3],)), order_dependent=(entry,))
    _, facts = merge_jobs([linux, job("macos")])
    (found,) = facts.findings
    assert (found.cell, found.nodeid, found.command) == ("linux", SUITE[3], "pytest x")
    assert found.detail == f"polluted by {SUITE[0]}"


def test_ids_generated_at_collection_are_named_when_suites_differ() -> None:
    """Parametrize ids built from the clock change at every collection: no two shards collect
    one suite, and the refusal says which ids look generated."""
    stamped = [*SUITE[:-1], "tests/test_m.py::test_at[2026-12-04 14:28:59.183711]"]
    later = [*SUITE[:-1], "tests/test_m.py::test_at[2026-12-04 14:29:02.901355]"]
    found = reasons(job(shard=(1, 2), suite=stamped), job(shard=(2, 2), suite=later))
    [suites] = [r for r in found if "collected different suites" in r]
    assert "hold a date or time in a parameter" in suites
    assert "test_at[2026-12-04 14:29:02.901355]" in suites
    plain = [*SUITE, "tests/test_m.py::test_new"]
    [suites] = [
        r
        for r in reasons(job(shard=(1, 2)), job(shard=(2, 2), suite=plain))
        if "collected different suites" in r
    ]
    assert "date or time" not in suites


def test_many_jobs_with_one_blind_reason_say_it_once() -> None:
    jobs = [
        replace(job(shard=(k, 4)), blind_reasons=("pytest exited with code 3",)) for k in (1, 2, 3)
    ]
    found = [r for r in reasons(*jobs, job(shard=(4, 4))) if "code 3" in r]
    assert found == [
        "3 jobs (py3.12-linux [1/4], py3.12-linux [2/4], py3.12-linux [3/4]): pytest exited "
        "with code 3"
    ]
