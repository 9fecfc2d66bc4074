"""The history in PostgreSQL beside SQLite: appending a run of 2,000 tests, reading the window,
8 writers of 50 runs each at once, and the store's size after 1,000 runs.

    .venv/bin/python benchmarks/history_pg.py [--tests 2000 --runs 1000]

A real PostgreSQL server is started for it (initdb and pg_ctl on a temporary directory, a Unix
socket: `tests/pg_server.py`). Both stores are filled by the store's own code with the same
seeded runs (`benchmarks/history.py`'s generator); an append and a read are timed on the
client's clock (wall time: the server's work is in its own process), medians; the two stores
are measured in turn, on an otherwise idle machine. Writes the "history-postgresql" section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from history import entry  # noqa: E402
from pg_server import database, server  # noqa: E402
from results_file import write_section  # noqa: E402

from test_gate.publish.history import record_run  # noqa: E402
from test_gate.read.history import Lane, load_history  # noqa: E402

LANE = Lane("main", None, "py3.11-linux", "")


def _ids(tests: int) -> list[str]:
    return [f"tests/test_f{i // 100:04}.py::test_it[{i % 100}]" for i in range(tests)]


def fill(source: Path | str, tests: int, runs: int) -> list[float]:
    """`runs` appends of seeded runs; the wall seconds of each."""
    ids, draw, spent = _ids(tests), random.Random(7), []
    for n in range(runs):
        made = entry(ids, n, draw)
        made.run["lane"] = LANE.lane
        started = time.perf_counter()
        record_run(source, made, 200)
        spent.append(time.perf_counter() - started)
    return spent


def read_times(source: Path | str, tests: int, rounds: int) -> list[float]:
    failing = [("", i) for i in _ids(tests)[:20]]
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        load_history(source, LANE, 19, failing)
        spent.append(time.perf_counter() - started)
    return spent


def _writer(source: Path | str, writer: int, runs: int, tests: int) -> None:
    ids, draw = _ids(tests), random.Random(writer)
    for n in range(runs):
        made = entry(ids, n, draw)
        made.run.update(lane=LANE.lane, branch=f"b{writer}", run_key=f"w{writer}-{n}")
        record_run(source, made, 1000)


def concurrent(source: Path | str, writers: int, runs: int, tests: int) -> float:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_writer, args=(source, w, runs, tests)) for w in range(writers)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer failed ({process.exitcode})")
    return time.perf_counter() - started


def count_runs(source: Path | str) -> int:
    if isinstance(source, Path):
        import sqlite3

        with sqlite3.connect(source) as db:
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    import psycopg

    with psycopg.connect(source, options="-c search_path=test_gate") as db:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])  # type: ignore[index]


def vacuum(source: Path | str, *, full: bool = False) -> None:
    """What autovacuum does in a database that lives on (ANALYZE: the planner's statistics of
    tables just filled), or with `full`, the dead rows' space given back."""
    if isinstance(source, Path):
        return
    import psycopg

    with psycopg.connect(source, autocommit=True) as db:
        db.execute("VACUUM (FULL, ANALYZE)" if full else "VACUUM ANALYZE")


def size(source: Path | str) -> int:
    if isinstance(source, Path):
        return source.stat().st_size
    import psycopg

    with psycopg.connect(source) as db:
        found = db.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'test_gate' AND c.relkind = 'r'"
        ).fetchone()
        return int(found[0]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--each", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="tg-pg-bench-") as name, server() as pg:
        tmp = Path(name)
        stores: dict[str, tuple[Path | str, Path | str]] = {
            "SQLite": (tmp / "history.db", tmp / "concurrent.db"),
            "PostgreSQL": (database(pg, "bench"), database(pg, "bench_concurrent")),
        }
        for kind, (store, shared) in stores.items():
            appends = fill(store, args.tests, args.runs)
            cold = read_times(store, args.tests, 20)
            vacuum(store)
            reads = read_times(store, args.tests, 20)
            seconds = concurrent(shared, args.writers, args.each, args.tests)
            filled = size(store)
            vacuum(store, full=True)
            rows[kind] = (
                statistics.median(appends[-200:]),
                statistics.median(cold),
                statistics.median(reads),
                seconds,
                count_runs(shared),
                filled,
                size(store),
            )
    expected = args.writers * args.each
    lines = [
        "## The history in PostgreSQL beside SQLite",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/history_pg.py --tests {args.tests} --runs "
        f"{args.runs}`. A real PostgreSQL server on this machine (a Unix socket), the same "
        f"seeded runs of {args.tests:,} tests in both stores, written by the store's own code; "
        "wall time on the client (the server works in its own process), medians. Goal: an "
        "append at most 50 ms in PostgreSQL.",
        "",
        f"| store | append a run of {args.tests:,} tests | read the window (19 runs, 20 "
        f"failing tests' past): just filled | after ANALYZE | {args.writers} writers x "
        f"{args.each} runs at once | runs found after them | size after {args.runs:,} runs "
        "(200 kept) | live, after VACUUM FULL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {kind} | {append * 1000:.1f} ms | {cold * 1000:.1f} ms | {read * 1000:.1f} ms "
            f"| {seconds:.1f} s | {found} of {expected} | {filled / 2**20:.1f} MiB | "
            f"{live / 2**20:.1f} MiB |"
            for kind, (append, cold, read, seconds, found, filled, live) in rows.items()
        ),
        "",
        "PostgreSQL keeps a deleted row's space until VACUUM: the store as filled holds the "
        f"{max(args.runs - 200, 0):,} pruned runs' rows too, until autovacuum makes their "
        "space reusable (VACUUM FULL "
        "gives it back; the live size is the other column). A table just filled has no "
        "statistics for the planner until autovacuum's ANALYZE: the read is measured both "
        "ways. SQLite gives pruned pages back at once (incremental vacuum), and needs no "
        "statistics.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "history-postgresql", text)


if __name__ == "__main__":
    main()
