"""A history store is data a workflow restores from a cache the tests' own code could have
written. Each store here is one the gate must refuse, on a real `test-gate gate`: a notice,
the verdict on the run's own data, a result file and a summary, the file left as it was, and
no traceback. Every run is bounded by a subprocess timeout, so a hang fails the test instead
of the suite."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env
from stored_run import stored_run

from test_gate.publish import history as store
from test_gate.read.history_runs import RunEntry
from test_gate.render.escape import md

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"


def _entry(n: int) -> RunEntry:
    run = stored_run(
        run_key=f"r{n}", commit_sha=f"{n:040x}", lane="py3.11-linux", cell="py3.11-linux",
        collected=1,
    )  # fmt: skip
    return RunEntry(run, [("", "t.py::a", "passed", 1, 3, None)])


def _made(path: Path, *statements: str) -> None:
    """A store of test-gate's, then changed by plain SQL, as anybody could."""
    store.record_run(path, _entry(1), 200)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
    finally:
        db.close()


def _renamed_schema(path: Path, name: str, sql: bytes) -> None:
    """The stored CREATE statement of `name` replaced by other bytes (writable_schema)."""
    _made(path, "PRAGMA writable_schema = ON")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = CAST(? AS TEXT) WHERE name = ?", (sql, name))
    db.close()


CASES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "user_version negative": (
        lambda p: _made(p, "PRAGMA user_version = -1"),
        "its schema version (PRAGMA user_version) is -1",
    ),
    "user_version 0 with tables": (
        lambda p: _made(p, "PRAGMA user_version = 0"),
        "its schema version (PRAGMA user_version) is 0",
    ),
    "runs is an endless view": (
        lambda p: _made(
            p,
            "DROP TABLE runs",
            f"CREATE VIEW runs AS {ENDLESS} SELECT x AS id, 'main' AS branch, "
            "'py3.11-linux' AS lane FROM c",
        ),
        "it has a view 'runs' test-gate did not make",
    ),
    "an endless trigger on append": (
        lambda p: _made(
            p,
            "CREATE TRIGGER slow AFTER INSERT ON results BEGIN "
            f"SELECT count(*) FROM ({ENDLESS} SELECT x FROM c); END",
        ),
        "it has a trigger 'slow' test-gate did not make",
    ),
    "an aborting trigger": (
        lambda p: _made(
            p,
            "CREATE TRIGGER no BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'no'); END",
        ),
        "it has a trigger 'no' test-gate did not make",
    ),
    "tests unique without case": (
        lambda p: _made(
            p,
            "CREATE TABLE t2 (id INTEGER PRIMARY KEY, nodeid TEXT NOT NULL COLLATE NOCASE, "
            "cell TEXT NOT NULL, UNIQUE (nodeid, cell))",
            "INSERT INTO t2 SELECT * FROM tests",
            "DROP TABLE tests",
            "ALTER TABLE t2 RENAME TO tests",
        ),
        "its table 'tests' is not the one test-gate made",
    ),
    "an extra column": (
        lambda p: _made(p, "ALTER TABLE runs ADD COLUMN extra TEXT"),
        "its table 'runs' is not the one test-gate made",
    ),
    "an index dropped": (
        lambda p: _made(p, "DROP INDEX runs_by_lane"),
        "its index 'runs_by_lane' is missing",
    ),
    "a schema of undecodable bytes": (
        lambda p: _renamed_schema(p, "runs", b"CREATE TABLE runs (\xff)"),
        "damaged or not SQLite (malformed database schema",
    ),
    "a link to a missing file": (
        lambda p: p.symlink_to(p.parent / "elsewhere" / "made.db"),
        "a symbolic link",
    ),
    "a link to an empty file": (
        lambda p: (p.parent / "empty").write_bytes(b"") or p.symlink_to(p.parent / "empty"),
        "a symbolic link",
    ),
}


def _gate(report: Path, history: Path, out: Path, timeout: float = 120) -> tuple[int, str, str]:
    out.mkdir(exist_ok=True)
    proc = subprocess.run(
        [
            sys.executable, "-m", "test_gate", "gate", str(report), "--github", "false",
            "--history", str(history), "--branch", "main", "--cell", "py3.11-linux",
            "--result-file", str(out / "result.json"), "--summary-file", str(out / "summary.md"),
        ],
        env=clean_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            out[path.name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            out[path.name] = path.read_bytes()
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_store_is_a_notice_and_is_left_as_it_is(
    case: str, passing_report: Any, tmp_path: Path
) -> None:
    make, message = CASES[case]
    report = tmp_path / "report.json"
    report.write_text(json.dumps(passing_report.data))
    place = tmp_path / "store"
    place.mkdir()
    history = place / "history.db"
    make(history)
    before = _snapshot(place)
    code, stdout, stderr = _gate(report, history, tmp_path / "out")
    assert "Traceback" not in stderr, stderr
    assert code == 0, stdout + stderr  # gated on its own data: it passed
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["verdict"] == "pass"
    [notice, *_] = result["history"]["notices"]
    assert message in notice and "not recorded" in notice, notice
    assert md(message, 500) in (tmp_path / "out" / "summary.md").read_text()
    assert "test-gate PASSED" in stdout
    assert _snapshot(place) == before  # unchanged, and nothing made beside it
    assert not (place / "elsewhere").exists()


def test_a_statement_past_the_deadline_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline itself, on a store that passes every check: an endless statement ends
    as a notice (here with the deadline and the lock wait made short)."""
    from test_gate.read import store as checked

    path = tmp_path / "history.db"
    store.record_run(path, _entry(1), 200)
    monkeypatch.setattr(checked, "BUSY_SECONDS", 0.0)
    with (
        pytest.raises(checked.HistoryUnusable, match=r"took over .* s of work while read"),
        checked.sqlite_errors(path, "read"),
        checked.connect(path, seconds=0.2) as db,
    ):
        db.execute(f"{ENDLESS} SELECT count(*) FROM c").fetchone()


CANCEL = f"""
import sys, time
from pathlib import Path
from test_gate.read import store
from test_gate.run.cancel import Cancelled, cancellation
try:
    with cancellation(), store.sqlite_errors(Path(sys.argv[1]), "read"):
        db = store.connect(Path(sys.argv[1]), seconds=3600)
        print("running", flush=True)
        db.execute("{ENDLESS} SELECT count(*) FROM c").fetchone()
except Cancelled as exc:
    print("cancelled", exc.name, flush=True)
"""


def test_a_cancelled_job_stops_a_statement_inside_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store.record_run(path, _entry(1), 200)
    proc = subprocess.Popen(
        [sys.executable, "-c", CANCEL, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "running"
    time.sleep(0.3)  # inside SQLite's C code by now
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert out.strip() == "cancelled SIGTERM"


HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("holding", flush=True)
time.sleep(600)
"""


def test_a_job_cancelled_while_it_waits_for_the_store_ends_with_a_verdict(
    passing_report: Any, tmp_path: Path
) -> None:
    """Another job holds the store's lock; the job is cancelled while it waits: it stops
    waiting, and still writes a verdict (a fail that says why), a result and a summary."""
    report = tmp_path / "report.json"
    report.write_text(json.dumps(passing_report.data))
    history = tmp_path / "history.db"
    store.record_run(history, _entry(1), 200)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(history)], stdout=subprocess.PIPE, text=True
    )
    out = tmp_path / "out"
    out.mkdir()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        gate = subprocess.Popen(
            [
                sys.executable, "-m", "test_gate", "gate", str(report), "--github", "false",
                "--history", str(history), "--result-file", str(out / "result.json"),
                "--summary-file", str(out / "summary.md"),
            ],
            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2.5)  # waiting for the lock by now
        gate.send_signal(signal.SIGTERM)
        stdout, stderr = gate.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert "Traceback" not in stderr, stderr
    assert gate.returncode == 1, stdout + stderr
    result = json.loads((out / "result.json").read_text())
    assert result["verdict"] == "fail"
    assert result["reasons"][0] == "the run was cancelled (SIGTERM) while the history was read"
    assert (out / "summary.md").exists()
