"""The history store: a real SQLite file, made, appended to, bounded, read back; stores it
cannot use; and writers in several processes at once."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from conftest import history_entry as entry

from test_gate.publish import history as store
from test_gate.read import store as store_file
from test_gate.read.history import Lane, latest_lane, load_history
from test_gate.read.history_runs import RunEntry
from test_gate.read.store import HistoryUnusable
from test_gate.render import history_report

LANE = Lane("main", None, "py3.12-linux")


def test_a_new_store_is_made_with_its_schema_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "history.db"
    assert load_history(path, LANE, 20, []).new
    done = store.record_run(path, entry(n=1), keep=200)
    store.record_run(path, entry(outcomes={"t.py::a": "failed", "t.py::b": "passed"}, n=2), 200)
    assert done.run_id == 1 and done.stored_runs == 1 and done.size > 0
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == store_file.SCHEMA
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    history = load_history(path, LANE, 20, [("", "t.py::a")])
    assert [r.id for r in history.runs] == [1, 2]
    assert history.runs[1].failed == 1 and history.runs[1].tests == 2
    # a failed once: every row of it is read; b always passed: only its count
    assert [r.outcome for r in history.results[("", "t.py::a")]] == ["passed", "failed"]
    assert ("", "t.py::b") not in history.results
    assert history.ran == {("", "t.py::a"): 2, ("", "t.py::b"): 2}
    assert history.ran_here == {("", "t.py::a"): ((f"{2:040x}", "failed"), (f"{1:040x}", "passed"))}
    assert latest_lane(path) == ("main", "py3.12-linux")


def test_the_window_is_this_branch_and_lane_and_the_base_is_read_beside_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    for n in range(5):
        store.record_run(path, entry("main", n=n), 200)
    store.record_run(path, entry("feature", {"t.py::a": "failed"}, n=9), 200)
    history = load_history(path, Lane("feature", "main", "py3.12-linux"), 3, [("", "t.py::a")])
    assert [r.branch for r in history.runs] == ["feature"]
    assert [r.id for r in history.base_runs] == [3, 4, 5]  # the newest 3 of main
    assert history.last_base == {("", "t.py::a"): "passed"}
    assert history.stored_runs == 6


def test_the_store_keeps_the_last_runs_of_each_branch_and_gives_space_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    store.record_run(path, entry("other", n=0), keep=3)
    sizes = []
    for n in range(1, 12):  # 60 tests a run, renamed every run: names pile up
        names = {f"t.py::v{n}_{i}": "passed" for i in range(60)}
        done = store.record_run(path, entry("main", names, n=n), keep=3)
        sizes.append(done.size)
    assert done.pruned == 1 and done.stored_runs == 4  # 3 of main, and the other branch's one
    with sqlite3.connect(path) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM runs WHERE branch='main' ORDER BY id")]
        assert ids == [10, 11, 12]
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 2 + 3 * 60
        # names no kept run holds are dropped once they outnumber the live ones
        assert db.execute("SELECT count(*) FROM tests").fetchone()[0] <= 2 * 60 + 100
        missing = "SELECT count(*) FROM results WHERE test NOT IN (SELECT id FROM tests)"
        assert db.execute(missing).fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert max(sizes[5:]) <= max(sizes[:5]) * 1.5  # bounded: freed pages are given back


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("plain text\n"), "not an SQLite database"),
        (lambda p: p.mkdir(), "not a regular file"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE notes (x)").connection.commit(),
            "an SQLite database, but not a test-gate history",
        ),
        (
            lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200),
            "damaged or not SQLite",
        ),
    ],
)
def test_a_store_that_cannot_be_used_is_one_line_and_is_left_as_it_is(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "history.db"
    make(path)  # type: ignore[operator]
    before = path.read_bytes() if path.is_file() else None
    for act in (
        lambda: load_history(path, LANE, 20, []),
        lambda: store.record_run(path, entry(), 200),
    ):
        with pytest.raises(HistoryUnusable) as raised:
            act()
        assert message in str(raised.value) and "\n" not in str(raised.value)
    if before is not None:
        assert path.read_bytes() == before


def test_a_newer_schema_is_not_read_or_written(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store.record_run(path, entry(), 200)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {store_file.SCHEMA + 1}")
    newer = f"schema {store_file.SCHEMA + 1} is newer than this test-gate.s {store_file.SCHEMA}"
    with pytest.raises(HistoryUnusable, match=newer):
        load_history(path, LANE, 20, [])
    with pytest.raises(HistoryUnusable, match="upgrade test-gate"):
        store.record_run(path, entry(), 200)


def test_a_store_locked_too_long_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.db"
    store.record_run(path, entry(), 200)
    monkeypatch.setattr(store_file, "BUSY_SECONDS", 0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryUnusable, match="locked by another writer"):
            store.record_run(path, entry(), 200)
        with pytest.raises(HistoryUnusable, match="locked by another writer"):
            load_history(path, LANE, 20, [])
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _write_many(path: str, branch: str, runs: int) -> None:
    for n in range(runs):
        store.record_run(Path(path), entry(branch, {f"t.py::{branch}{n % 7}": "passed"}, n), 10)


def test_writers_in_several_processes_at_once_leave_a_whole_store(tmp_path: Path) -> None:
    """Four processes append at once, two of them onto a store none has made yet; every run
    lands, each branch is bounded on its own, and the file passes SQLite's own check."""
    path = tmp_path / "history.db"
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_many, args=(str(path), branch, 15))
        for branch in ("a", "b", "c", "d")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = dict(db.execute("SELECT branch, count(*) FROM runs GROUP BY branch"))
        assert counts == {"a": 10, "b": 10, "c": 10, "d": 10}
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 40
        orphans = "SELECT count(*) FROM results WHERE run NOT IN (SELECT id FROM runs)"
        assert db.execute(orphans).fetchone()[0] == 0


def test_the_last_time_a_test_ran_skips_runs_where_it_was_skipped_or_never_finished(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    for n, outcome in enumerate(["failed", "passed", "skipped", "interrupted"]):
        store.record_run(path, entry(outcomes={"t.py::a": outcome}, n=n), 200)
    history = load_history(path, LANE, 20, [("", "t.py::a")])
    assert history.ran_here == {("", "t.py::a"): ((f"{1:040x}", "passed"), (f"{0:040x}", "failed"))}


def test_a_store_with_values_of_the_wrong_type_reads_as_safe_defaults(tmp_path: Path) -> None:
    """A history file may come from anywhere (a restored cache): SQLite keeps whatever a
    column is given, and the reader takes each value only as the type it should be."""
    path = tmp_path / "history.db"
    store.record_run(path, entry(outcomes={"t.py::a": "failed"}, n=1), 200)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE runs SET pass_rate = 'abc', wall_time = x'ff', time = 12, commit_sha = 3.5, "
            "verdict = '<b>', passed = 'many'"
        )
        db.execute("UPDATE results SET outcome = 7")
        db.execute("UPDATE tests SET nodeid = x'c3'")
    history = load_history(path, LANE, 20, [], trend=20)
    [run] = history.runs
    assert (run.pass_rate, run.wall_time, run.time, run.commit, run.verdict, run.passed) == (
        None,
        None,
        "12",
        "3.5",
        "fail",
        0,
    )
    text = history_report.report("main", "lane", history.runs, [], [], as_json=False)
    assert "n/a" in text
    json.loads(history_report.report("main", "lane", history.runs, [], [], as_json=True))


def _schema_1_store(path: Path, made: RunEntry) -> Path:
    """A store as 0.5 wrote it (schema 1, no repositories), holding one run with no tests."""
    with sqlite3.connect(path) as db:
        for statement in store_file.statements(store_file.MIGRATIONS[0]):
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('tool', 'test-gate')")
        db.execute("PRAGMA user_version = 1")
        run = made.run
        db.execute(
            f"INSERT INTO runs ({', '.join(run)}) VALUES ({', '.join('?' * len(run))})",
            list(run.values()),
        )
    db.close()
    return path


def test_a_schema_1_store_is_migrated_in_place_and_its_runs_stay_visible(tmp_path: Path) -> None:
    """A store 0.5 wrote (schema 1, no repositories): read as it is, then migrated by the next
    write; its runs belong to any repository."""
    path = _schema_1_store(tmp_path / "history.db", entry(n=1))
    mine = Lane("main", None, "py3.12-linux", "org/app")
    assert [r.id for r in load_history(path, mine, 20, []).window] == [1]  # read at schema 1
    made = entry(n=2)
    made.run["repository"] = "org/app"
    store.record_run(path, made, 200)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == store_file.SCHEMA == 2
        assert db.execute("SELECT repository FROM runs ORDER BY id").fetchall() == [
            ("",),
            ("org/app",),
        ]
    db.close()
    assert [r.id for r in load_history(path, mine, 20, []).window] == [1, 2]
    other = Lane("main", None, "py3.12-linux", "org/other")
    assert [r.id for r in load_history(path, other, 20, []).window] == [1]  # not org/app's


def test_a_pull_requests_flaky_tests_count_toward_its_base(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store.record_run(path, entry(n=1), 200)  # main
    pr = entry(branch="feature", n=2)
    pr.run.update(base="main", pull_request=1)
    pr.tests[0] = ("", "t.py::a", "passed", 2, 12, "flaky")
    store.record_run(path, pr, 200)
    history = load_history(path, LANE, 20, [])
    assert history.pull_request_flaky == {("", "t.py::a")}
    assert (
        load_history(path, Lane("feature", "main", "py3.12-linux"), 20, []).pull_request_flaky
        == frozenset()
    )


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT r.run_key, r.branch, t.nodeid, x.outcome FROM runs r "
            "JOIN results x ON x.run = r.id JOIN tests t ON t.id = x.test ORDER BY r.id, t.nodeid"
        ).fetchall()
    db.close()
    return found


def test_two_copies_of_one_history_become_one(tmp_path: Path) -> None:
    """Two jobs restored the same store and each appended its run: either copy takes the
    other's run, with its tests, and taking it again adds nothing."""
    common = tmp_path / "common.db"
    for n in range(3):
        store.record_run(common, entry(n=n), 200)
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    one.write_bytes(common.read_bytes())
    two.write_bytes(common.read_bytes())
    store.record_run(one, entry(outcomes={"t.py::a": "failed", "t.py::c": "passed"}, n=10), 200)
    store.record_run(two, entry("feature", n=11), 200)
    merged = store.merge_stores(one, two, 200)
    assert (merged.added, merged.runs) == (1, 5)
    keys = [r[0] for r in _rows(one)]
    assert sorted(set(keys)) == ["run-0", "run-1", "run-10", "run-11", "run-2"]
    assert ("run-11", "feature", "t.py::b", "passed") in _rows(one)
    assert ("run-10", "main", "t.py::a", "failed") in _rows(one)
    assert store.merge_stores(one, two, 200).added == 0
    # the other way round: the same runs
    assert store.merge_stores(two, one, 200).added == 1
    assert sorted(set(_rows(two))) == sorted(set(_rows(one)))
    # into no store at all: a copy
    fresh = tmp_path / "fresh" / "history.db"
    assert store.merge_stores(fresh, one, 200) == store.Merged(5, 5)
    # a branch is still kept to its bound
    assert store.merge_stores(tmp_path / "bounded.db", one, 2).runs == 3  # 2 of main, 1 feature


def test_a_merge_from_a_store_it_cannot_use_changes_nothing(tmp_path: Path) -> None:
    into = tmp_path / "history.db"
    store.record_run(into, entry(n=1), 200)
    before = into.read_bytes()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(HistoryUnusable):
        store.merge_stores(into, bad, 200)
    assert into.read_bytes() == before


def test_a_schema_1_copy_merges_into_a_schema_2_store(tmp_path: Path) -> None:
    old = _schema_1_store(tmp_path / "old.db", entry(n=1))
    into = tmp_path / "history.db"
    store.record_run(into, entry(n=2), 200)
    assert store.merge_stores(into, old, 200).added == 1
    with sqlite3.connect(into) as db:
        assert db.execute("SELECT run_key, repository FROM runs ORDER BY id").fetchall() == [
            ("run-2", ""),
            ("run-1", ""),
        ]
    db.close()


def test_a_merge_takes_the_newest_runs_it_lacks_up_to_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy that claims more runs than any history keeps is not taken whole."""
    other = tmp_path / "other.db"
    for n in range(5):
        store.record_run(other, entry(n=n), 200)
    monkeypatch.setattr(store, "MAX_MERGED", 2)
    merged = store.merge_stores(tmp_path / "history.db", other, 200)
    assert merged == store.Merged(added=2, runs=2, left_out=3)
    assert sorted({r[0] for r in _rows(tmp_path / "history.db")}) == ["run-3", "run-4"]


def test_a_merge_cut_short_by_a_lock_takes_up_again_without_a_run_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.db"
    for n in range(3):
        store.record_run(other, entry(n=n), 200)
    append, calls = store._append, []

    def locked_once(*args: object) -> tuple[int, int, int]:
        calls.append(1)
        if len(calls) == 2:  # the first run is in; another writer holds the lock
            raise store_file.StoreLocked("history: locked")
        return append(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_append", locked_once)
    merged = store.merge_stores(tmp_path / "history.db", other, 200)
    assert (merged.added, merged.runs) == (3, 3)
    assert [r[0] for r in _rows(tmp_path / "history.db")].count("run-0") == 2  # its two tests
