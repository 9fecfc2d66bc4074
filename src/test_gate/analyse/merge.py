"""Many jobs, one run: the results of shards and matrix cells put together, with proof that
together they ran the whole suite. Pure: job results in, one RunData (for the one verdict)
and the facts of the merge (for the summary) out.

Every problem here is a reason the gate cannot see the whole suite, so each fails the
merge: a shard missing or there twice, shards that split different suites or ran different
seeds, a collected test that ran in no shard, a job that could not see its own run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from pytest_test_gate.split import digest

from test_gate.analyse.cell import job_name
from test_gate.analyse.verdict import Counts, count, pass_rate
from test_gate.read.records import CollectError, Outcome, RunData, TestRecord
from test_gate.read.report import once_each
from test_gate.read.results import JobResult

FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
ATTEMPTED = (Outcome.PASSED, *FAILING)
PASSING = (Outcome.PASSED, Outcome.XPASSED)
EXAMPLES = 3


@dataclass(frozen=True)
class Expected:
    """What must be there, beyond what the shards recorded of themselves."""

    shards: int | None = None  # every cell has this many shards
    cells: tuple[str, ...] = ()  # exactly these cells
    allow_no_tests: bool = False  # a cell whose jobs attempted no test passes


@dataclass(frozen=True)
class Job:
    name: str  # its cell, and its shard when it ran one
    source: str
    verdict: str
    wall_time: float | None
    tests: int


@dataclass(frozen=True)
class CellRow:
    cell: str
    jobs: int
    shards: int | None  # N, when the cell was split
    counts: Counts
    pass_rate: Fraction | None
    wall_time: float | None  # its slowest job: the cell's jobs run side by side
    seed: str | None


@dataclass(frozen=True)
class AcrossCells:
    """A test that failed, or was flaky, in some cells: which ones."""

    nodeid: str
    cells: tuple[str, ...]  # where it failed (or was flaky)
    other_cells: tuple[str, ...]  # where it passed
    message: str


@dataclass(frozen=True)
class CellFinding:
    """A job's own diagnosis of a test, kept with its cell."""

    cell: str
    nodeid: str
    category: str  # order_dependent, broken
    detail: str
    command: str


@dataclass(frozen=True)
class MergeFacts:
    cells: tuple[CellRow, ...]
    jobs: tuple[Job, ...]
    broken: tuple[AcrossCells, ...]  # failed in every cell it ran in
    some_cells: tuple[AcrossCells, ...]  # failed in some cells, passed in others
    flaky: tuple[AcrossCells, ...]  # flaky in at least one cell
    findings: tuple[CellFinding, ...]

    @property
    def slowest(self) -> Job | None:
        timed = [j for j in self.jobs if j.wall_time is not None]
        return max(timed, key=lambda j: (j.wall_time or 0.0, j.name)) if timed else None


def merge_jobs(
    jobs: Sequence[JobResult], problems: Sequence[str] = (), expected: Expected | None = None
) -> tuple[RunData, MergeFacts]:
    """`problems`: what could not be read, which comes first (it is the root cause)."""
    found = list(problems)
    expected = expected or Expected()
    if not jobs and not problems:
        found.append("no result file was given: there is nothing to merge")
    found.extend(_blind(jobs))  # what a job could not see of its own run: root causes
    by_cell: dict[str, list[JobResult]] = defaultdict(list)
    for job in jobs:
        by_cell[job.cell].append(job)
    for cell in expected.cells:
        if cell not in by_cell:
            found.append(f"cell {cell} is missing: no result file is of it (--expect-cells)")
    if expected.cells:
        for cell in by_cell:
            if cell not in expected.cells:
                found.append(
                    f"cell {cell} is not one of --expect-cells: a job named its cell wrong"
                )
    for cell, members in by_cell.items():
        found.extend(_check_cell(cell, members, expected.shards))
        if not expected.allow_no_tests and not any(
            t.outcome in ATTEMPTED for j in members for t in j.tests
        ):
            found.append(
                f"cell {cell} attempted no test ({_files(members)}): a -k, -m or path that "
                "matches nothing? (--allow-no-tests lets an empty cell pass)"
            )
    tests = tuple(t for job in jobs for t in job.tests)  # each read with its cell
    run = RunData(
        tests=tests,
        collect_errors=_collect_errors(by_cell),
        collected=sum(_cell_collected(m)[0] for m in by_cell.values()),
        deselected=sum(_cell_collected(m)[1] for m in by_cell.values()),
        # each job checked its own exit code against its tests: what stands for all of them
        exit_code=1 if any(t.outcome in FAILING for t in tests) else 0,
        seed=", ".join(sorted({j.seed for j in jobs if j.seed})) or None,
        ignored=once_each(i for j in jobs for i in j.ignored),
        never_ran=tuple(dict.fromkeys(n for j in jobs for n in j.never_ran)),
        problems=tuple(dict.fromkeys(found)),
        sources=tuple(j.source for j in jobs),
    )
    return run, _facts(by_cell, jobs)


def _name(job: JobResult) -> str:
    return job_name(job.cell, job.shard_label)


def _blind(jobs: Sequence[JobResult]) -> list[str]:
    """Each job's reasons that it could not see its run, named with the job; a reason many
    jobs share is said once, with how many and which."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for job in jobs:
        for reason in job.blind_reasons:
            by_reason[reason].append(_name(job))
    out = []
    for reason, names in by_reason.items():
        if len(names) == 1:
            out.append(f"{names[0]}: {reason}")
        else:
            out.append(f"{len(names)} jobs ({_examples(names)}): {reason}")
    return out


def _files(jobs: Iterable[JobResult]) -> str:
    return ", ".join(j.source for j in jobs)


def _check_cell(cell: str, jobs: Sequence[JobResult], expect_shards: int | None) -> list[str]:
    """The cell's jobs add up to its whole suite, once; else why not, the cause first."""
    whole = [j for j in jobs if j.part is None]
    shards = [j for j in jobs if j.part is not None]
    if whole and shards:
        return [
            f"{cell}: both a whole-suite run ({_files(whole)}) and shards ({_files(shards)}): "
            "their tests would count twice; give the jobs different --cell names"
        ]
    if len(whole) > 1:
        return [
            f"{cell}: {len(whole)} jobs ran the whole suite ({_files(whole)}): their tests "
            "would count twice; give each job its own --cell"
        ]
    if whole:
        if expect_shards not in (None, 1):
            return [f"{cell}: ran unsplit, and --expect-shards is {expect_shards}"]
        return []
    return _check_shards(cell, shards, expect_shards)


def _check_shards(cell: str, jobs: Sequence[JobResult], expect: int | None) -> list[str]:
    """Every shard there once, of one suite, with one seed. A job asked to run a shard that
    could not say what it ran (it crashed first) counts as there: its own reasons say why it
    could not see its run."""
    parts = {j.part[1] for j in jobs if j.part}
    total = expect if expect is not None else (next(iter(parts)) if len(parts) == 1 else None)
    if total is None or parts - {total}:
        said = ", ".join(f"{_name(j)} ({j.source})" for j in jobs)
        want = f" and --expect-shards is {expect}" if expect is not None else ""
        return [f"{cell}: the shards do not agree on how many there are: {said}{want}"]
    problems: list[str] = []
    by_index: dict[int, list[JobResult]] = defaultdict(list)
    for job in jobs:
        assert job.part is not None
        by_index[job.part[0]].append(job)
    for index, same in sorted(by_index.items()):
        if len(same) > 1:
            problems.append(
                f"{cell}: shard {index}/{total} appears {len(same)} times ({_files(same)}): "
                "its tests would count twice"
            )
    split = [j for j in jobs if j.shard is not None]
    missing = [i for i in range(1, total + 1) if i not in by_index]
    if missing:
        problems.append(_missing(cell, missing, total, split))
    if not split:
        return problems
    suites = {(j.shard.suite_digest, j.shard.suite) for j in split if j.shard}
    digests = {d for d, _ in suites}
    if len(suites) > len(digests):
        said = ", ".join(
            f"{j.shard.label} claims {j.shard.suite} in {j.source}"
            for j in _sorted(split)
            if j.shard
        )
        problems.append(
            f"{cell}: shards with the same suite digest claim different suite sizes ({said}): "
            "a result file contradicts the others"
        )
    elif len(digests) > 1:
        said = ", ".join(
            f"{j.shard.label} collected {j.shard.suite}" for j in _sorted(split) if j.shard
        )
        problems.append(
            f"{cell}: the shards collected different suites ({said}; the collected ids "
            f"differ{_generated(split)}): they did not split one suite, so the parts cannot add "
            "up"
        )
    seeds = {j.seed for j in jobs}
    if len(seeds) > 1:
        said = ", ".join(f"{j.shard_label}: {j.seed}" for j in _sorted(jobs))
        problems.append(
            f"{cell}: the shards ran with different seeds ({said}): one seed must order "
            "every shard (give them the same --seed)"
        )
    if not problems and len(split) == len(jobs):  # a crashed shard's own reasons say enough
        some = split[0].shard
        assert some is not None
        problems.extend(_coverage(cell, split, some.suite, some.suite_digest))
    return problems


def _missing(cell: str, missing: Sequence[int], total: int, split: Sequence[JobResult]) -> str:
    """One reason for every missing shard, however many (a claim of 1/999999 is one line)."""
    given = len({i for j in split if j.shard for i in j.shard.ids})
    suite = split[0].shard.suite if split and split[0].shard else None
    left = (
        f" ({suite - given} of the suite's {suite} tests are in no shard's result)" if suite else ""
    )
    if len(missing) == 1:
        return (
            f"{cell}: shard {missing[0]}/{total} is missing (no result file): its tests ran in "
            f"no job{left}"
        )
    names = [f"{i}/{total}" for i in missing]
    return (
        f"{cell}: {len(missing)} shards are missing (no result file): {_examples(names)}; their "
        f"tests ran in no job{left}"
    )


GENERATED = re.compile(
    r"\[[^\]]*(\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}:\d{2}|\b1[5-9]\d{8}(\.\d+)?\b)[^\]]*\]"
)


def _generated(jobs: Sequence[JobResult]) -> str:
    """A hint when ids look generated at collection (a date, a time or a timestamp in a
    parameter changes at every collection, so no two shards collect the same suite)."""
    found = [i for j in jobs if j.shard for i in j.shard.ids if GENERATED.search(i)]
    if not found:
        return ""
    return (
        f"; {len(found)} id(s) hold a date or time in a parameter, which changes at every "
        f"collection, e.g. {_examples(sorted(found))}"
    )


def _sorted(jobs: Iterable[JobResult]) -> list[JobResult]:
    return sorted(jobs, key=lambda j: j.part[0] if j.part else 0)


def _coverage(cell: str, jobs: Sequence[JobResult], suite: int, suite_digest: str) -> list[str]:
    """With every shard there once, on one suite: each collected test given to one shard,
    and run there; and the ids given make the suite their digest names."""
    problems: list[str] = []
    given: dict[str, str] = {}
    twice: list[str] = []
    not_run: list[str] = []
    for job in _sorted(jobs):
        assert job.shard is not None
        ran = {t.nodeid for t in job.tests}
        for nodeid in job.shard.ids:
            if nodeid in given:
                twice.append(nodeid)
            given[nodeid] = job.shard.label
            if nodeid not in ran:
                not_run.append(f"{nodeid} (shard {job.shard.label})")
    if twice:
        problems.append(
            f"{cell}: {len(twice)} test(s) were given to more than one shard, e.g. "
            f"{_examples(twice)}: the shards split differently (give every shard the same "
            "--durations-from)"
        )
    if len(given) < suite:
        problems.append(
            f"{cell}: {suite - len(given)} test(s) collected by the suite were given to no "
            "shard: the shards split differently (give every shard the same --durations-from)"
        )
    if not_run:
        problems.append(
            f"{cell}: {len(not_run)} test(s) collected by the suite ran in no shard: "
            f"{_examples(not_run)}"
        )
    if not problems and digest(given) != suite_digest:
        problems.append(
            f"{cell}: the ids the shards were given are not the suite their digest names: a "
            "result file contradicts the others"
        )
    return problems


def _examples(items: Sequence[str]) -> str:
    more = " and more" if len(items) > EXAMPLES else ""
    return ", ".join(items[:EXAMPLES]) + more


def _cell_collected(jobs: Sequence[JobResult]) -> tuple[int, int]:
    """What the cell collected, and what the user deselected: once for a split suite (every
    shard collects it whole), else per job."""
    shards = [j for j in jobs if j.shard is not None]
    if shards and len(shards) == len(jobs):
        first = shards[0]
        assert first.shard is not None
        return first.collected, max(first.collected - first.shard.suite, 0)
    return sum(j.collected for j in jobs), sum(j.deselected for j in jobs)


def _collect_errors(by_cell: Mapping[str, Sequence[JobResult]]) -> tuple[CollectError, ...]:
    """Each shard collects the whole suite and meets the same errors: once per cell."""
    out: dict[tuple[str, str], CollectError] = {}
    for cell, jobs in by_cell.items():
        for job in jobs:
            for error in job.collect_errors:
                key = (cell, error.nodeid)
                if key not in out:
                    message = f"[{cell}] {error.message}" if len(by_cell) > 1 else error.message
                    out[key] = replace(error, message=message)
    return tuple(out.values())


def _facts(by_cell: Mapping[str, Sequence[JobResult]], jobs: Sequence[JobResult]) -> MergeFacts:
    rows = []
    for cell, members in sorted(by_cell.items()):
        counts = count(
            RunData(
                tests=tuple(t for j in members for t in j.tests),
                collect_errors=tuple(
                    {e.nodeid: e for j in members for e in j.collect_errors}.values()
                ),
            )
        )
        times = [j.wall_time for j in members if j.wall_time is not None]
        totals = {j.part[1] for j in members if j.part}
        rows.append(
            CellRow(
                cell=cell,
                jobs=len(members),
                shards=max(totals) if totals else None,
                counts=counts,
                pass_rate=pass_rate(counts),
                wall_time=max(times) if times else None,
                seed=", ".join(sorted({j.seed for j in members if j.seed})) or None,
            )
        )
    broken, some, flaky = _across_cells(jobs)
    return MergeFacts(
        cells=tuple(rows),
        jobs=tuple(
            Job(_name(j), j.source, j.verdict, j.wall_time, len(j.tests))
            for j in sorted(jobs, key=lambda j: (j.cell, j.part[0] if j.part else 0))
        ),
        broken=broken,
        some_cells=some,
        flaky=flaky,
        findings=tuple(_findings(jobs)),
    )


def _across_cells(
    jobs: Sequence[JobResult],
) -> tuple[tuple[AcrossCells, ...], tuple[AcrossCells, ...], tuple[AcrossCells, ...]]:
    failing: dict[str, dict[str, TestRecord]] = defaultdict(dict)
    passing: dict[str, set[str]] = defaultdict(set)
    flaky: dict[str, dict[str, TestRecord]] = defaultdict(dict)
    for job in jobs:
        for test in job.tests:
            attempts = test.attempts
            outcome = attempts[-1].outcome
            if outcome in FAILING:
                failing[test.nodeid].setdefault(job.cell, test)
            elif outcome is Outcome.PASSED and len(attempts) > 1:  # flaky
                flaky[test.nodeid].setdefault(job.cell, test)
    # where else a failing or flaky test passed: looked up for those tests only (a set of
    # cells for every passing test of a large suite costs more than the rest of the merge)
    told = failing.keys() | flaky.keys()
    if told:
        for job in jobs:
            for test in job.tests:
                if test.nodeid in told and test.outcome in PASSING:
                    passing[test.nodeid].add(job.cell)
    broken: list[AcrossCells] = []
    some: list[AcrossCells] = []
    for nodeid, cells in failing.items():
        entry = AcrossCells(
            nodeid,
            tuple(sorted(cells)),
            tuple(sorted(passing.get(nodeid, ()))),
            next(iter(cells.values())).last.message,
        )
        (some if entry.other_cells else broken).append(entry)
    flaky_entries = [
        AcrossCells(
            nodeid,
            tuple(sorted(cells)),
            tuple(sorted(passing.get(nodeid, set()) - set(cells))),
            next(iter(cells.values())).attempts[0].message,
        )
        for nodeid, cells in flaky.items()
    ]
    return tuple(broken), tuple(some), tuple(flaky_entries)


def _findings(jobs: Sequence[JobResult]) -> Iterable[CellFinding]:
    for job in jobs:
        for entry in job.order_dependent:
            culprits = entry.get("polluters") or entry.get("setters") or []
            kind = str(entry.get("kind") or "order-dependent").replace("_", " ")
            detail = f"{kind} by {', '.join(map(str, culprits[:3]))}" if culprits else kind
            yield CellFinding(
                job.cell,
                str(entry.get("victim") or ""),
                "order_dependent",
                detail,
                str(entry.get("command") or ""),
            )
        for entry in job.broken:
            yield CellFinding(
                job.cell,
                str(entry.get("nodeid") or ""),
                "broken",
                str(entry.get("message") or "fails alone too"),
                str(entry.get("command") or ""),
            )
