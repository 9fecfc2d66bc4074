"""The history store's file, checked before it is trusted. A history is data a workflow
restores from a cache that the tests' own code could have written, so it is opened as a
stranger's file:

- a regular file, never through a symbolic link, within a size bound, that starts as SQLite;
- read-only for reading; `trusted_schema` off, and defensive mode where Python offers it;
- the schema exactly the one this test-gate's migrations make (tables, indexes, columns), with
  no view or trigger of anyone else's and `user_version` in range;
- every call under a progress handler that ends it at a deadline, or when the job is
  cancelled (SQLite runs a statement inside C, where Python's signal handlers wait).

Whatever goes wrong is a `HistoryUnusable` with a one-line reason.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

from test_gate.run.cancel import Cancelled, requested

SCHEMA = 2  # PRAGMA user_version of the store this test-gate writes
TOOL = "test-gate"
BUSY_SECONDS = 30.0  # how long a reader or writer waits for another job's write
LOCK_STEP = 1.0  # SQLite's own wait for a lock, between two tries (a cancel is seen between)
WORK_SECONDS = 20.0  # what one read or append may take inside SQLite, beyond that wait
STORE_LIMIT = 4 * 1024**3  # bytes: 200 runs of 10,000 tests, renamed every run, are ~0.3 GiB
PROGRESS_STEPS = 10_000  # SQLite instructions between two looks at the clock
_MAGIC = b"SQLite format 3\x00"

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
    # 2: one store for many repositories and workflows; a pull request's run says so, with
    # its base branch (its flaky tests count toward the base's flaky rate)
    """
    ALTER TABLE runs ADD COLUMN repository TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN workflow TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN base TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN pull_request INTEGER NOT NULL DEFAULT 0;
    DROP INDEX runs_by_lane;
    CREATE INDEX runs_by_lane ON runs (repository, branch, lane, id);
    CREATE INDEX runs_by_base ON runs (repository, base, lane, id);
    """,
)
assert len(MIGRATIONS) == SCHEMA

# a run's columns as a gated run gives them (the store adds its id), in the order written
RUN_COLUMNS = (
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
    "repository",
    "workflow",
    "base",
    "pull_request",
)
# the columns schema 1 lacks, and what a run recorded then holds in them
SCHEMA_2: dict[str, object] = {"repository": "", "workflow": "", "base": "", "pull_request": 0}

SchemaRow = tuple[str, str, str, "str | None"]  # type, name, table, SQL of sqlite_master


class HistoryUnusable(Exception):
    """The history cannot be read or written; the message says why, in one line."""


class StoreLocked(HistoryUnusable):
    """Another job holds the store's lock: worth another try, until BUSY_SECONDS."""


class StoreDamaged(Exception):
    """The store holds something no store this test-gate wrote could; the message says what."""


def statements(migration: str) -> list[str]:
    return [s for s in migration.split(";") if s.strip()]


def apply_migrations(
    execute: Callable[..., object],
    migrations: Sequence[str],
    version: int,
    mark: Callable[[int], object],
) -> None:
    """Every migration after `version`, in order, as both stores take them: its statements,
    the tool's name with the first, then `mark(number)` records the schema the store is at
    (SQLite's user_version, PostgreSQL's meta row)."""
    for number in range(version + 1, SCHEMA + 1):
        for statement in statements(migrations[number - 1]):
            execute(statement)
        if number == 1:
            execute("INSERT INTO meta VALUES ('tool', ?)", (TOOL,))
        mark(number)


def check_file(path: Path) -> bool:
    """True when there is a store to read; False when there is none yet (or an empty file)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HistoryUnusable(f"history {path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise HistoryUnusable(
            f"history {path}: a symbolic link; test-gate reads and writes a history only as a "
            "regular file, never through a link"
        )
    if not stat.S_ISREG(info.st_mode):
        raise HistoryUnusable(f"history {path}: not a regular file")
    if info.st_size > STORE_LIMIT:
        raise HistoryUnusable(
            f"history {path}: {info.st_size:,} bytes, over the {STORE_LIMIT:,} bytes test-gate "
            "reads (lower --keep-runs)"
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_MAGIC))
    except OSError as exc:
        raise HistoryUnusable(f"history {path}: cannot be read ({exc.strerror})") from None
    if head and head != _MAGIC:
        raise HistoryUnusable(f"history {path}: not an SQLite database (its first bytes differ)")
    return bool(head)


def _text(data: bytes) -> str:
    """A stored text, whatever its bytes: a damaged name is still read, as text."""
    return data.decode("utf-8", "replace")


_CONFIG = (  # no writes to the schema by SQL, no triggers or views run
    ("SQLITE_DBCONFIG_DEFENSIVE", True),
    ("SQLITE_DBCONFIG_ENABLE_TRIGGER", False),
    ("SQLITE_DBCONFIG_ENABLE_VIEW", False),
)


def connect(
    path: Path, *, write: bool = False, seconds: float = WORK_SECONDS
) -> sqlite3.Connection:
    """The store, read-only unless `write`, with every statement under a deadline: the wait
    for another writer, then `seconds` of work."""
    mode = "rwc" if write else "ro"
    connection = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode={mode}",
        uri=True,
        timeout=LOCK_STEP,
        isolation_level=None,
    )
    deadline = time.monotonic() + LOCK_STEP + seconds
    connection.set_progress_handler(
        lambda: time.monotonic() > deadline or requested() is not None, PROGRESS_STEPS
    )
    connection.text_factory = _text
    setconfig = getattr(connection, "setconfig", None)  # Python 3.12+
    if setconfig is not None:
        for name, on in _CONFIG:
            setconfig(getattr(sqlite3, name), on)
    connection.execute("PRAGMA trusted_schema = OFF")
    return connection


@functools.cache
def expected_schema(version: int) -> frozenset[SchemaRow]:
    """What sqlite_master holds in a store of schema `version` that this test-gate made: the
    same migrations, run on an empty database in memory."""
    with closing(sqlite3.connect(":memory:")) as memory:
        for migration in MIGRATIONS[:version]:
            for statement in statements(migration):
                memory.execute(statement)
        return frozenset(memory.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def _difference(found: frozenset[SchemaRow], expected: frozenset[SchemaRow]) -> str:
    """The first way the store's schema differs from the expected one, in a few words."""
    names = {(kind, name) for kind, name, _, _ in expected}
    for kind, name, _, _ in sorted(found - expected, key=lambda r: (r[0], r[1])):
        if (kind, name) in names:
            return f"its {kind} {name!r} is not the one test-gate made"
        return f"it has a {kind} {name!r} test-gate did not make"
    kind, name, _, _ = sorted(expected - found, key=lambda r: (r[0], r[1]))[0]
    return f"its {kind} {name!r} is missing"


def schema_of(connection: sqlite3.Connection, path: Path) -> int:
    """The store's schema version, once its schema is checked; 0 for an empty database.
    Another tool's database, a newer schema than this test-gate knows, or a schema that is
    not exactly the one this test-gate's migrations make cannot be used."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    found = frozenset(
        (r[0], r[1], r[2], r[3])
        for r in connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    )
    if version == 0 and not found:
        return 0
    if ("table", "meta") not in {(r[0], r[1]) for r in found}:
        raise HistoryUnusable(f"history {path}: an SQLite database, but not a test-gate history")
    tool = connection.execute("SELECT value FROM meta WHERE key = 'tool'").fetchone()
    if tool is None or tool[0] != TOOL:
        raise HistoryUnusable(f"history {path}: an SQLite database, but not a test-gate history")
    if version > SCHEMA:
        raise HistoryUnusable(
            f"history {path}: schema {version} is newer than this test-gate's {SCHEMA}; "
            "upgrade test-gate to use it"
        )
    if version < 1:
        raise HistoryUnusable(
            f"history {path}: damaged: it holds tables, but its schema version (PRAGMA "
            f"user_version) is {version}, not one test-gate writes (1 to {SCHEMA})"
        )
    expected = expected_schema(version)
    if found != expected:
        raise HistoryUnusable(
            f"history {path}: its schema is not the one test-gate wrote: "
            f"{_difference(found, expected)}"
        )
    return version


def error_line(exc: BaseException) -> str:
    """An error as one line of at most 200 characters, for a notice."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


@contextmanager
def sqlite_errors(path: Path, doing: str) -> Iterator[None]:
    """Every failure of the store as one line that names the file: SQLite's errors, the
    deadline, and any other exception on the way (a damaged file can make SQLite's own
    message undecodable, or a row the code expects go missing)."""
    try:
        yield
    except HistoryUnusable:
        raise
    except StoreDamaged as exc:
        raise HistoryUnusable(f"history {path}: damaged: {exc}") from None
    except sqlite3.OperationalError as exc:
        text = error_line(exc)
        if text == "interrupted":
            name = requested()
            if name is not None:
                raise Cancelled(name) from None
            raise HistoryUnusable(
                f"history {path}: took over {WORK_SECONDS:.0f} s of work while {doing}: stopped"
            ) from None
        if "locked" in text or "busy" in text:
            raise StoreLocked(
                f"history {path}: locked by another writer for over {BUSY_SECONDS:.0f} s "
                f"while {doing}"
            ) from None
        raise HistoryUnusable(f"history {path}: cannot be {doing}: {text}") from None
    except sqlite3.DatabaseError as exc:
        raise HistoryUnusable(
            f"history {path}: damaged or not SQLite ({error_line(exc)})"
        ) from None
    except Exception as exc:
        raise HistoryUnusable(
            f"history {path}: cannot be {doing}: {type(exc).__name__}: {error_line(exc)}"
        ) from None


T = TypeVar("T")


def retried(path: Path, doing: str, action: Callable[[], T]) -> T:
    """`action` inside `sqlite_errors`, tried again while another job holds the lock, up to
    BUSY_SECONDS: SQLite waits for a lock inside C, where a cancel is not seen, so it waits a
    second at a time and Python waits between."""
    give_up = time.monotonic() + BUSY_SECONDS
    pause = 0.05
    while True:
        try:
            with sqlite_errors(path, doing):
                return action()
        except StoreLocked:
            if time.monotonic() >= give_up:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
