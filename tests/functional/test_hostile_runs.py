"""Runs that hang, crash, get cancelled, or whose tests attack the job: every one ends with a
verdict, the first reason names the root cause, and nothing from the tests reaches GitHub as
a command or a forged verdict. Real pytest runs on small fixture projects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import GateRun, clean_env, cli

Project = Callable[[dict[str, str]], Path]
POSIX = os.name == "posix"

HANGS = {
    "tests/test_a.py": "def test_first():\n    pass\n",
    "tests/test_b.py": """
        import os
        import time
        from pathlib import Path


        def test_hangs():
            marker = os.environ.get("MARKER")
            if marker:
                Path(marker).write_text(str(os.getpid()))
            time.sleep(600)
    """,
}


def test_a_hanging_run_is_stopped_and_judged_with_what_ran(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(HANGS)
    run = gate_run(root, "--seed", "1", "--bucket", "none", "--timeout", "4", "--diagnose=false")
    assert run.code == 1
    first = run.result["reasons"][0]
    assert "did not finish within" in first and "--timeout 4 s" in first
    assert "tests/test_b.py::test_hangs was running" in first
    assert run.counts["passed"] == 1  # what ran before the hang is kept
    if POSIX:
        assert "Where the run was when it was stopped" in run.summary
        assert "test_b.py" in run.summary.split("Where the run was when it was stopped")[1]


@pytest.mark.skipif(not POSIX, reason="the stacks are asked for with SIGUSR1")
def test_a_module_that_hangs_as_it_is_imported_is_named(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/test_a.py": "def test_first():\n    pass\n",
            "tests/test_slow.py": "import time\n\ntime.sleep(600)\n",
        }
    )
    run = gate_run(root, "--seed", "1", "--timeout", "4", "--diagnose=false")
    assert run.code == 1
    first = run.result["reasons"][0]
    assert first.endswith("no test was running; pytest was at tests/test_slow.py:3 in <module>")


def _run_argv(root: Path, result: Path, *args: str) -> list[str]:
    """`test-gate run` on `root` with this suite's interpreter, seed 1, the result to `result`."""
    return [
        *(sys.executable, "-m", "test_gate", "run", str(root), "--python", sys.executable),
        *("--seed", "1", "--result-file", str(result), *args),
    ]


def _start(root: Path, out: Path, marker: Path, *args: str) -> subprocess.Popen[str]:
    env = clean_env(
        MARKER=str(marker),
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(out / "output"),
        GITHUB_STEP_SUMMARY=str(out / "summary"),
    )
    return subprocess.Popen(
        _run_argv(root, out / "result.json", "--bucket", "none", *args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(marker: Path) -> int:
    for _ in range(600):
        if marker.exists() and marker.read_text():
            return int(marker.read_text())
        time.sleep(0.05)
    pytest.fail("the hanging test never started")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.skipif(not POSIX, reason="signals to a process: POSIX")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_cancelled_job_stops_pytest_and_writes_what_is_known(
    project: Project, tmp_path: Path, sig: signal.Signals
) -> None:
    root = project(HANGS)
    out = tmp_path / "out"
    out.mkdir()
    (out / "output").write_text("")
    (out / "summary").write_text("")
    marker = tmp_path / "pid"
    gate = _start(root, out, marker)
    pytest_pid = _wait_for(marker)
    gate.send_signal(sig)
    stdout, stderr = gate.communicate(timeout=60)
    assert gate.returncode == 1
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    result = json.loads((out / "result.json").read_text())
    assert result["reasons"][0].startswith(f"the run was cancelled ({sig.name})")
    assert "tests/test_b.py::test_hangs was running" in result["reasons"][0]
    assert _gone(pytest_pid)
    # the stop-commands window was closed: the gate's own commands came after it
    token = stdout.split("::stop-commands::", 1)[1].split("\n", 1)[0]
    assert f"::{token}::" in stdout
    assert "verdict<<" in (out / "output").read_text()


LEFTOVER = {
    "tests/test_attack.py": """
        import os
        import subprocess
        import sys
        from pathlib import Path

        LATER = (
            "import os, sys, time\\n"
            "os.setsid()\\n"
            "time.sleep(1.5)\\n"
            "print('::warning title=forged::from a leftover process', flush=True)\\n"
            "print('::notice::forged verdict pass', flush=True)\\n"
        )


        def test_attacks_the_job():
            subprocess.Popen([sys.executable, "-c", LATER])
            Path(os.environ["GITHUB_STEP_SUMMARY"]).write_text(
                "## \\u2705 test-gate passed\\n\\n<!--\\n"
            )
            with open(os.environ["GITHUB_OUTPUT"], "a") as handle:
                handle.write("verdict=pass\\n")
            print("\\u202e::error::reversed \\u200bhidden")
            assert False, "fails\\u202eevil\\x00"
    """,
}


@pytest.mark.skipif(not POSIX, reason="a process that leaves its group: POSIX")
def test_what_tests_leave_behind_cannot_forge_or_hide_the_verdict(
    project: Project, tmp_path: Path
) -> None:
    root = project(LEFTOVER)
    out = tmp_path / "out"
    out.mkdir()
    (out / "output").write_text("")
    (out / "summary").write_text("")
    gate = _start(root, out, tmp_path / "unused", "--diagnose=false")
    stdout, _ = gate.communicate(timeout=120)
    time.sleep(2.5)  # the leftover has had its chance by now
    assert gate.returncode == 1
    assert "forged" not in stdout  # not forwarded after pytest ended, so never a command
    outputs = (out / "output").read_text()
    assert "verdict=pass" not in outputs and "\nfail\n" in outputs
    summary = (out / "summary").read_text()
    assert summary.startswith("## ❌ test-gate failed")
    written = summary.split("### Written by the tests, not by test-gate", 1)[1]
    assert "```markdown\n## ✅ test-gate passed\n\n<!--" in written
    assert "step output line(s); they were dropped" in written
    # invisible and reordering characters are shown, in the summary and the annotations
    assert "\u202e" not in summary and "<U+202E>" in summary.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert "\u202e" not in stdout.split("test-gate FAILED")[1]


def test_a_conftest_that_does_not_import_is_the_first_reason(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/conftest.py": "import nowhere_to_be_found\n",
            "tests/test_a.py": "def test_a():\n    pass\n",
        }
    )
    run = gate_run(root, "--seed", "1")
    assert run.code == 1
    first = run.result["reasons"][0]
    assert "conftest.py could not be imported" in first
    assert "No module named 'nowhere_to_be_found'" in first
    # what follows from it is left out: pytest's exit code 4 does not mean bad arguments here
    assert not any("bad arguments" in r or "exited with code" in r for r in run.result["reasons"])


@pytest.mark.parametrize(
    ("files", "first"),
    [
        (  # a warning filter whose module is not installed: pytest's own warning, raised
            {"pytest.ini": "[pytest]\nfilterwarnings =\n    error\n    ignore::nowhere.W\n"},
            "pytest crashed in _pytest before its session began: pytest.PytestConfigWarning: "
            "Failed to import filter module 'nowhere'",
        ),
        (  # a conftest that ends the process as it is imported
            {"conftest.py": "import sys\nprint('leaving now')\nsys.exit(3)\n"},
            "pytest ended before its session began (before pytest-test-gate started its "
            "record), with exit code 3; its last line: leaving now",
        ),
        (  # a conftest hook that raises: pytest's internal error names the conftest
            {"conftest.py": "def pytest_configure(config):\n    raise RuntimeError('no')\n"},
            "pytest hit an internal error in ",
        ),
        (  # a plugin's warning at configure time, which the project's filter makes an error
            {
                "pytest.ini": "[pytest]\nfilterwarnings = error\n",
                "conftest.py": "import warnings\nimport pytest\n\n\n"
                "def pytest_configure(config):\n"
                "    warnings.warn(pytest.PytestDeprecationWarning('an option is unset'))\n",
            },
            "pytest hit an internal error in ",
        ),
    ],
    ids=["warning-filter", "exit-at-import", "configure-raises", "configure-warns"],
)
def test_a_pytest_that_stops_before_its_session_is_named_first(
    project: Project, gate_run: Callable[..., GateRun], files: dict[str, str], first: str
) -> None:
    """Before the session there is no record and no report: those, the exit code and the
    empty run follow from why pytest stopped, which comes first."""
    root = project({**files, "tests/test_a.py": "def test_a():\n    pass\n"})
    run = gate_run(root, "--seed", "1")
    assert run.code == 1
    assert run.result["reasons"][0].startswith(first)
    if "internal error" in first:
        assert run.result["reasons"][0].split("conftest.py: ")[1] in (
            "RuntimeError: no",
            "pytest.PytestDeprecationWarning: an option is unset",
        )
    assert not any("exited with code" in r for r in run.result["reasons"])


@pytest.mark.skipif(not POSIX, reason="POSIX signals")
@pytest.mark.parametrize("name", ["SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"])
def test_a_test_that_signals_the_gate_still_gets_a_verdict(
    project: Project, gate_run: Callable[..., GateRun], name: str
) -> None:
    """Each of these ends a process that does not handle it, without a word. A hang-up or a
    quit cancels the run as SIGTERM does; a signal that means nothing to the gate is noted,
    and the run goes on."""
    test = f"""
        import os
        import signal
        import time


        def test_a():
            pass


        def test_signals_its_parent():
            os.kill(os.getppid(), signal.{name})
            time.sleep(0.5)


        def test_z():
            pass
    """
    run = gate_run(project({"tests/test_k.py": test}), "--seed", "1", "--bucket", "none")
    if name in ("SIGHUP", "SIGQUIT"):
        assert run.code == 1
        assert run.result["reasons"][0].startswith(f"the run was cancelled ({name})")
        assert "tests/test_k.py::test_signals_its_parent was running" in run.result["reasons"][0]
    else:
        assert run.code == 0, run.proc.stdout[-2000:]
        assert run.counts["passed"] == 3
        assert any(f"test-gate received {name}" in n for n in run.result["notices"])


@pytest.mark.skipif(not POSIX, reason="POSIX fork")
def test_a_test_that_forks_pytest_is_named_and_its_copy_not_counted(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    """The copy of pytest a forking test leaves goes on with the session: its tests ran twice,
    once where the gate cannot see. Counted once, and the first reason names the test."""
    test = """
        import os


        def test_a():
            pass


        def test_fork():
            os.fork()


        def test_z():
            pass
    """
    run = gate_run(project({"tests/test_f.py": test}), "--seed", "1", "--bucket", "none")
    assert run.code == 1
    first = run.result["reasons"][0]
    assert "1 process(es) that a test forked from pytest went on with the session" in first
    assert "forked in tests/test_f.py::test_fork" in first
    assert run.counts["passed"] == 3 and run.counts["reruns"] == 0
    assert len(run.result["reasons"]) == 1  # nothing the copy wrote reached the record


def test_a_run_that_collects_nothing_names_the_test_files_python_files_misses(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/__init__.py": "",
            "tests/test.py": """
                import unittest


                class TestSums(unittest.TestCase):
                    def test_one(self):
                        self.assertEqual(1 + 1, 2)

                    def test_two(self):
                        self.assertEqual(2 + 2, 4)
            """,
            "tests/helpers.py": "def test_like_helper():\n    pass\n",  # not named like tests
        }
    )
    run = gate_run(root, "--seed", "1")
    assert run.code == 1
    assert run.result["reasons"][0] == (
        "pytest collected no test: python_files (test_*.py, *_test.py) matches none of these "
        "files, which hold tests: tests/test.py (2 tests)"
    )
    allowed = gate_run(root, "--seed", "1", "--allow-no-tests")
    assert allowed.code == 0  # an empty run the user allows is not news


def test_an_interrupt_in_a_test_is_named_with_pytests_words_and_the_test(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    test = "def test_a():\n    pass\n\ndef test_stop():\n    raise KeyboardInterrupt\n"
    run = gate_run(project({"tests/test_k.py": test}), "--seed", "1", "--bucket", "none")
    assert run.code == 1
    assert any(
        "(pytest stopped the session: KeyboardInterrupt; tests/test_k.py::test_stop was running)"
        in r
        for r in run.result["reasons"]
    )


@pytest.mark.parametrize("github", ["false", "true"])
def test_a_terminal_that_goes_away_does_not_stop_the_run(
    project: Project, tmp_path: Path, github: str
) -> None:
    """`test-gate run | head -1`: the reader leaves after one line. What test-gate prints after
    that is dropped; the run goes on to its verdict, its files and its exit code."""
    tests = {f"tests/test_{i}.py": "def test_it():\n    print('x' * 200)\n" for i in range(40)}
    root = project(tests)
    out = tmp_path / "out"
    out.mkdir()
    env = clean_env(GITHUB_OUTPUT=str(out / "output"), GITHUB_STEP_SUMMARY=str(out / "summary"))
    if github == "true":
        env["GITHUB_ACTIONS"] = "true"
    gate = subprocess.Popen(
        _run_argv(root, out / "result.json", "--github", github, "--", "-s"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert gate.stdout is not None and gate.stderr is not None
    gate.stdout.readline()
    gate.stdout.close()  # as `head -1` does
    stderr = gate.stderr.read().decode(errors="replace")
    assert gate.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr
    result = json.loads((out / "result.json").read_text())
    assert result["verdict"] == "pass" and result["counts"]["passed"] == 40


@pytest.mark.skipif(not POSIX, reason="closes a descriptor before the gate starts")
def test_a_gate_started_without_stdout_and_stderr_still_judges(
    project: Project, tmp_path: Path
) -> None:
    """`test-gate run >&- 2>&-`: Python starts with no sys.stdout; nothing may fail on it."""
    root = project({"tests/test_a.py": "def test_a():\n    pass\n"})
    result = tmp_path / "result.json"

    def close_output() -> None:
        os.close(1)
        os.close(2)

    code = subprocess.call(
        _run_argv(root, result),
        env=clean_env(),
        preexec_fn=close_output,  # in the child, before the gate starts
    )
    assert code == 0
    assert json.loads(result.read_text())["verdict"] == "pass"


def test_a_test_that_removes_the_gates_working_folder_is_named_first(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    """A test that empties the temp directory takes test-gate's record with it: the session
    ran (pytest's summary says so), so the first reason is the removal, not a pytest that
    never began."""
    test = """
        import shutil
        import sys
        from pathlib import Path


        def test_a():
            pass


        def test_cleans_the_temp_directory():
            record = next(a for a in sys.argv if a.startswith("--test-gate-record="))
            shutil.rmtree(Path(record.split("=", 1)[1]).parent)
    """
    run = gate_run(project({"tests/test_c.py": test}), "--seed", "1", "--diagnose=false")
    assert run.code == 1
    assert run.result["reasons"][0].startswith(
        "pytest ran its session, and pytest-test-gate's record is gone"
    )


def test_a_syntax_error_names_the_collection_error_first(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/test_bad.py": "def test_bad(:\n    pass\n",
            "tests/test_ok.py": "def test_ok():\n    pass\n",
        }
    )
    run = gate_run(root, "--seed", "1")
    assert run.result["reasons"][0].startswith(
        "1 collection error(s): tests in tests/test_bad.py could not be collected: "
    )
    assert "SyntaxError" in run.result["reasons"][0]  # what to fix, without opening the summary
    # no test ran because collection failed: no guess at -x or a crash, no exit code 2; the
    # pass rate that follows from it (the collection error counts as an error) stays
    assert run.result["reasons"][1:] == [
        "pass rate 0.00% is below the threshold 98% (0 of 1 passed)"
    ]


def test_a_plugin_that_crashes_at_the_end_is_named_and_the_record_counts(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    """pytest-json-report 1.5.0 crashes in its sessionfinish without pytest's legacypath."""
    root = project({"tests/test_a.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n"})
    run = gate_run(root, "--seed", "1", "--", "-p", "no:legacypath")
    assert run.code == 1
    assert run.result["reasons"][0].startswith("pytest crashed in pytest_jsonreport")
    assert run.counts["passed"] == 2  # counted from pytest-test-gate's record


def test_the_users_bucket_and_reruns_win_with_a_notice(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "pytest.ini": "[pytest]\naddopts = --random-order-bucket=global --reruns 1\n",
            "tests/test_a.py": "def test_a():\n    pass\n",
        }
    )
    run = gate_run(root, "--seed", "3", "--reruns", "2")
    assert run.code == 0
    notices = run.result["notices"]
    assert any("--reruns 1 comes from your pytest options or configuration" in n for n in notices)
    assert any("--random-order-bucket global" in n for n in notices)
    command = run.result["reproduce"]
    assert "--reruns" not in command and "--random-order-bucket" not in command
    assert "--random-order-seed=3" in command
    assert run.result["python"].startswith(sys.executable)


def test_a_path_that_starts_with_a_dash_stays_a_path(tmp_path: Path) -> None:
    root = tmp_path / "-dash"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    result = tmp_path / "result.json"
    proc = cli(
        "run",
        "--path=-dash",
        "--python",
        sys.executable,
        "--seed",
        "1",
        "--github=false",
        f"--result-file={result}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert json.loads(result.read_text())["reproduce"].startswith("cd ./-dash && python -m pytest")


def test_the_scratch_folder_is_cleaned_up(
    project: Project, tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    root = project({"tests/test_a.py": "def test_a():\n    assert 0\n"})
    scratch = tmp_path / "runner-temp"
    scratch.mkdir()
    gate_run(root, "--seed", "1", "--orders", "2", env=clean_env(RUNNER_TEMP=str(scratch)))
    leftovers = [p for p in scratch.rglob("*") if p.is_file()]
    assert leftovers == []  # the result and summary went where the test asked


def test_a_hang_that_needs_another_test_first_is_diagnosed(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/state.py": "LOCKED = []\n",
            "tests/test_a.py": """
                import state

                def test_locks():
                    state.LOCKED.append(1)

                def test_fine():
                    pass
            """,
            "tests/test_b.py": """
                import time

                import state

                def test_waits():
                    while state.LOCKED:
                        time.sleep(0.1)
            """,
        }
    )
    run = gate_run(root, "--seed", "1", "--bucket", "none", "--timeout", "4")
    assert run.code == 1
    assert "tests/test_b.py::test_waits was running" in run.result["reasons"][0]
    [entry] = run.result["order_dependent"]
    assert entry["victim"] == "tests/test_b.py::test_waits"
    assert entry["polluters"] == ["tests/test_a.py::test_locks"]
    assert "**order-dependent hang**: passes alone, hangs after" in run.summary


def test_the_gate_reads_the_reports_digest_and_still_catches_a_contradiction(
    project: Any, tmp_path: Path
) -> None:
    """pytest-test-gate saves a digest beside the report (the summary, what did not plainly
    pass, the ids of what did), and the gate reads it instead of the whole report; the
    cross-check against the record holds on it as on the report."""
    from test_gate.read.run_files import read_run_files

    root = project({"tests/test_a.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 0\n"})
    report, record = tmp_path / "report.json", tmp_path / "record.jsonl"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--test-gate", "--test-gate-run-id=r1", f"--test-gate-record={record}",
         "--json-report", "--json-report-file=none", f"--test-gate-report={report}"],
        cwd=root, env=clean_env(), capture_output=True, check=False,
    )  # fmt: skip
    digest_path = tmp_path / "report.json.digest"
    digest = json.loads(digest_path.read_text())
    assert digest["plainly_passed"] == ["tests/test_a.py::test_a"]
    assert [t["nodeid"] for t in digest["tests"]] == ["tests/test_a.py::test_b"]
    run = read_run_files(report, record, "r1")
    assert run.problems == () and [t.outcome.value for t in run.tests] == ["passed", "failed"]
    # a digest that says test_a failed contradicts the record's pass
    failed = {**digest["tests"][0], "nodeid": "tests/test_a.py::test_a"}
    digest_path.write_text(
        json.dumps({**digest, "plainly_passed": [], "tests": [failed, *digest["tests"]]})
    )
    run = read_run_files(report, record, "r1")
    assert any("failed for pytest-json-report and passed" in p for p in run.problems), run.problems


def test_a_report_no_one_keeps_is_not_written_only_its_digest(project: Any, tmp_path: Path) -> None:
    """With --test-gate-digest-only (a run whose report stays in the scratch folder) only the
    digest is saved, the same digest, and the gate reads the run as it reads it with the
    report beside it."""
    from test_gate.read.run_files import read_run_files

    root = project({"tests/test_a.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 0\n"})
    found = {}
    for only in (False, True):
        report, record = tmp_path / f"{only}.json", tmp_path / f"{only}.jsonl"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
             "--test-gate", f"--test-gate-run-id={only}", f"--test-gate-record={record}",
             "--json-report", "--json-report-file=none", f"--test-gate-report={report}",
             *(["--test-gate-digest-only"] if only else [])],
            cwd=root, env=clean_env(), capture_output=True, check=False,
        )  # fmt: skip
        assert report.is_file() is not only
        digest = json.loads((tmp_path / f"{only}.json.digest").read_text())
        run = read_run_files(report, record, str(only))
        assert run.problems == ()
        found[only] = (
            digest["plainly_passed"],
            [(t["nodeid"], t["outcome"]) for t in digest["tests"]],
            digest["summary"],
            [(t.nodeid, t.outcome) for t in run.tests],
        )
    assert found[True] == found[False]
