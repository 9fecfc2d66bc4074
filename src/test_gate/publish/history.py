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

from test_gate.read.store import (
    MIGRATIONS,
    SCHEMA,
    TOOL,
    StoreDamaged,
    check_file,
    connect,
    retried,
    schema_of,
    statements,
)
from test_gate.render.history import RunEntry

RUN_COLUMNS = [
    "run_key",
    "time",
    "commit_sha",
    "branch",
    "lane",
    "cell",
    "kind",
    "seed",
    "verdict",
    "blind",
    "pass_rate",
    "passed",
    "failed",
    "error",
    "skipped",
    "xfailed",
    "xpassed",
    "interrupted",
    "flaky",
    "reruns",
    "collected",
    "wall_time",
]


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
        version = schema_of(connection, path)
        for number in range(version + 1, SCHEMA + 1):
            for statement in statements(MIGRATIONS[number - 1]):
                connection.execute(statement)
            if number == 1:
                connection.execute("INSERT INTO meta VALUES ('tool', ?)", (TOOL,))
            connection.execute(f"PRAGMA user_version = {number}")
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
        values = [entry.run[c] for c in RUN_COLUMNS]
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
                "SELECT id FROM runs WHERE branch = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
                (entry.run["branch"], keep),
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


def record_run(path: Path, entry: RunEntry, keep: int) -> Recorded:
    """Append one run; HistoryUnusable when the store cannot take it."""
    check_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def append() -> Recorded:
        with closing(connect(path, write=True)) as connection:
            _migrate(connection, path)
            run_id, pruned, stored = _append(connection, entry, keep)
        return Recorded(run_id, stored, pruned, path.stat().st_size)

    return retried(path, "written", append)
