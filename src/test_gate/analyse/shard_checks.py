"""Do the jobs of one cell add up to its suite: one shard each of 1..N, split from the same
suite with the same seed, covering every collected test once. Each contradiction is a reason
that names the files it comes from."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pytest_test_gate.split import digest

from test_gate.analyse.cell import job_name
from test_gate.read.records import Outcome
from test_gate.read.results import JobResult

FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
ATTEMPTED = (Outcome.PASSED, *FAILING)
PASSING = (Outcome.PASSED, Outcome.XPASSED)
EXAMPLES = 3


def job_label(job: JobResult) -> str:
    return job_name(job.cell, job.shard_label)


def files_of(jobs: Iterable[JobResult]) -> str:
    return ", ".join(j.source for j in jobs)


def check_cell(cell: str, jobs: Sequence[JobResult], expect_shards: int | None) -> list[str]:
    """The cell's jobs add up to its whole suite, once; else why not, the cause first."""
    whole = [j for j in jobs if j.part is None]
    shards = [j for j in jobs if j.part is not None]
    if whole and shards:
        return [
            f"{cell}: both a whole-suite run ({files_of(whole)}) and shards ({files_of(shards)}): "
            "their tests would count twice; give the jobs different --cell names"
        ]
    if len(whole) > 1:
        return [
            f"{cell}: {len(whole)} jobs ran the whole suite ({files_of(whole)}): their tests "
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
        said = ", ".join(f"{job_label(j)} ({j.source})" for j in jobs)
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
                f"{cell}: shard {index}/{total} appears {len(same)} times ({files_of(same)}): "
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
        f"{cell}: {len(missing)} shards are missing (no result file): {examples_of(names)}; their "
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
        f"collection, e.g. {examples_of(sorted(found))}"
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
            f"{examples_of(twice)}: the shards split differently (give every shard the same "
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
            f"{examples_of(not_run)}"
        )
    if not problems and digest(given) != suite_digest:
        problems.append(
            f"{cell}: the ids the shards were given are not the suite their digest names: a "
            "result file contradicts the others"
        )
    return problems


def examples_of(items: Sequence[str]) -> str:
    more = " and more" if len(items) > EXAMPLES else ""
    return ", ".join(items[:EXAMPLES]) + more
