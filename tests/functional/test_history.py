"""Across runs, on real pytest runs: the flaky rate over a window, new and known failures
against the base branch, the quarantine, a history that cannot be used, writers at once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env, cli, run_gate, write_tree

SUITE = {
    "tests/test_suite.py": """
        import os
        import pathlib
        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_ok(n):
            pass

        def _flaky(name):
            # fails its first attempt when FLAKY names it; the rerun passes
            if name in os.environ.get("FLAKY", "").split(","):
                marker = pathlib.Path(os.environ["MARKS"]) / name
                if not marker.exists():
                    marker.write_text("failed once")
                    raise AssertionError(f"{name}: fails the first attempt")

        def test_flaky_one():
            _flaky("one")

        def test_flaky_two():
            _flaky("two")

        def test_breaks():
            assert not os.environ.get("BREAK"), "broken by BREAK"

        def test_breaks_too():
            assert not os.environ.get("BREAK_TOO"), "broken by BREAK_TOO"
    """,
}
TESTS = 12


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project", SUITE)


def gated(
    root: Path, out: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any], str, str]:
    """One `test-gate run` with the history options in `args`; exit code, result, stdout,
    summary."""
    marks = out / f"marks-{len(list(out.glob('marks-*')))}"
    marks.mkdir(parents=True)
    done = run_gate(
        root, out, "--diagnose", "false", *args, env=clean_env(MARKS=str(marks), **(env or {}))
    )
    assert "Traceback" not in done.proc.stderr, done.proc.stderr
    return done.code, done.result, done.proc.stdout, done.summary


def test_the_flaky_rate_over_the_window_fails_the_gate_at_the_run_that_crosses_it(
    suite: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.db"
    options = ("--history", str(history), "--branch", "main", "--window", "5")
    flaky = ["", "", "one", "two", ""]  # which test is flaky in runs 1 to 5
    rates, verdicts = [], []
    for name in flaky:
        code, result, _stdout, _ = gated(
            suite, tmp_path / "out", *options, "--max-flaky-rate", "10", env={"FLAKY": name}
        )
        rates.append(result["history"]["flaky_rate"])
        verdicts.append((code, result["verdict"]))
        assert result["history"]["tests_ran"] == TESTS
    # 1 of 12 is 8.33%; 2 of 12 is 16.66% (both stay in the 5-run window)
    assert rates == [0.0, 0.0, 8.33, 16.66, 16.66]
    assert verdicts == [(0, "pass"), (0, "pass"), (0, "pass"), (1, "fail"), (1, "fail")]
    assert (
        "flaky rate 16.66% over the last 5 run(s) is above --max-flaky-rate 10%"
        in (result["reasons"][0])
    )
    flakiest = {f["nodeid"]: f for f in result["history"]["flakiest"]}
    assert flakiest["tests/test_suite.py::test_flaky_one"]["flaky"] == 1
    assert flakiest["tests/test_suite.py::test_flaky_one"]["runs"] == 5
    # a window of 3 holds this sixth run and runs 4 and 5: one flaky test
    code, result, _, _ = gated(
        suite, tmp_path / "out", "--history", str(history), "--branch", "main", "--window", "3"
    )
    assert result["history"]["flaky_rate"] == 8.33
    # the store kept every run, with each test
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 6
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 6 * TESTS
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    shown = cli("history", str(history), "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert [r["flaky"] for r in report["runs"]] == [0, 0, 1, 1, 0, 0]
    names = [f["nodeid"] for f in report["flakiest"]]
    assert set(names) == {
        "tests/test_suite.py::test_flaky_one",
        "tests/test_suite.py::test_flaky_two",
    }
    suggested = cli("quarantine", "suggest", "--history", str(history))
    assert suggested.returncode == 0, suggested.stderr
    assert 'id = "tests/test_suite.py::test_flaky_one"' in suggested.stdout
    assert 'reason = "flaky in 1 of 6 runs' in suggested.stdout
    assert 'owner = ""' in suggested.stdout  # somebody must take it before it parses


def test_a_failure_known_on_the_base_branch_passes_with_fail_on_new_and_a_new_one_fails(
    suite: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.db"
    out = tmp_path / "out"
    main = ("--history", str(history), "--branch", "main")
    code, result, _, _ = gated(suite, out, *main, env={"BREAK": "1"})
    assert code == 1
    assert result["history"]["failures"][0]["class"] == "new"  # nothing before it
    pr = ("--history", str(history), "--branch", "feature", "--base-branch", "main")
    # the same failure on the pull request: known, from the base branch
    code, result, stdout, summary = gated(suite, out, *pr, "--fail-on", "new", env={"BREAK": "1"})
    assert code == 0, stdout
    assert result["verdict"] == "pass"
    assert result["counts"]["failed"] == 1  # counted and shown, not hidden
    assert result["history"]["failures"] == [
        {"nodeid": "tests/test_suite.py::test_breaks", "cell": None, "class": "known"}
    ]
    assert "| **known** |" in summary  # in its row of the failures table
    # with every failure gating, the same run fails on its pass rate
    code, result, _, _ = gated(suite, out, *pr, env={"BREAK": "1"})
    assert code == 1
    assert "pass rate" in result["reasons"][0]
    # a failure the base branch never had is new, and comes first
    code, result, stdout, summary = gated(
        suite, out, *pr, "--fail-on", "new", env={"BREAK": "1", "BREAK_TOO": "1"}
    )
    assert code == 1
    assert result["reasons"] == [
        "1 new failure(s) (--fail-on new: failures that also failed before do not count): "
        "tests/test_suite.py::test_breaks_too"
    ]
    assert [f["nodeid"] for f in result["failures"]] == [
        "tests/test_suite.py::test_breaks_too",
        "tests/test_suite.py::test_breaks",
    ]
    assert summary.index("test_breaks_too") < summary.index("::test_breaks`")
    assert "Failures (2: 1 new, 1 known)" in summary
    # --fail-on new needs a history to compare with
    code, _, _, _ = gated(suite, out, "--fail-on", "new")
    assert code == 2


QUARANTINE = """
    # reviewed like code
    [[test]]
    id = "tests/test_suite.py::test_breaks"
    reason = "the upstream service is down"
    owner = "@qa"
    expires = {expires}

    [[test]]
    id = "tests/test_gone.py::*"
    reason = "moved away"
    owner = "@qa"
    expires = 2999-01-01
"""


def test_quarantined_failures_do_not_count_and_expired_or_unmatched_entries_are_reported(
    suite: Path, tmp_path: Path
) -> None:
    quarantine = tmp_path / "quarantine.toml"
    out = tmp_path / "out"
    write_tree(tmp_path, {"quarantine.toml": QUARANTINE.format(expires="2999-12-31")})
    code, result, stdout, summary = gated(
        suite, out, "--quarantine", str(quarantine), env={"BREAK": "1"}
    )
    assert code == 0, stdout
    assert result["counts"]["failed"] == 1
    assert result["pass_rate"] == 100.0  # 11 of 11: the quarantined failure is left out
    assert result["quarantine"]["tests"][0]["outcome"] == "failed"
    assert result["quarantine"]["unmatched"] == ["tests/test_gone.py::*"]
    assert "matches no test" in stdout
    # one fraction, the rate's: the quarantined failure is out of both sides
    assert (
        "test-gate PASSED: pass rate 100.00% (11 of 11; 1 quarantined failure(s) left out)"
        in stdout
    )
    assert "Quarantine (1 tests)" in summary and "@qa" in summary
    # the entry expired yesterday or earlier: the gate fails, and the failure counts again
    write_tree(tmp_path, {"quarantine.toml": QUARANTINE.format(expires="2020-01-31")})
    code, result, _, _ = gated(suite, out, "--quarantine", str(quarantine), env={"BREAK": "1"})
    assert code == 1
    assert any("expired on 2020-01-31" in r and "quarantine.toml:2" in r for r in result["reasons"])
    assert result["pass_rate"] == 91.66
    # a bad file stops before any test runs, naming the line
    write_tree(tmp_path, {"quarantine.toml": QUARANTINE.format(expires='"next week"')})
    code, _, _, _ = gated(suite, out, "--quarantine", str(quarantine))
    proc = cli("run", str(suite), "--quarantine", str(quarantine))
    assert code == 2
    assert proc.stderr.strip().splitlines() == [
        f"test-gate: error: --quarantine: {quarantine}:6: expires 'next week' is not a date; "
        "use YYYY-MM-DD, such as 2027-01-31"
    ]


def test_a_history_that_is_not_sqlite_is_reported_and_left_alone(
    suite: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.db"
    history.write_text("these are notes, not a database\n")
    code, result, stdout, _summary = gated(suite, tmp_path / "out", "--history", str(history))
    assert code == 0  # gated on its own data: every test passed
    assert result["verdict"] == "pass"
    notice = result["history"]["notices"][0]
    assert notice.startswith(f"history {history}: not an SQLite database")
    assert "not recorded" in notice and "not recorded" in stdout
    assert history.read_text() == "these are notes, not a database\n"
    # with a failure, --fail-on new cannot see the past: the failure counts as new
    code, result, _, _ = gated(
        suite, tmp_path / "out", "--history", str(history), "--fail-on", "new", env={"BREAK": "1"}
    )
    assert code == 1
    assert result["history"]["failures"][0]["class"] == "new"


def test_two_gates_writing_one_history_at_once_leave_it_whole(
    passing_report: Any, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(passing_report.data))
    history = tmp_path / "history.db"
    runs_each = 4
    script = (
        "import subprocess, sys\n"
        f"for i in range({runs_each}):\n"
        "    code = subprocess.run([sys.executable, '-m', 'test_gate', 'gate', sys.argv[1],\n"
        "        '--history', sys.argv[2], '--branch', sys.argv[3], '--github', 'false'],\n"
        "        capture_output=True).returncode\n"
        "    assert code == 0, code\n"
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(report), str(history), branch],
            env=clean_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for branch in ("one", "two")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with sqlite3.connect(history) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        by_branch = dict(db.execute("SELECT branch, count(*) FROM runs GROUP BY branch"))
        assert by_branch == {"one": runs_each, "two": runs_each}
        tests = passing_report.data["summary"]["total"]
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 2 * runs_each * tests


def test_the_history_command_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for path, message in [
        (tmp_path / "missing.db", "is not a file; give the history store (--history)"),
        (notes, "not an SQLite database"),
        (empty, "holds no runs yet"),
    ]:
        for argv in (("history", str(path)), ("quarantine", "suggest", "--history", str(path))):
            proc = cli(*argv)
            assert proc.returncode == 2, proc.stderr
            [line] = proc.stderr.splitlines()
            assert line.startswith("test-gate: error: ") and message in line, line


def _pull_request(tmp_path: Path, commit: str, attempt: int) -> dict[str, str]:
    """The environment of a pull request's job in GitHub Actions, at its head `commit`."""
    event = tmp_path / f"event-{commit[:8]}.json"
    event.write_text(
        json.dumps(
            {"pull_request": {"head": {"sha": commit}}, "repository": {"default_branch": "main"}}
        )
    )
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_BASE_REF": "main",
        "GITHUB_REF_NAME": "17/merge",
        "GITHUB_SHA": "f" * 40,  # the merge commit nobody pushed
        "GITHUB_RUN_ID": "100",
        "GITHUB_RUN_ATTEMPT": str(attempt),
    }


def test_a_pull_request_never_makes_its_own_failure_known(suite: Path, tmp_path: Path) -> None:
    """Attempt 1 of a pull request fails with a new failure; neither its re-run (attempt 2 of
    the same commit) nor the next push (a new commit) may call that failure known."""
    history = tmp_path / "history.db"
    out = tmp_path / "out"
    options = ("--history", str(history), "--fail-on", "new")
    # main ran it, green
    code, _, _, _ = gated(suite, out, "--history", str(history), "--branch", "main")
    assert code == 0
    first, second = "1" * 40, "2" * 40
    for commit, attempt in ((first, 1), (first, 2), (second, 1)):
        env = {**_pull_request(tmp_path, commit, attempt), "BREAK": "1"}
        code, result, stdout, _ = gated(suite, out, *options, env=env)
        assert code == 1, (commit, attempt, stdout)
        assert result["history"]["failures"][0]["class"] == "new"
        assert result["reasons"][0].startswith("1 new failure(s)")
    # the same through "flaky-known": flaky once on the pull request, then really broken
    env = {**_pull_request(tmp_path, "3" * 40, 1), "FLAKY": "two"}
    code, result, _, _ = gated(suite, out, *options, env=env)
    assert code == 0 and result["counts"]["flaky"] == 1
    env = {**_pull_request(tmp_path, "4" * 40, 1), "BREAK_TOO": "1"}
    code, result, _, _ = gated(suite, out, *options, env=env)
    assert code == 1
    assert result["history"]["failures"][0]["class"] == "new"


def test_on_a_branch_a_rerun_of_the_same_commit_is_not_its_own_evidence(
    suite: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.db"
    out = tmp_path / "out"
    options = ("--history", str(history), "--fail-on", "new", "--branch", "release")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "a" * 40, "GITHUB_RUN_ID": "5", "BREAK": "1"}
    for attempt in ("1", "2"):  # the re-run of the same commit: still new
        code, result, _, _ = gated(suite, out, *options, env={**env, "GITHUB_RUN_ATTEMPT": attempt})
        assert code == 1 and result["history"]["failures"][0]["class"] == "new"
    # the next commit of the branch: it failed at another commit, so it is known
    code, result, _, _ = gated(suite, out, *options, env={**env, "GITHUB_SHA": "b" * 40})
    assert code == 0 and result["history"]["failures"][0]["class"] == "known"


def test_a_pull_requests_run_at_a_commit_its_base_holds_is_evidence(
    suite: Path, tmp_path: Path
) -> None:
    """The base branch holds commit A (git says so): a failure recorded on the pull request's
    branch at A was not written by the pull request, and is known."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=suite, check=True)
    subprocess.run(["git", "add", "-A"], cwd=suite, check=True)
    subprocess.run([*git, "commit", "-qm", "a"], cwd=suite, check=True)

    def head() -> str:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=suite, capture_output=True, text=True, check=True
        ).stdout.strip()

    held = head()
    subprocess.run(["git", "checkout", "-qb", "feature"], cwd=suite, check=True)
    history = tmp_path / "history.db"
    out = tmp_path / "out"
    options = ("--history", str(history), "--fail-on", "new")
    code, result, _, _ = gated(
        suite, out, *options, env={**_pull_request(tmp_path, held, 1), "BREAK": "1"}
    )
    assert code == 1 and result["history"]["failures"][0]["class"] == "new"
    (suite / "notes.txt").write_text("the pull request's own change\n")
    subprocess.run(["git", "add", "-A"], cwd=suite, check=True)
    subprocess.run([*git, "commit", "-qm", "b"], cwd=suite, check=True)
    code, result, _, _ = gated(
        suite, out, *options, env={**_pull_request(tmp_path, head(), 1), "BREAK": "1"}
    )
    assert code == 0, result["reasons"]
    assert result["history"]["failures"][0]["class"] == "known"


def test_a_quarantine_of_everything_is_loud_and_can_be_capped(suite: Path, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine.toml"
    out = tmp_path / "out"
    stale = "".join(
        f'[[test]]\nid = "tests/test_gone_{n}.py::*"\nreason = "moved"\nowner = "@qa"\n'
        "expires = 2999-01-01\n\n"
        for n in range(40)
    )
    quarantine.write_text(
        '[[test]]\nid = "*"\nreason = "red builds are annoying"\nowner = "@someone"\n'
        f"expires = 2999-01-01\n\n{stale}"
    )
    code, result, stdout, summary = gated(
        suite, out, "--quarantine", str(quarantine), env={"BREAK": "1"}
    )
    assert code == 0, stdout  # quarantined, as asked: but not quietly
    broad = f"quarantine entry '*' ({quarantine}:1, owner @someone) matches {TESTS} of the run's"
    assert broad in stdout
    assert result["quarantine"]["broad"] == [
        {"entry": "*", "line": 1, "matched": TESTS, "tests": TESTS}
    ]
    verdict_block = summary.split("\n## ", 1)[0] if "\n## " in summary else summary[:3000]
    assert "⚠️ quarantine entry '\\*'" in verdict_block
    assert len(result["quarantine"]["unmatched"]) == 40
    assert stdout.count("matches no test") == 10 and "30 more entries match no test" in stdout
    code, result, _, _ = gated(
        suite, out, "--quarantine", str(quarantine), "--max-quarantined", "5", env={"BREAK": "1"}
    )
    assert code == 1
    assert f"{TESTS} test(s) of this run are quarantined, more than --max-quarantined 5" in (
        " ".join(result["reasons"])
    )


def test_require_stable_needs_the_last_n_runs_each_at_the_threshold(
    suite: Path, tmp_path: Path
) -> None:
    """The seed plan's "98% across 3 consecutive runs": --threshold 98 --require-stable 3."""
    history = tmp_path / "history.db"
    options = ("--history", str(history), "--branch", "main", "--require-stable", "3")
    out = tmp_path / "out"
    breaks = ["", "", "1", "", "", ""]  # run 3 is at 11 of 12, 91.66%
    verdicts, streaks = [], []
    for value in breaks:
        code, result, stdout, summary = gated(suite, out, *options, env={"BREAK": value})
        verdicts.append(code)
        streaks.append(result["history"]["stable"]["streak"])
    # runs 1 and 2: fewer than 3 runs; run 3 is below; runs 4 and 5: run 3 is in the last 3
    assert verdicts == [1, 1, 1, 1, 1, 0]
    assert streaks == [1, 2, 0, 1, 2, 3]
    assert result["history"]["stable"] == {
        "required": 3,
        "threshold": "98",
        "streak": 3,
        "met": True,
        "below": [],
    }
    assert "stable (met): 3 of the 3 runs in a row at 98% or more" in stdout
    assert "stable (met)" in summary
    shown = cli("history", str(history), "--threshold", "98")
    assert "stable: the newest 3 run(s) in a row at 98% or more" in shown.stdout
    # the reasons of the runs that failed on it
    code, result, _, _ = gated(
        suite, tmp_path / "fresh", "--history", str(tmp_path / "h2.db"), "--require-stable", "2"
    )
    assert code == 1
    assert result["reasons"] == [
        "--require-stable 2: 2 runs in a row must each meet the threshold 98%, and this lane "
        "has 0 earlier run(s) in the history"
    ]


def test_require_stable_says_which_earlier_run_fell_short(suite: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    options = ("--history", str(history), "--branch", "main")
    out = tmp_path / "out"
    gated(suite, out, *options, env={"BREAK": "1"})
    code, result, _, _ = gated(suite, out, *options, "--require-stable", "2")
    assert code == 1
    (reason,) = result["reasons"]
    assert reason.startswith(
        "--require-stable 2: of the last 2 runs of this lane, 1 earlier one(s) did not meet the "
        "threshold 98%: run #1 ("
    )
    assert reason.endswith(", 91.66%)")
    bad = cli("run", str(suite), "--require-stable", "2")
    assert bad.returncode == 2 and "--require-stable: needs --history FILE" in bad.stderr


def test_two_jobs_copies_of_one_history_merge_into_one(suite: Path, tmp_path: Path) -> None:
    """Two runs that restored the same history each recorded their own; `history FILE
    --merge-from OTHER` gives FILE the other's run, and says how many it took."""
    common = tmp_path / "common.db"
    gated(suite, tmp_path / "o0", f"--history={common}")
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    one.write_bytes(common.read_bytes())
    two.write_bytes(common.read_bytes())
    gated(suite, tmp_path / "o1", f"--history={one}", env={"BREAK": "1"})
    gated(suite, tmp_path / "o2", f"--history={two}")
    proc = cli("history", str(one), "--merge-from", str(two), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"added": 1, "runs": 3, "left_out": 0}
    proc = cli("history", str(one), "--merge-from", str(two))
    assert proc.stdout == f"history {one}: 0 run(s) added from {two}; 3 run(s) in all\n"
    report = json.loads(cli("history", str(one), "--json").stdout)
    assert len(report["runs"]) == 3
    # a store it cannot use: one line, exit 2, the file untouched
    bad = tmp_path / "bad.db"
    bad.write_text("not a database")
    before = one.read_bytes()
    proc = cli("history", str(one), "--merge-from", str(bad))
    assert proc.returncode == 2 and one.read_bytes() == before
    [line] = proc.stderr.splitlines()
    assert line.startswith("test-gate: error: ") and "not an SQLite database" in line
    proc = cli("history", str(one), "--merge-from", str(two), "--keep-runs", "0")
    assert proc.returncode == 2 and "--keep-runs" in proc.stderr
