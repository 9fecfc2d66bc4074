"""The history in a real PostgreSQL server: runs recorded and read back through the command
line, many repositories in one database, writers in several processes at once with nothing
lost, and a database that is down, refuses the run or holds a newer schema: a one-line notice
without the password, the run gated on its own data, nothing half-written."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, write_tree
from pg_server import MISSING, binaries, database, server
from stored_run import stored_run

from test_gate.publish import history as store
from test_gate.read.history import Lane, load_history
from test_gate.read.history_runs import RunEntry
from test_gate.read.store import HistoryUnusable

pytestmark = pytest.mark.skipif(binaries() is None, reason=MISSING)

SUITE = {
    "tests/test_suite.py": """
        import os

        def test_ok():
            pass

        def test_breaks():
            assert not os.environ.get("BREAK"), "broken by BREAK"
    """,
}


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with server() as url:
        yield url


@pytest.fixture
def url(pg: str, request: pytest.FixtureRequest) -> str:
    return database(pg, "tg_" + request.node.name.lower()[:40].replace("[", "_").replace("]", ""))


def gated(root: Path, url: str, repository: str, *args: str, **env: str) -> dict[str, Any]:
    """`test-gate run` in GitHub Actions' clothes (a repository, a branch), the URL given
    through the environment, as the action gives it."""
    out = root.parent / "result.json"
    done = cli(
        "run", str(root), "--github=false", "--diagnose=false", f"--result-file={out}",
        "--history-url-env=TG_HISTORY", "--fail-on=new", *args,
        env={
            "TG_HISTORY": url, "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": repository,
            "GITHUB_REF_NAME": "main", "GITHUB_EVENT_NAME": "push", **env,
        },
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    result["stdout"] = done.stdout
    return result


def test_runs_are_recorded_and_read_back_per_repository(url: str, tmp_path: Path) -> None:
    one = write_tree(tmp_path / "one" / "project", SUITE)
    two = write_tree(tmp_path / "two" / "project", SUITE)
    first = gated(one, url, "org/one", BREAK="1", GITHUB_SHA="a" * 40)
    assert first["history"]["failures"][0]["class"] == "new" and first["verdict"] == "fail"
    assert "none yet; this run starts it" in first["stdout"]
    assert "tg:" not in first["stdout"]  # the URL shows without credentials
    again = gated(one, url, "org/one", BREAK="1", GITHUB_SHA="b" * 40)  # a later commit
    assert again["history"]["failures"][0]["class"] == "known" and again["verdict"] == "pass"
    # another repository in the same database: its own lanes only
    other = gated(two, url, "org/two", BREAK="1", GITHUB_SHA="c" * 40)
    assert other["history"]["failures"][0]["class"] == "new"
    shown = cli("history", url)  # every repository's lanes, the newest first
    assert shown.returncode == 0 and "history of branch main" in shown.stdout, shown.stderr
    site = tmp_path / "site"
    made = cli("history", url, "--html", str(site))
    assert made.returncode == 0, made.stderr
    page = (site / "index.html").read_text()
    assert 'data-repository="org/one"' in page and 'data-repository="org/two"' in page


def _entry(n: int, writer: int) -> RunEntry:
    run = stored_run(
        run_key=f"w{writer}-{n}", time="2026-12-04T10:00:00+00:00", commit_sha=f"{n:040x}",
        branch=f"b{writer % 2}", kind="run", seed="1", passed=50, collected=50,
        repository=f"org/r{writer % 3}", workflow="ci", base="", pull_request=0,
    )  # fmt: skip
    # every writer adds names the others add too, in another order, and names of its own
    tests = [("", f"t.py::shared_{(i * 7 + writer) % 40}", "passed", 1, 3, None) for i in range(40)]
    tests += [("", f"t.py::own_{writer}_{n}_{i}", "passed", 1, 3, None) for i in range(10)]
    return RunEntry(run, tests)


def _writer(url: str, writer: int, runs: int) -> None:
    for n in range(runs):
        store.record_run(url, _entry(n, writer), keep=1000)


def test_concurrent_writers_lose_nothing(url: str) -> None:
    writers, runs = 8, 50
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_writer, args=(url, w, runs)) for w in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    import psycopg

    with psycopg.connect(url, options="-c search_path=test_gate") as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone()[0] == writers * runs
        keys = {r[0] for r in connection.execute("SELECT run_key FROM runs")}
        assert keys == {f"w{w}-{n}" for w in range(writers) for n in range(runs)}
        assert connection.execute("SELECT count(*) FROM results").fetchone()[0] == (
            writers * runs * 50
        )


def test_a_database_that_is_down_is_a_notice_without_the_password(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", SUITE)
    down = f"postgresql://tg:s3cret@/tg?host={tmp_path}"  # no server listens there
    result = gated(root, down, "org/one", BREAK="1")
    notices = result["history"]["notices"]
    assert len(notices) == 1 and notices[0].startswith("history postgresql://tg@/tg: cannot")
    assert "s3cret" not in result["stdout"] and "s3cret" not in json.dumps(result)
    # gated on its own data: the failure counts, as new
    assert result["verdict"] == "fail"
    assert result["history"]["failures"][0]["class"] == "new"


def test_a_missing_database_or_a_newer_schema_is_not_used(
    pg: str, url: str, tmp_path: Path
) -> None:
    root = write_tree(tmp_path / "project", SUITE)
    missing = pg.replace("/postgres?", "/no_such_database?")
    result = gated(root, missing, "org/one")
    assert 'database "no_such_database" does not exist' in result["history"]["notices"][0]
    store.record_run(url, _entry(0, 0), 10)
    import psycopg

    with psycopg.connect(url, options="-c search_path=test_gate") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(HistoryUnusable, match="schema 99 is newer than this test-gate's 2"):
        load_history(url, Lane("b0", None, "py3.12-linux", "org/r0"), 20, [])
    with pytest.raises(HistoryUnusable, match="schema 99 is newer"):
        store.record_run(url, _entry(1, 0), 10)
    with psycopg.connect(url, options="-c search_path=test_gate") as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # as it was
