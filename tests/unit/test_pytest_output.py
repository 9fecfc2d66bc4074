"""Why a run ended as it did, from what pytest printed and how the process ended."""

from __future__ import annotations

from test_gate.read.pytest_output import from_output, name_the_stop, root_causes, stopped_at
from test_gate.read.records import STOPPED_EARLY

CONFTEST = """\
ImportError while loading conftest '/r/tests/conftest.py'.
tests/conftest.py:1: in <module>
    import nowhere
E   ModuleNotFoundError: No module named 'nowhere'
"""
INTERNAL = """\
INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/v/lib/python3.11/site-packages/xdist/dsession.py", line 1, in loop
INTERNALERROR> ValueError: worker died
"""
CRASH = """\
============================== 2 passed in 0.01s ===============================
Traceback (most recent call last):
  File "/v/lib/python3.11/site-packages/pytest_jsonreport/plugin.py", line 230, in finish
AttributeError: 'Session' object has no attribute 'fspath'
"""
WARNING_BEFORE_THE_SESSION = """\
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/v/lib/python3.11/site-packages/_pytest/config/__init__.py", line 2489, in filters
  File "/usr/lib/python3.11/warnings.py", line 109, in _showwarnmsg
pytest.PytestConfigWarning: Failed to import filter module 'coverage': ignore::coverage.W
"""
CONFTEST_HOOK = """\
INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/v/lib/python3.11/site-packages/pluggy/_callers.py", line 1, in _multicall
INTERNALERROR>   File "/r/conftest.py", line 2, in pytest_configure
INTERNALERROR> RuntimeError: no
"""
A_CONFTEST_PLUGGY_REJECTS = """\
Traceback (most recent call last):
  File "/v/lib/python3.11/site-packages/pluggy/_manager.py", line 501, in _verify_hook
    raise PluginValidationError(
pluggy._manager.PluginValidationError: Plugin '/r/tests/conftest.py' for hook 'pytest_ignore'
hookimpl definition: pytest_ignore_collect(path, config)
Argument(s) {'path'} are declared in the hookimpl but can not be found in the hookspec
"""
A_TESTS_OWN_TRACEBACK = """\
Traceback (most recent call last):
ValueError: inside a test's captured output
=========================== 1 failed in 0.02s ===========================
"""


def test_the_printed_cause_in_one_line() -> None:
    assert from_output(CONFTEST) == (
        "conftest /r/tests/conftest.py could not be imported: "
        "ModuleNotFoundError: No module named 'nowhere'"
    )
    assert from_output(INTERNAL) == "pytest hit an internal error in xdist: ValueError: worker died"
    assert from_output(CRASH).startswith("pytest crashed in pytest_jsonreport after the tests ran")
    assert from_output(
        "ERROR: usage: pytest [options]\npytest: error: unrecognized arguments: --x\n"
    )
    assert from_output(A_TESTS_OWN_TRACEBACK) == ""


def test_a_stop_comes_first_and_names_the_running_test() -> None:
    common = {"exit_code": None, "seconds": 12.4, "tail": "", "finished": False}
    (cause,) = root_causes(stopped="timeout", running=["t.py::hang"], timeout=10, **common)
    assert cause == (
        "pytest did not finish within 12 s (--timeout 10 s) and was stopped: t.py::hang was running"
    )
    (cause,) = root_causes(stopped="SIGTERM", running=[], **common)
    assert cause.startswith("the run was cancelled (SIGTERM) after 12 s: no test was running")


def test_a_killed_or_vanished_process_is_said() -> None:
    killed = root_causes(
        exit_code=-9, stopped="", seconds=1, tail="", running=["t.py::big"], finished=False
    )
    assert killed[0].startswith("pytest was killed by SIGKILL")
    gone = root_causes(
        exit_code=0, stopped="", seconds=1, tail="", running=["t.py::x"], finished=False
    )
    assert "ended before its session did" in gone[0] and "t.py::x was running" in gone[0]
    assert root_causes(exit_code=1, stopped="", seconds=1, tail="", running=[], finished=True) == ()


def test_a_crash_names_the_innermost_frame_outside_the_standard_library() -> None:
    assert from_output(WARNING_BEFORE_THE_SESSION, began=False) == (
        "pytest crashed in _pytest before its session began: pytest.PytestConfigWarning: "
        "Failed to import filter module 'coverage': ignore::coverage.W"
    )
    assert from_output(CONFTEST_HOOK) == (
        "pytest hit an internal error in /r/conftest.py: RuntimeError: no"
    )


def test_a_pytest_that_ended_before_the_record_began_says_so_first() -> None:
    common = {"stopped": "", "seconds": 1, "running": [], "finished": True, "began": False}
    (cause,) = root_causes(exit_code=3, tail="", **common)
    assert cause == (
        "pytest ended before its session began (before pytest-test-gate started its record), "
        "with exit code 3; it printed nothing"
    )
    (cause,) = root_causes(exit_code=4, tail="collecting\nbye now\n\n", **common)
    assert cause.endswith("with exit code 4; its last line: bye now")
    # what pytest printed, when the gate recognises it, is the cause instead
    (cause,) = root_causes(exit_code=1, tail=WARNING_BEFORE_THE_SESSION, **common)
    assert cause.startswith("pytest crashed in _pytest before its session began")


def test_an_exception_whose_message_goes_on_over_lines_is_read_whole() -> None:
    assert from_output(A_CONFTEST_PLUGGY_REJECTS, began=False) == (
        "pytest crashed in pluggy before its session began: pluggy._manager."
        "PluginValidationError: Plugin '/r/tests/conftest.py' for hook 'pytest_ignore' "
        "hookimpl definition: pytest_ignore_collect(path, config) Argument(s) {'path'} are "
        "declared in the hookimpl but can not be found in the hookspec"
    )


STACKS = """\
Thread 0x00007f0000000001 (most recent call first):
  File "/r/tests/test_other_thread.py", line 9 in spin

Current thread 0x00007f7a7ee56b80 (most recent call first):
  File "/usr/lib/python3.11/time.py", line 1 in sleep
  File "/r/tests/conftest.py", line 12 in database
  File "/v/lib/python3.11/site-packages/_pytest/fixtures.py", line 1 in finish
"""


def test_a_stop_between_tests_says_where_the_project_code_was() -> None:
    at = stopped_at(STACKS, "/r")
    assert at == "tests/conftest.py:12 in database"
    assert stopped_at("", "/r") == stopped_at("Thread 0x1:\n", "/r") == ""
    common = {"exit_code": None, "seconds": 12.4, "tail": "", "finished": False, "at": at}
    (cause,) = root_causes(stopped="timeout", running=[], **common)
    assert cause.endswith("no test was running; pytest was at tests/conftest.py:12 in database")
    (cause,) = root_causes(stopped="timeout", running=["t.py::hang"], **common)
    assert cause.endswith("t.py::hang was running, at tests/conftest.py:12 in database")


def test_options_of_a_plugin_that_is_not_loaded_name_it_first() -> None:
    tail = (
        "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]\n"
        "pytest: error: unrecognized arguments: --test-gate --test-gate-run-id=1 -p x\n"
    )
    assert from_output(tail).startswith(
        "pytest rejected its arguments that test-gate gives pytest-test-gate, which this "
        "pytest has not loaded (a `-p no:NAME` in the pytest arguments or in addopts turns a "
        "plugin off): unrecognized arguments: --test-gate"
    )
    other = "ERROR: usage: pytest\npytest: error: unrecognized arguments: --cov=x\n"
    assert from_output(other) == "pytest rejected its arguments: unrecognized arguments: --cov=x"


def test_pytests_own_words_for_an_early_stop_replace_the_guess() -> None:
    problems = ("r.json: 3 test(s) were selected but only 1 ran (" + STOPPED_EARLY + ")", "other")
    tail = "!!!!!!!!!! stopping after 1 failures !!!!!!!!!!\n===== 1 failed in 0.1s =====\n"
    assert name_the_stop(problems, tail, []) == (
        "r.json: 3 test(s) were selected but only 1 ran (pytest stopped the session: stopping "
        "after 1 failures)",
        "other",
    )
    interrupted = name_the_stop(problems, "!!! KeyboardInterrupt !!!\n", ["t.py::x"])
    assert interrupted[0].endswith(
        "(pytest stopped the session: KeyboardInterrupt; t.py::x was running)"
    )
    # collection errors say it themselves; no banner, no change
    collecting = "!!!! Interrupted: 1 error during collection !!!!\n"
    assert name_the_stop(problems, collecting, []) == problems
    assert name_the_stop(problems, "", []) == problems


def test_a_record_gone_after_a_session_that_ran_is_not_a_session_that_never_began() -> None:
    common = {"stopped": "", "seconds": 1, "running": [], "finished": True, "began": False}
    tail = "tests/test_c.py ..\n============ 2 passed in 0.09s ============\n"
    (cause,) = root_causes(exit_code=0, tail=tail, **common)
    assert cause.startswith("pytest ran its session, and pytest-test-gate's record is gone")
