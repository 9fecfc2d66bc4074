"""Reading the history store: an SQLite file of earlier gated runs (schema in the README),
opened read-only once `store` has checked it.

A history that cannot be used (not SQLite, another tool's database, a schema that is not
exactly this test-gate's, too slow, locked too long) is a `HistoryUnusable` with a one-line
reason: the run is still gated on its own data, and the file is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from test_gate.read import pg_store
from test_gate.read.store import check_file, connect, retried, schema_of
from test_gate.read.url import is_url, redacted
from test_gate.read.values import integer, number, text

Key = tuple[str, str]  # (cell, test id): a test is the same test in the same cell
T = TypeVar("T")


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
    on this branch and on the base branch, of this repository."""

    branch: str
    base: str | None
    lane: str
    repository: str | None = None  # None: any repository's runs (`test-gate history`)


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Queryable(Protocol):
    """What the reads need of a connection: sqlite3's, or PostgreSQL's through `pg_store`."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


@dataclass(frozen=True)
class Scope:
    """Which runs of a store are this repository's. A store of schema 1 knows no
    repositories; in a later one, a run recorded before it did (repository '') is anyone's."""

    version: int
    repository: str | None = None  # None: every repository's

    def clause(self, alias: str = "") -> tuple[str, tuple[str, ...]]:
        if self.version < 2 or self.repository is None:
            return "", ()
        return f" AND {alias}repository IN (?, '')", (self.repository,)


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
    pull_request_flaky: frozenset[Key] = frozenset()  # flaky in pull requests into this branch


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
CHUNK = 400  # test keys per statement: SQLite allows 32,766 parameters; PostgreSQL 65,535
RUN_FIELDS = (
    "id, time, commit_sha, branch, verdict, pass_rate, passed, failed, flaky, "
    "passed + failed + error + interrupted, wall_time"
)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _chunks(keys: Sequence[Key]) -> Iterator[Sequence[Key]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]


def _keyed(keys: Sequence[Key]) -> tuple[str, list[str]]:
    """`(nodeid, cell) IN (VALUES ...)`, as SQLite and PostgreSQL both read it."""
    rows = ", ".join("(?, ?)" for _ in keys)
    return f"(t.nodeid, t.cell) IN (VALUES {rows})", [v for c, n in keys for v in (n, c)]


def _runs(connection: Queryable, scope: Scope, branch: str, lane: str, limit: int) -> list[PastRun]:
    where, params = scope.clause()
    rows = connection.execute(
        f"SELECT {RUN_FIELDS} FROM runs WHERE branch = ? AND lane = ?{where} "
        "ORDER BY id DESC LIMIT ?",
        (branch, lane, *params, limit),
    ).fetchall()
    return [_past_run(row) for row in reversed(rows)]


def _ran(connection: Queryable, ids: Sequence[int]) -> dict[Key, int]:
    """How many of these runs each test ran in (passed or failed): counted by the database."""
    if not ids:
        return {}
    rows = connection.execute(
        "SELECT t.cell, t.nodeid, count(*) FROM results r JOIN tests t ON t.id = r.test "
        f"WHERE r.run IN ({_marks(ids)}) AND r.outcome IN ({_marks(RAN)}) "
        "GROUP BY t.id, t.cell, t.nodeid",
        (*ids, *RAN),
    )
    return {(text(cell), text(nodeid)): int(count) for cell, nodeid, count in rows}


def _unstable(connection: Queryable, ids: Sequence[int]) -> dict[Key, tuple[PastResult, ...]]:
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
        out.setdefault(key, []).append(PastResult(int(run), text(outcome), category == "flaky"))
    return {key: tuple(values) for key, values in out.items()}


def _flaky_among(connection: Queryable, ids: Sequence[int], keys: Sequence[Key]) -> set[Key]:
    """Which of these tests were flaky in one of these runs: a statement per few hundred."""
    found: set[Key] = set()
    if not ids:
        return found
    for part in _chunks(keys):
        match, params = _keyed(part)
        for cell, nodeid in connection.execute(
            "SELECT DISTINCT t.cell, t.nodeid FROM results r JOIN tests t ON t.id = r.test "
            f"WHERE r.run IN ({_marks(ids)}) AND r.category = 'flaky' AND {match}",
            (*ids, *params),
        ):
            found.add((text(cell), text(nodeid)))
    return found


EVIDENCE_RUNS = 20  # of this branch's own runs of a failing test, the newest read


def _last(
    connection: Queryable,
    scope: Scope,
    branch: str,
    lane: str,
    keys: Sequence[Key],
    limit: int,
) -> dict[Key, tuple[tuple[str, str], ...]]:
    """Each test's commit and outcome the last `limit` times it ran in this lane of
    `branch`, however long ago, newest first: passed, failed or error (a skipped test did not
    run, and one that never finished, in a stopped run, tells nothing). A statement per few
    hundred tests, not one per test."""
    out: dict[Key, list[tuple[str, str]]] = {}
    where, params = scope.clause("u.")
    for part in _chunks(keys):
        match, values = _keyed(part)
        rows = connection.execute(
            "SELECT t.cell, t.nodeid, x.commit_sha, x.outcome FROM ("
            "SELECT r.test AS test, u.commit_sha AS commit_sha, r.outcome AS outcome, "
            "ROW_NUMBER() OVER (PARTITION BY r.test ORDER BY u.id DESC) AS n "
            "FROM results r JOIN runs u ON u.id = r.run "
            f"WHERE u.branch = ? AND u.lane = ?{where} "
            "AND r.outcome IN ('passed', 'failed', 'error') "
            f"AND r.test IN (SELECT t.id FROM tests t WHERE {match})"
            ") x JOIN tests t ON t.id = x.test WHERE x.n <= ? ORDER BY t.id, x.n",
            (branch, lane, *params, *values, limit),
        )
        for cell, nodeid, commit, outcome in rows:
            out.setdefault((text(cell), text(nodeid)), []).append((text(commit), text(outcome)))
    return {key: tuple(values) for key, values in out.items()}


def _pull_request_flaky(
    connection: Queryable, scope: Scope, base: str, lane: str, since: int
) -> frozenset[Key]:
    """The tests flaky in a pull request's run into `base` (this lane, since run `since`):
    a test that failed and then passed on one commit is flaky wherever it ran."""
    if scope.version < 2:
        return frozenset()
    where, params = scope.clause("u.")
    rows = connection.execute(
        "SELECT DISTINCT t.cell, t.nodeid FROM runs u JOIN results r ON r.run = u.id "
        "JOIN tests t ON t.id = r.test WHERE u.pull_request = 1 AND u.base = ? AND u.lane = ?"
        f"{where} AND u.id >= ? AND r.category = 'flaky'",
        (base, lane, *params, since),
    )
    return frozenset((text(cell), text(nodeid)) for cell, nodeid in rows)


def load_history(
    source: Path | str, lane: Lane, past: int, failing: Iterable[Key], trend: int = 9
) -> History:
    """What the verdict needs of the past: the `past` runs before this one in this lane of
    the branch (and of the base branch), the `trend` newest for the trend, and the last
    outcome of each failing test."""
    keys = list(failing)

    def read(connection: Queryable, version: int) -> History:
        return _read(connection, Scope(version, lane.repository), str(source), lane, past,
                     keys, trend)  # fmt: skip

    found = reading(source, read)
    return found if found is not None else History(display(source), new=True)


def _read(
    connection: Queryable,
    scope: Scope,
    name: str,
    lane: Lane,
    past: int,
    failing: Sequence[Key],
    trend: int,
) -> History:
    runs = _runs(connection, scope, lane.branch, lane.lane, max(past, trend))
    window = runs[-past:] if past else []
    ids = [r.id for r in window]
    base_runs = _runs(connection, scope, lane.base, lane.lane, past) if lane.base and past else []
    base_ids = [r.id for r in base_runs]
    return History(
        path=display(name),
        runs=tuple(runs[-trend:] if trend else ()),
        window=tuple(window),
        ran=_ran(connection, ids),
        results=_unstable(connection, ids),
        base_runs=tuple(base_runs),
        base_flaky=frozenset(_flaky_among(connection, base_ids, failing)),
        ran_here=_last(connection, scope, lane.branch, lane.lane, failing, EVIDENCE_RUNS),
        last_base={
            k: v[0][1]
            for k, v in _last(connection, scope, lane.base, lane.lane, failing, 1).items()
        }
        if lane.base
        else {},
        stored_runs=int(connection.execute("SELECT count(*) FROM runs").fetchone()[0]),
        pull_request_flaky=_pull_request_flaky(
            connection, scope, lane.branch, lane.lane, window[0].id if window else 0
        ),
    )


def latest_lane(source: Path | str, repository: str | None = None) -> tuple[str, str] | None:
    """The branch and lane of the newest run in the store, for `test-gate history`."""

    def read(connection: Queryable, version: int) -> tuple[str, str] | None:
        where, params = Scope(version, repository).clause()
        found = connection.execute(
            f"SELECT branch, lane FROM runs WHERE 1 = 1{where} ORDER BY id DESC LIMIT 1",
            params,
        ).fetchone()
        return (text(found[0]), text(found[1])) if found else None

    return reading(source, read)


def display(source: Path | str) -> str:
    """How a store is named in messages: a file's path, or a URL without its password."""
    if isinstance(source, str) and is_url(source):
        return redacted(source)
    return str(source)


def reading(source: Path | str, action: Callable[[Queryable, int], T]) -> T | None:
    """`action` on the store, in one read-only snapshot, with its schema version; None when
    there is no store yet. Every failure is HistoryUnusable."""
    if isinstance(source, str) and is_url(source):
        return pg_store.reading(source, action)
    path = Path(source)
    if not check_file(path):
        return None

    def read() -> T | None:
        with closing(connect(path)) as connection:
            version = schema_of(connection, path)
            if version == 0:
                return None
            connection.execute("BEGIN")  # one snapshot, whatever other jobs write meanwhile
            found = action(connection, version)
            connection.execute("COMMIT")
        return found

    return retried(path, "read", read)


@dataclass(frozen=True)
class LaneHistory:
    """One repository, branch and lane of the store, for the dashboard: its newest runs
    (oldest first), the runs each test ran in, and every row of the tests that did not always
    pass plainly."""

    repository: str
    branch: str
    lane: str
    runs: tuple[PastRun, ...]
    ran: Mapping[Key, int]
    results: Mapping[Key, tuple[PastResult, ...]]


def load_lanes(
    source: Path | str, window: int, max_lanes: int, repository: str | None = None
) -> list[LaneHistory]:
    """Every lane of the store (of one repository, when named), the most recently run first
    (at most `max_lanes`), each with its `window` newest runs: one snapshot."""

    def read(connection: Queryable, version: int) -> list[LaneHistory]:
        named = "repository" if version >= 2 else "''"
        where, params = Scope(version, repository).clause()
        lanes = connection.execute(
            f"SELECT {named}, branch, lane FROM runs WHERE 1 = 1{where} "
            f"GROUP BY {named}, branch, lane ORDER BY max(id) DESC LIMIT ?",
            (*params, max_lanes),
        ).fetchall()
        out = []
        for repo, branch, lane in lanes:
            scope = Scope(version, text(repo))
            runs = _runs(connection, scope, text(branch), text(lane), window)
            ids = [r.id for r in runs]
            out.append(
                LaneHistory(
                    text(repo),
                    text(branch),
                    text(lane),
                    tuple(runs),
                    _ran(connection, ids),
                    _unstable(connection, ids),
                )
            )
        return out

    return reading(source, read) or []
