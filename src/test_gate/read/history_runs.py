"""A store's runs whole, row for row, so that another store can take the ones it lacks: how
two copies of one history (two jobs that restored the same cache entry) become one.

A run is the same run in both copies when it has the same workflow run and attempt, time,
repository, branch, lane, cell and kind. Every value read is given the type its column
should have: the copy comes from a cache that the tests' own code could have written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from test_gate.read.history import CHUNK, Queryable, reading
from test_gate.read.store import RUN_COLUMNS, SCHEMA_2
from test_gate.read.values import integer, number, text

TestRow = tuple[str, str, str, int, int, "str | None"]  # cell, id, outcome, attempts, ms, category

TEXTS = frozenset(
    {"run_key", "time", "commit_sha", "branch", "lane", "cell", "kind", "verdict"}
    | {"repository", "workflow", "base"}
)
REALS = frozenset({"pass_rate", "wall_time"})
IDENTITY = ("run_key", "time", "repository", "branch", "lane", "cell", "kind")

RunKey = tuple[str, ...]


@dataclass(frozen=True)
class RunEntry:
    """One gated run as the store keeps it; `tests`: (cell, id, outcome, attempts,
    duration in ms, category) per test."""

    run: dict[str, object]
    tests: Sequence[TestRow]


def _value(column: str, value: Any) -> object:
    if column in TEXTS:
        return text(value)
    if column == "seed":
        return None if value is None else text(value)
    if column in REALS:
        return number(value) if isinstance(value, (int, float)) else None
    return integer(value) or 0


def _columns(version: int) -> tuple[str, ...]:
    return RUN_COLUMNS if version >= 2 else tuple(c for c in RUN_COLUMNS if c not in SCHEMA_2)


def _keyed_ids(connection: Queryable, version: int) -> dict[RunKey, int]:
    columns = _columns(version)
    found: dict[RunKey, int] = {}
    for row in connection.execute(f"SELECT id, {', '.join(columns)} FROM runs ORDER BY id"):
        run = {c: _value(c, v) for c, v in zip(columns, row[1:], strict=True)}
        found[tuple(str(run.get(c, SCHEMA_2.get(c))) for c in IDENTITY)] = integer(row[0]) or 0
    return found


def run_keys(source: Path) -> frozenset[RunKey]:
    """The runs a store holds, by identity; none when there is no store."""
    found = reading(source, lambda connection, version: _keyed_ids(connection, version))
    return frozenset(found or ())


def _tests(connection: Queryable, run: int) -> list[TestRow]:
    rows = connection.execute(
        "SELECT t.cell, t.nodeid, r.outcome, r.attempts, r.duration_ms, r.category "
        "FROM results r JOIN tests t ON t.id = r.test WHERE r.run = ?",
        (run,),
    )
    return [
        (
            text(cell),
            text(nodeid),
            text(outcome),
            integer(attempts) or 0,
            integer(ms) or 0,
            None if category is None else text(category),
        )
        for cell, nodeid, outcome, attempts, ms, category in rows
    ]


def runs_missing(source: Path, known: frozenset[RunKey], limit: int) -> tuple[list[RunEntry], int]:
    """The runs of `source` that are not in `known`, oldest first, with their tests: the
    newest `limit` of them, and how many older ones were left out (a copy that claims more
    runs than any history keeps is not read whole)."""

    def read(connection: Queryable, version: int) -> tuple[list[RunEntry], int]:
        ids = _keyed_ids(connection, version)
        every = [run_id for key, run_id in ids.items() if key not in known]
        wanted = every[-limit:] if limit else []
        columns = _columns(version)
        out = []
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = connection.execute(
                f"SELECT id, {', '.join(columns)} FROM runs "
                f"WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
            for row in rows.fetchall():
                values = {c: _value(c, v) for c, v in zip(columns, row[1:], strict=True)}
                run = {**SCHEMA_2, **values}
                out.append(RunEntry(run, _tests(connection, integer(row[0]) or 0)))
        return out, len(every) - len(wanted)

    return reading(source, read) or ([], 0)
