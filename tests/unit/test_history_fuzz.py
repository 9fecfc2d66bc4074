"""Mutations of a real history store: its schema, its content, its pragmas, its bytes. Reading
and appending either work or end in the one-line "history unusable" notice, never another
exception and never past the deadline; a store that could not be used is left as it was."""

from __future__ import annotations

import sqlite3
import time
from contextlib import suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stored_run import stored_run

from test_gate.publish import history as store
from test_gate.read import store as checked
from test_gate.read.history import Lane, load_history
from test_gate.read.history_runs import RunEntry

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
STATEMENTS = [
    "PRAGMA user_version = -1",
    "PRAGMA user_version = 0",
    "PRAGMA user_version = 2",
    "PRAGMA user_version = 2147483647",
    "PRAGMA journal_mode = WAL",
    "PRAGMA application_id = 7",
    "DROP INDEX runs_by_lane",
    "ALTER TABLE runs ADD COLUMN extra TEXT",
    "ALTER TABLE tests RENAME TO tests_old",
    "CREATE TABLE extra (x)",
    "CREATE INDEX results_by_test ON results (test)",
    f"CREATE VIEW endless AS {ENDLESS} SELECT x FROM c",
    "CREATE TRIGGER t AFTER INSERT ON runs BEGIN "
    f"SELECT count(*) FROM ({ENDLESS} SELECT x FROM c); END",
    "CREATE TRIGGER t BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'no'); END",
    "DROP TABLE meta",
    "DELETE FROM meta",
    "UPDATE meta SET value = 'other-tool'",
    "DELETE FROM tests",
    "DELETE FROM runs",
    "UPDATE results SET outcome = x'ff00', category = 7",
    "UPDATE runs SET branch = NULL, lane = x'c3', pass_rate = 'x', id = -id",
    "UPDATE tests SET nodeid = CAST(x'ff' AS TEXT), cell = 1",
    "UPDATE results SET attempts = 9223372036854775807, duration_ms = -1",
    "INSERT INTO results VALUES (999, 999, 'failed', 1, 1, NULL)",
    "INSERT INTO runs (id, run_key, time, commit_sha, branch, lane, cell, kind, verdict, blind, "
    "passed, failed, error, skipped, xfailed, xpassed, interrupted, flaky, reruns, collected) "
    "VALUES (9223372036854775807, 'k', 't', 'c', 'main', 'lane', '', 'gate', 'pass', 0, 0, 0, "
    "0, 0, 0, 0, 0, 0, 0, 0)",
]
CASES = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LANE = Lane("main", "base", "lane")


def entry(n: int, outcome: str) -> RunEntry:
    run = stored_run(
        run_key=f"r{n}", commit_sha=f"{n:040x}", branch="main" if n % 2 else "base",
        lane="lane", cell="", seed="7", pass_rate=50.0, passed=1, failed=1, flaky=1, reruns=1,
        collected=2,
    )  # fmt: skip
    tests = [("", "t.py::a", outcome, 2, 3, "flaky"), ("", "t.py::b", "failed", 1, 3, None)]
    return RunEntry(run, tests)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "history.db"
    for n in range(4):
        store.record_run(path, entry(n, "passed" if n % 3 else "failed"), 200)
    return path


def _mutated(path: Path, template: bytes, data: st.DataObject) -> None:
    path.write_bytes(template)
    how = data.draw(st.sampled_from(["sql", "bytes", "truncate"]))
    if how == "sql":
        statements = data.draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=3))
        db = sqlite3.connect(path, isolation_level=None)
        # a statement that fires the endless trigger stops here too: it is interrupted (an
        # sqlite3.Error, so the next statement still runs)
        stop = time.monotonic() + 1.0
        db.set_progress_handler(lambda: int(time.monotonic() > stop), 10_000)
        try:
            for statement in statements:
                with suppress(sqlite3.Error):  # a statement refused: the next one still runs
                    db.execute(statement)
        finally:
            db.close()
    elif how == "bytes":
        raw = bytearray(template)
        for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
            at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
            raw[at] ^= data.draw(st.integers(min_value=1, max_value=255))
        path.write_bytes(bytes(raw))
    else:
        path.write_bytes(template[: data.draw(st.integers(min_value=0, max_value=len(template)))])


@CASES
@given(data=st.data())
def test_a_mutated_store_is_used_or_refused_and_then_left_alone(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    monkeypatch.setattr(checked, "WORK_SECONDS", 2.0)
    monkeypatch.setattr(checked, "BUSY_SECONDS", 0.2)
    path = tmp_path / "history.db"
    for stale in tmp_path.glob("history.db*"):
        stale.unlink()
    _mutated(path, template.read_bytes(), data)
    before = path.read_bytes()
    try:
        load_history(path, LANE, 20, [("", "t.py::a"), ("", "t.py::b")])
    except checked.HistoryUnusable as exc:
        assert "\n" not in str(exc)
        assert path.read_bytes() == before
    before = path.read_bytes()
    try:
        store.record_run(path, entry(9, "failed"), 2)
    except checked.HistoryUnusable as exc:
        assert "\n" not in str(exc)
        assert path.read_bytes() == before
