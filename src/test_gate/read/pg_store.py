"""The history in PostgreSQL: one database an organisation shares, many repositories,
workflows and jobs writing to it at once.

The same schema as the SQLite store (its migrations in PostgreSQL's words), in a schema of
its own, `test_gate`, so that it can live beside an application's tables. A URL's password
never reaches a message. Every statement runs under a time limit; a database that is down,
refuses the login, or holds a newer schema is a `HistoryUnusable` with a one-line reason, the
same contract as the SQLite file. psycopg 3 is imported only when a URL is given: the
`postgresql` extra (`pip install 'test-gate[postgresql]'`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from test_gate.read.store import MIGRATIONS as SQLITE_MIGRATIONS
from test_gate.read.store import (
    RUN_COLUMNS,
    SCHEMA,
    SCHEMA_2,
    TOOL,
    HistoryUnusable,
    StoreDamaged,
    apply_migrations,
    error_line,
)
from test_gate.read.url import redacted
from test_gate.run.cancel import Cancelled, requested

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
NAMESPACE = "test_gate"
STATEMENT_MS = 20_000  # one statement's work, at most
LOCK_MS = 30_000  # waiting for another writer's lock, at most
CONNECT_SECONDS = 10
LOCK_KEY = 7_305_160_313  # the advisory lock that makes the schema once, whoever comes first

# SQLite's words for a column or a table, and PostgreSQL's: ids are 64-bit sequences there
_DIALECT = (
    ("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"),
    ("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY"),
    ("INTEGER NOT NULL REFERENCES", "BIGINT NOT NULL REFERENCES"),
    (" REAL", " DOUBLE PRECISION"),
    (") WITHOUT ROWID", ")"),
)


def in_postgresql(migration: str) -> str:
    """A migration of the SQLite store (read/store.py) in PostgreSQL's words: one schema,
    written once."""
    for sqlite, postgresql in _DIALECT:
        migration = migration.replace(sqlite, postgresql)
    return migration


# Migration N takes the store from schema N-1 to N, as in SQLite; PostgreSQL also indexes the
# results by test, for the cascade and the names' pruning
MIGRATIONS: tuple[str, ...] = (
    in_postgresql(SQLITE_MIGRATIONS[0]).rstrip().rstrip(";")
    + ";\n    CREATE INDEX results_by_test ON results (test)",
    *(in_postgresql(m) for m in SQLITE_MIGRATIONS[1:]),
)
assert len(MIGRATIONS) == SCHEMA


class PgConnection:
    """A psycopg connection that takes the reads' SQL as written for SQLite (`?` marks), and
    looks for a cancelled job before each statement."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        name = requested()
        if name is not None:
            raise Cancelled(name)
        return self.connection.execute(sql.replace("?", "%s"), tuple(parameters))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise HistoryUnusable(
            "needs psycopg to use a PostgreSQL history: pip install 'test-gate[postgresql]'"
        ) from None
    return psycopg


@contextmanager
def pg_errors(url: str, doing: str) -> Iterator[None]:
    """Every failure of the database as one line that names it, its password left out."""
    name = redacted(url)
    try:
        psycopg = _psycopg()
    except HistoryUnusable as exc:
        raise HistoryUnusable(f"history {name}: {exc}") from None
    try:
        yield
    except (HistoryUnusable, Cancelled):
        raise
    except StoreDamaged as exc:
        raise HistoryUnusable(f"history {name}: damaged: {exc}") from None
    except psycopg.errors.QueryCanceled:
        raise HistoryUnusable(
            f"history {name}: took over {STATEMENT_MS / 1000:.0f} s while {doing}: stopped"
        ) from None
    except psycopg.errors.LockNotAvailable:
        raise HistoryUnusable(
            f"history {name}: locked by another writer for over {LOCK_MS / 1000:.0f} s while "
            f"{doing}"
        ) from None
    except psycopg.OperationalError as exc:
        raise HistoryUnusable(f"history {name}: cannot connect: {error_line(exc)}") from None
    except psycopg.Error as exc:
        raise HistoryUnusable(f"history {name}: cannot be {doing}: {error_line(exc)}") from None


def connect(url: str) -> psycopg.Connection[Any]:
    module = _psycopg()
    connection: psycopg.Connection[Any] = module.connect(
        url,
        connect_timeout=CONNECT_SECONDS,
        application_name="test-gate",
        options=(
            f"-c search_path={NAMESPACE} -c statement_timeout={STATEMENT_MS} "
            f"-c lock_timeout={LOCK_MS} -c idle_in_transaction_session_timeout=60000"
        ),
    )
    return connection


EXPECTED_COLUMNS = {
    1: {"id", *(c for c in RUN_COLUMNS if c not in SCHEMA_2)},
    2: {"id", *RUN_COLUMNS},
}


def schema_of(connection: PgConnection, name: str) -> int:
    """The store's schema version, once checked; 0 when the database holds none yet."""
    found = connection.execute("SELECT to_regclass('test_gate.meta')").fetchone()
    if found is None or found[0] is None:
        return 0
    rows = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    if rows.get("tool") != TOOL:
        raise HistoryUnusable(f"history {name}: a schema test_gate that is not test-gate's")
    try:
        version = int(rows.get("schema", ""))
    except ValueError:
        raise HistoryUnusable(f"history {name}: damaged: no schema version in its meta") from None
    if version > SCHEMA:
        raise HistoryUnusable(
            f"history {name}: schema {version} is newer than this test-gate's {SCHEMA}; "
            "upgrade test-gate to use it"
        )
    if version < 1:
        raise HistoryUnusable(f"history {name}: damaged: schema version {version}")
    columns = {
        r[0]
        for r in connection.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'test_gate' AND table_name = 'runs'"
        )
    }
    if columns != EXPECTED_COLUMNS[version]:
        raise HistoryUnusable(
            f"history {name}: its table runs is not the one test-gate made (schema {version})"
        )
    return version


def reading(url: str, action: Callable[[PgConnection, int], T]) -> T | None:
    """`action` in one read-only snapshot, with the schema version; None before the first
    run is recorded."""
    with pg_errors(url, "read"), connect(url) as raw:
        raw.read_only = True
        raw.isolation_level = _psycopg().IsolationLevel.REPEATABLE_READ
        with raw.transaction():
            connection = PgConnection(raw)
            version = schema_of(connection, redacted(url))
            return None if version == 0 else action(connection, version)


def migrate(connection: PgConnection, name: str) -> None:
    """Bring the store to SCHEMA, once, whoever comes first: an advisory lock orders the
    jobs that find no store (or an older one) at the same moment."""
    if schema_of(connection, name) == SCHEMA:
        return  # the usual case: nothing to wait for
    connection.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {NAMESPACE}")
    apply_migrations(
        connection.execute,
        MIGRATIONS,
        schema_of(connection, name),
        lambda number: connection.execute(
            "INSERT INTO meta VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE "
            "SET value = EXCLUDED.value",
            (str(number),),
        ),
    )
