"""Reading the history store: an SQLite file of earlier gated runs (schema in the README),
opened read-only once `store` has checked it.

A history that cannot be used (not SQLite, another tool's database, a schema that is not
exactly this test-gate's, too slow, locked too long) is a `HistoryUnusable` with a one-line
reason: the run is still gated on its own data, and the file is left as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from test_gate.read.store import check_file, connect, retried, schema_of
from test_gate.read.values import integer, number, text

Key = tuple[str, str]  # (cell, test id): a test is the same test in the same cell


@dataclass(frozen=True)
class PastRun:
    """One earlier gated run, as the store keeps it."""

    id: int
    time: str  # ISO 8601, UTC
    commit: str
    branch: str
    verdict: str  # pass, fail
    pass_rate: float | None
    passed: int
    failed: int
    flaky: int
    tests: int  # tests attempted
    wall_time: float | None


@dataclass(frozen=True, slots=True)
class PastResult:
    """One test in one earlier run."""

    run: int
    outcome: str
    flaky: bool  # it passed on a rerun, or the diagnosis found it flaky


@dataclass(frozen=True)
class Lane:
    """Which runs are compared with this one: the same lane (cell and shard, or the merge),
    on this branch and on the base branch."""

    branch: str
    base: str | None
    lane: str


@dataclass(frozen=True)
class History:
    """The past of one lane. Most tests pass plainly in every run: of those only the count of
    runs they ran in is read; every row is read only for the tests that failed or were flaky
    at least once in the window (at 2,000 tests and 20 runs, 40,000 rows become ~2,000 counts
    and a few rows)."""

    path: str
    runs: tuple[PastRun, ...] = ()  # this branch and lane, oldest first: the trend
    window: tuple[PastRun, ...] = ()  # the newest of them, the ones the counts cover
    ran: Mapping[Key, int] = field(default_factory=dict)  # runs of the window a test ran in
    results: Mapping[Key, tuple[PastResult, ...]] = field(default_factory=dict)  # unstable ones
    base_runs: tuple[PastRun, ...] = ()
    base_flaky: frozenset[Key] = frozenset()  # failing now, flaky in the base branch's window
    # failing now: the commit and outcome of the latest runs it ran in here, newest first
    ran_here: Mapping[Key, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    last_base: Mapping[Key, str] = field(default_factory=dict)  # latest outcome, any age
    stored_runs: int = 0  # every run in the file, all branches
    new: bool = False  # the file does not exist yet: it is made when the run is recorded


def _runs(connection: sqlite3.Connection, branch: str, lane: str, limit: int) -> list[PastRun]:
    rows = connection.execute(
        "SELECT id, time, commit_sha, branch, verdict, pass_rate, passed, failed, flaky, "
        "passed + failed + error + interrupted, wall_time FROM runs "
        "WHERE branch = ? AND lane = ? ORDER BY id DESC LIMIT ?",
        (branch, lane, limit),
    ).fetchall()
    return [_past_run(row) for row in reversed(rows)]


def _past_run(row: Sequence[Any]) -> PastRun:
    """A stored run, each value of the type it should have: SQLite keeps whatever a column is
    given, and a history file may come from anywhere (a restored cache)."""
    run_id, time, commit, branch, verdict, rate, passed, failed, flaky, tests, wall = row
    return PastRun(
        id=integer(run_id) or 0,
        time=text(time),
        commit=text(commit),
        branch=text(branch),
        verdict="pass" if verdict == "pass" else "fail",
        pass_rate=number(rate) if isinstance(rate, (int, float)) else None,
        passed=integer(passed) or 0,
        failed=integer(failed) or 0,
        flaky=integer(flaky) or 0,
        tests=integer(tests) or 0,
        wall_time=number(wall) if isinstance(wall, (int, float)) else None,
    )


RAN = ("passed", "failed", "error", "interrupted")


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _ran(connection: sqlite3.Connection, ids: Sequence[int]) -> dict[Key, int]:
    """How many of these runs each test ran in (passed or failed): counted by SQLite."""
    if not ids:
        return {}
    rows = connection.execute(
        "SELECT t.cell, t.nodeid, count(*) FROM results r JOIN tests t ON t.id = r.test "
        f"WHERE r.run IN ({_marks(ids)}) AND r.outcome IN ({_marks(RAN)}) GROUP BY r.test",
        (*ids, *RAN),
    )
    return {(text(cell), text(nodeid)): count for cell, nodeid, count in rows}


def _unstable(
    connection: sqlite3.Connection, ids: Sequence[int]
) -> dict[Key, tuple[PastResult, ...]]:
    """Every row, in run order, of the tests that did not pass plainly in one of these runs."""
    if not ids:
        return {}
    out: dict[Key, list[PastResult]] = {}
    for cell, nodeid, run, outcome, category in connection.execute(
        "SELECT t.cell, t.nodeid, r.run, r.outcome, r.category FROM results r "
        f"JOIN tests t ON t.id = r.test WHERE r.run IN ({_marks(ids)}) AND r.test IN ("
        f"SELECT test FROM results WHERE run IN ({_marks(ids)}) "
        "AND (outcome != 'passed' OR category = 'flaky')) ORDER BY r.run",
        (*ids, *ids),
    ):
        key = (text(cell), text(nodeid))
        out.setdefault(key, []).append(PastResult(run, text(outcome), category == "flaky"))
    return {key: tuple(values) for key, values in out.items()}


def _flaky_among(
    connection: sqlite3.Connection, ids: Sequence[int], keys: Iterable[Key]
) -> frozenset[Key]:
    """Which of these tests were flaky in one of these runs."""
    found = set()
    for cell, nodeid in keys:
        row = connection.execute(
            "SELECT 1 FROM results WHERE test = (SELECT id FROM tests WHERE nodeid = ? AND "
            f"cell = ?) AND run IN ({_marks(ids)}) AND category = 'flaky' LIMIT 1",
            (nodeid, cell, *ids),
        ).fetchone()
        if row is not None:
            found.add((cell, nodeid))
    return frozenset(found)


EVIDENCE_RUNS = 20  # of this branch's own runs of a failing test, the newest read


def _last(
    connection: sqlite3.Connection, branch: str, lane: str, keys: Iterable[Key], limit: int
) -> dict[Key, tuple[tuple[str, str], ...]]:
    """Each test's commit and outcome the last `limit` times it ran in this lane of
    `branch`, however long ago, newest first: passed, failed or error (a skipped test did not
    run, and one that never finished, in a stopped run, tells nothing)."""
    out = {}
    for cell, nodeid in keys:
        # the lane's runs newest first (their index), each probed for the test (the key)
        rows = connection.execute(
            "SELECT u.commit_sha, r.outcome FROM runs u JOIN results r ON r.run = u.id "
            "AND r.test = (SELECT id FROM tests WHERE nodeid = ? AND cell = ?) "
            "WHERE u.branch = ? AND u.lane = ? AND r.outcome IN ('passed', 'failed', 'error') "
            "ORDER BY u.id DESC LIMIT ?",
            (nodeid, cell, branch, lane, limit),
        ).fetchall()
        if rows:
            out[(cell, nodeid)] = tuple((text(c), text(o)) for c, o in rows)
    return out


def load_history(
    path: Path, lane: Lane, past: int, failing: Iterable[Key], trend: int = 9
) -> History:
    """What the verdict needs of the past: the `past` runs before this one in this lane of
    the branch (and of the base branch), the `trend` newest for the trend, and the last
    outcome of each failing test."""
    if not check_file(path):
        return History(str(path), new=True)
    failing = list(failing)

    def read() -> History:
        with closing(connect(path)) as connection:
            if schema_of(connection, path) == 0:
                return History(str(path), new=True)
            connection.execute("BEGIN")  # one snapshot, whatever other jobs write meanwhile
            history = _read(connection, path, lane, past, failing, trend)
            connection.execute("COMMIT")
        return history

    return retried(path, "read", read)


def _read(
    connection: sqlite3.Connection,
    path: Path,
    lane: Lane,
    past: int,
    failing: Sequence[Key],
    trend: int,
) -> History:
    runs = _runs(connection, lane.branch, lane.lane, max(past, trend))
    window = runs[-past:] if past else []
    ids = [r.id for r in window]
    base_runs = _runs(connection, lane.base, lane.lane, past) if lane.base and past else []
    base_ids = [r.id for r in base_runs]
    return History(
        path=str(path),
        runs=tuple(runs[-trend:] if trend else ()),
        window=tuple(window),
        ran=_ran(connection, ids),
        results=_unstable(connection, ids),
        base_runs=tuple(base_runs),
        base_flaky=_flaky_among(connection, base_ids, failing) if base_ids else frozenset(),
        ran_here=_last(connection, lane.branch, lane.lane, failing, EVIDENCE_RUNS),
        last_base={
            k: v[0][1] for k, v in _last(connection, lane.base, lane.lane, failing, 1).items()
        }
        if lane.base
        else {},
        stored_runs=int(connection.execute("SELECT count(*) FROM runs").fetchone()[0]),
    )


def latest_lane(path: Path) -> tuple[str, str] | None:
    """The branch and lane of the newest run in the store, for `test-gate history`."""
    if not check_file(path):
        return None

    def read() -> tuple[str, str] | None:
        with closing(connect(path)) as connection:
            if schema_of(connection, path) == 0:
                return None
            row = connection.execute("SELECT branch, lane FROM runs ORDER BY id DESC LIMIT 1")
            found = row.fetchone()
        return (text(found[0]), text(found[1])) if found else None

    return retried(path, "read", read)


@dataclass(frozen=True)
class LaneHistory:
    """One branch and lane of the store, for the dashboard: its newest runs (oldest first),
    the runs each test ran in, and every row of the tests that did not always pass plainly."""

    branch: str
    lane: str
    runs: tuple[PastRun, ...]
    ran: Mapping[Key, int]
    results: Mapping[Key, tuple[PastResult, ...]]


def load_lanes(path: Path, window: int, max_lanes: int) -> list[LaneHistory]:
    """Every lane of the store, the most recently run first (at most `max_lanes`), each with
    its `window` newest runs: one snapshot of the file."""
    if not check_file(path):
        return []

    def read() -> list[LaneHistory]:
        with closing(connect(path)) as connection:
            if schema_of(connection, path) == 0:
                return []
            connection.execute("BEGIN")
            lanes = connection.execute(
                "SELECT branch, lane FROM runs GROUP BY branch, lane ORDER BY max(id) DESC LIMIT ?",
                (max_lanes,),
            ).fetchall()
            out = []
            for branch, lane in lanes:
                runs = _runs(connection, text(branch), text(lane), window)
                ids = [r.id for r in runs]
                out.append(
                    LaneHistory(
                        text(branch),
                        text(lane),
                        tuple(runs),
                        _ran(connection, ids),
                        _unstable(connection, ids),
                    )
                )
            connection.execute("COMMIT")
        return out

    return retried(path, "read", read)
