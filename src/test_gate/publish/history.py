"""Writing the history store: the schema and its migrations, and one gated run appended in one
transaction, then the store kept bounded.

Parallel jobs may write one file at once: a write takes the database's write lock first
(BEGIN IMMEDIATE), waits for another writer up to BUSY_SECONDS, and is tried again on a busy
database; SQLite's journal keeps the file whole if a writer dies halfway.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from test_gate.read.history import (
    SCHEMA,
    TOOL,
    HistoryUnusable,
    check_file,
    connect,
    schema_of,
    sqlite_errors,
)
from test_gate.render.history import RunEntry

# Migration N takes a store from schema N-1 to N; a new store runs them all, in order.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_key TEXT NOT NULL,
        time TEXT NOT NULL,
        commit_sha TEXT NOT NULL,
        branch TEXT NOT NULL,
        lane TEXT NOT NULL,
        cell TEXT NOT NULL,
        kind TEXT NOT NULL,
        seed TEXT,
        verdict TEXT NOT NULL,
        blind INTEGER NOT NULL,
        pass_rate REAL,
        passed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        error INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        xfailed INTEGER NOT NULL,
        xpassed INTEGER NOT NULL,
        interrupted INTEGER NOT NULL,
        flaky INTEGER NOT NULL,
        reruns INTEGER NOT NULL,
        collected INTEGER NOT NULL,
        wall_time REAL
    );
    CREATE INDEX runs_by_lane ON runs (branch, lane, id);
    CREATE TABLE tests (
        id INTEGER PRIMARY KEY,
        nodeid TEXT NOT NULL,
        cell TEXT NOT NULL,
        UNIQUE (nodeid, cell)
    );
    CREATE TABLE results (
        run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        test INTEGER NOT NULL REFERENCES tests (id),
        outcome TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        category TEXT,
        PRIMARY KEY (run, test)
    ) WITHOUT ROWID;
    """,
)
assert len(MIGRATIONS) == SCHEMA

ATTEMPTS = 5  # a busy database is tried this many times, each waiting BUSY_SECONDS
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


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the store to SCHEMA, under the write lock: two jobs that find no store at once
    make it once."""
    # takes effect when a new store's first table is made (not inside a transaction); a
    # no-op on a store that has tables
    connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_of(connection, path)
        for number in range(version + 1, SCHEMA + 1):
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    connection.execute(statement)
            if number == 1:
                connection.execute("INSERT INTO meta VALUES ('tool', ?)", (TOOL,))
            connection.execute(f"PRAGMA user_version = {number}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _append(connection: sqlite3.Connection, entry: RunEntry, keep: int) -> tuple[int, int]:
    """The run, its tests, and the branch's oldest runs beyond `keep` dropped: one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        values = [entry.run[c] for c in RUN_COLUMNS]
        cursor = connection.execute(
            f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
            values,
        )
        run_id = int(cursor.lastrowid or 0)
        connection.executemany(
            "INSERT OR IGNORE INTO tests (nodeid, cell) VALUES (?, ?)",
            ((t[1], t[0]) for t in entry.tests),
        )
        ids = dict(
            ((cell, nodeid), test_id)
            for test_id, nodeid, cell in connection.execute("SELECT id, nodeid, cell FROM tests")
        )
        connection.executemany(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
            ((run_id, ids[(t[0], t[1])], *t[2:]) for t in entry.tests),
        )
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
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return run_id, len(old)


def record_run(path: Path, entry: RunEntry, keep: int) -> Recorded:
    """Append one run; HistoryUnusable when the store cannot take it."""
    check_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with sqlite_errors(path, "written"), closing(connect(path)) as connection:
                _migrate(connection, path)
                run_id, pruned = _append(connection, entry, keep)
                if pruned:  # give the freed pages back to the file system
                    connection.execute("PRAGMA incremental_vacuum")
                stored = int(connection.execute("SELECT count(*) FROM runs").fetchone()[0])
            return Recorded(run_id, stored, pruned, path.stat().st_size)
        except HistoryUnusable as exc:
            if "locked" not in str(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")
