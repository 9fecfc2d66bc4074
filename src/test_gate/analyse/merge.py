"""Many jobs, one run: the results of shards and matrix cells put together, with proof that
together they ran the whole suite. Pure: job results in, one RunData (for the one verdict)
and the facts of the merge (for the summary) out.

Every problem here is a reason the gate cannot see the whole suite, so each fails the
merge: a shard missing or there twice, shards that split different suites or ran different
seeds, a collected test that ran in no shard, a job that could not see its own run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from test_gate.analyse.shard_checks import check_cell, examples_of, files_of, job_label
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
        found.extend(check_cell(cell, members, expected.shards))
        if not expected.allow_no_tests and not any(
            t.outcome in ATTEMPTED for j in members for t in j.tests
        ):
            found.append(
                f"cell {cell} attempted no test ({files_of(members)}): a -k, -m or path that "
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


def _blind(jobs: Sequence[JobResult]) -> list[str]:
    """Each job's reasons that it could not see its run, named with the job; a reason many
    jobs share is said once, with how many and which."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for job in jobs:
        for reason in job.blind_reasons:
            by_reason[reason].append(job_label(job))
    out = []
    for reason, names in by_reason.items():
        if len(names) == 1:
            out.append(f"{names[0]}: {reason}")
        else:
            out.append(f"{len(names)} jobs ({examples_of(names)}): {reason}")
    return out


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
            Job(job_label(j), j.source, j.verdict, j.wall_time, len(j.tests))
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
