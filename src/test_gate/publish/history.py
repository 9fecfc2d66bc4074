"""Writing the history store: the schema and its migrations, and one gated run appended in one
transaction, then the store kept bounded.

Parallel jobs may write one file at once: a write takes the database's write lock first
(BEGIN IMMEDIATE), and is tried again while another writer holds it, up to BUSY_SECONDS; a busy
database; SQLite's journal keeps the file whole if a writer dies halfway.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from test_gate.read import pg_store
from test_gate.read.history_runs import RunEntry, run_keys, runs_missing
from test_gate.read.pg_store import PgConnection, pg_errors
from test_gate.read.store import (
    MIGRATIONS,
    RUN_COLUMNS,
    SCHEMA_2,
    StoreDamaged,
    apply_migrations,
    check_file,
    connect,
    retried,
    schema_of,
)
from test_gate.read.url import is_url, redacted


def run_values(entry: RunEntry) -> list[object]:
    return [entry.run[c] if c in entry.run else SCHEMA_2[c] for c in RUN_COLUMNS]


@dataclass(frozen=True)
class Recorded:
    run_id: int
    stored_runs: int
    pruned: int
    size: int  # bytes of the file after the write


def _rollback(connection: sqlite3.Connection) -> None:
    """Undo the transaction, if SQLite has not already: the error that led here is the one
    to report, not a failed rollback (closing the connection rolls back too)."""
    with suppress(sqlite3.Error):
        connection.execute("ROLLBACK")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the store to SCHEMA, under the write lock: two jobs that find no store at once
    make it once. A store that cannot be used is not written to at all."""
    if not path.stat().st_size:
        # takes effect only in an empty database, outside a transaction (on a store that has
        # pages it would write to it, even when the store cannot be used)
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        apply_migrations(
            connection.execute,
            MIGRATIONS,
            schema_of(connection, path),
            lambda number: connection.execute(f"PRAGMA user_version = {number}"),
        )
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def _append(connection: sqlite3.Connection, entry: RunEntry, keep: int) -> tuple[int, int, int]:
    """The run, its tests, and the branch's oldest runs beyond `keep` dropped, their pages
    given back: one transaction, all of it or none. The run's id, the runs dropped, the runs
    kept.
    The run's tests pass through a temporary table, so that their ids are joined in SQLite
    (no dict of every name the store holds, no lookup that can miss)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        values = run_values(entry)
        cursor = connection.execute(
            f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
            values,
        )
        run_id = int(cursor.lastrowid or 0)
        connection.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming (cell TEXT, nodeid TEXT, outcome TEXT, "
            "attempts INTEGER, duration_ms INTEGER, category TEXT)"
        )
        connection.execute("DELETE FROM temp.incoming")
        connection.executemany("INSERT INTO temp.incoming VALUES (?, ?, ?, ?, ?, ?)", entry.tests)
        connection.execute(
            "INSERT OR IGNORE INTO tests (nodeid, cell) SELECT nodeid, cell FROM temp.incoming"
        )
        stored = connection.execute(
            "INSERT OR REPLACE INTO results SELECT ?, t.id, i.outcome, i.attempts, "
            "i.duration_ms, i.category FROM temp.incoming i "
            "JOIN tests t ON t.nodeid = i.nodeid AND t.cell = i.cell",
            (run_id,),
        ).rowcount
        if stored != len(entry.tests):
            raise StoreDamaged(f"it stored {stored} of the run's {len(entry.tests)} tests")
        old = [
            r[0]
            for r in connection.execute(
                "SELECT id FROM runs WHERE repository = ? AND branch = ? "
                "ORDER BY id DESC LIMIT -1 OFFSET ?",
                (entry.run.get("repository", ""), entry.run["branch"], keep),
            )
        ]
        if old:
            marks = ",".join("?" * len(old))
            connection.execute(f"DELETE FROM results WHERE run IN ({marks})", old)
            connection.execute(f"DELETE FROM runs WHERE id IN ({marks})", old)
            names = int(connection.execute("SELECT count(*) FROM tests").fetchone()[0])
            if names > 2 * len(entry.tests) + 100:
                # the names no kept run holds, once they are as many as the live ones: one
                # pass over the results (an index by test would cost a third of the file)
                connection.execute("DELETE FROM tests WHERE id NOT IN (SELECT test FROM results)")
            connection.execute("PRAGMA incremental_vacuum")  # the freed pages, given back
        stored = int(connection.execute("SELECT count(*) FROM runs").fetchone()[0])
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise
    return run_id, len(old), stored


def _append_pg(connection: PgConnection, entry: RunEntry, keep: int) -> tuple[int, int, int]:
    """The same append in PostgreSQL, in a few round trips whatever the run's size: the
    run's tests are copied into a temporary table and joined there. New test names go in
    sorted, so that two jobs adding the same names never wait on each other in a cycle."""
    values = run_values(entry)
    run_id = int(
        connection.execute(
            f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(RUN_COLUMNS))}) RETURNING id",
            values,
        ).fetchone()[0]
    )
    connection.execute(
        "CREATE TEMP TABLE IF NOT EXISTS incoming (cell TEXT, nodeid TEXT, outcome TEXT, "
        "attempts INTEGER, duration_ms INTEGER, category TEXT) ON COMMIT DELETE ROWS"
    )
    cursor = connection.connection.cursor()
    with cursor.copy(
        "COPY incoming (cell, nodeid, outcome, attempts, duration_ms, category) FROM STDIN"
    ) as copy:
        for row in entry.tests:
            copy.write_row(row)
    connection.execute(
        "INSERT INTO tests (nodeid, cell) SELECT DISTINCT nodeid, cell FROM incoming "
        "ORDER BY nodeid, cell ON CONFLICT DO NOTHING"
    )
    stored = connection.execute(
        "INSERT INTO results SELECT ?, t.id, i.outcome, i.attempts, i.duration_ms, i.category "
        "FROM incoming i JOIN tests t ON t.nodeid = i.nodeid AND t.cell = i.cell "
        "ON CONFLICT (run, test) DO UPDATE SET outcome = EXCLUDED.outcome",
        (run_id,),
    ).rowcount
    if stored != len(entry.tests):
        raise StoreDamaged(f"it stored {stored} of the run's {len(entry.tests)} tests")
    old = [
        int(r[0])
        for r in connection.execute(
            "SELECT id FROM runs WHERE repository = ? AND branch = ? ORDER BY id DESC OFFSET ?",
            (entry.run.get("repository", ""), entry.run["branch"], keep),
        )
    ]
    if old:
        connection.execute("DELETE FROM runs WHERE id = ANY(?)", (old,))  # results cascade
    kept = int(
        connection.execute(
            "SELECT count(*) FROM runs WHERE repository = ?", (entry.run.get("repository", ""),)
        ).fetchone()[0]
    )
    return run_id, len(old), kept


def _forget_names(connection: PgConnection, live: int) -> None:
    """The test names no run holds any more, once they outnumber the live ones; a name
    another job is adding results for right now is locked, and skipped."""
    names = int(connection.execute("SELECT count(*) FROM tests").fetchone()[0])
    if names <= 2 * live + 100:
        return
    connection.execute(
        "DELETE FROM tests WHERE id IN (SELECT id FROM tests t WHERE NOT EXISTS ("
        "SELECT 1 FROM results r WHERE r.test = t.id) FOR UPDATE SKIP LOCKED)"
    )


def _record_pg(url: str, entry: RunEntry, keep: int) -> Recorded:
    name = redacted(url)
    with pg_errors(url, "written"), pg_store.connect(url) as raw:
        connection = PgConnection(raw)
        with raw.transaction():
            pg_store.migrate(connection, name)
        with raw.transaction():
            run_id, pruned, stored = _append_pg(connection, entry, keep)
        with suppress(Exception), raw.transaction():  # housekeeping, never the run's loss
            _forget_names(connection, len(entry.tests))
        size = int(
            connection.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'test_gate' AND c.relkind = 'r'"
            ).fetchone()[0]
        )
    return Recorded(run_id, stored, pruned, size)


def record_run(source: Path | str, entry: RunEntry, keep: int) -> Recorded:
    """Append one run; HistoryUnusable when the store cannot take it."""
    if isinstance(source, str) and is_url(source):
        return _record_pg(source, entry, keep)
    path = Path(source)
    check_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def append() -> Recorded:
        with closing(connect(path, write=True)) as connection:
            _migrate(connection, path)
            run_id, pruned, stored = _append(connection, entry, keep)
        return Recorded(run_id, stored, pruned, path.stat().st_size)

    return retried(path, "written", append)


MAX_MERGED = 2_000  # runs one merge takes at most: 10 branches' worth at the default --keep-runs


@dataclass(frozen=True)
class Merged:
    added: int  # runs of the other store this one lacked, now appended
    runs: int  # runs this store holds afterwards
    left_out: int = 0  # older runs it lacked too, beyond MAX_MERGED


def merge_stores(into: Path, other: Path, keep: int) -> Merged:
    """`into` takes the runs of `other` it lacks, oldest first, each appended as a gated run
    is (its branch kept to `keep` runs); `into` is made when there is none. Two copies of one
    history, saved by two jobs that restored the same entry, become one. HistoryUnusable when
    either store cannot be used; each run is appended whole or not at all. A try that another
    writer's lock cut short is taken up again from what `into` then holds: no run twice."""
    check_file(into)
    added = 0

    def append() -> Merged:
        nonlocal added
        known = run_keys(into)
        missing, left_out = runs_missing(other, known, MAX_MERGED)
        if not missing:
            return Merged(added, len(known), left_out)
        into.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(into, write=True)) as connection:
            _migrate(connection, into)
            for entry in missing:
                stored = _append(connection, entry, keep)[2]
                added += 1
        return Merged(added, stored, left_out)

    return retried(into, "written", append)
