"""The record of every attempt, in real pytest runs."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import sys
from pathlib import Path

import pytest
from record_helpers import read_events, record

from pytest_test_gate.protocol import PASSED, PLAIN_KEYS
from pytest_test_gate.recorder import REPORTED, _versions


def test_every_attempt_of_a_flaky_test_is_kept(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_f="""
        import pathlib

        def test_flaky(tmp_path_factory):
            marker = pathlib.Path(__file__).with_name("ran-once")
            if not marker.exists():
                marker.write_text("x")
                assert 0, "first time"
        """
    )
    data = record(pytester, "--reruns=2")
    calls = [(r["when"], r["outcome"]) for r in data["reports"] if r["when"] == "call"]
    assert calls == [("call", "rerun"), ("call", "passed")]
    failed = next(r for r in data["reports"] if r["outcome"] == "rerun")
    assert "first time" in failed["message"]


def test_collection_errors_and_deselection_are_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ok="def test_fast():\n    pass\n\ndef test_slow():\n    pass\n",
        test_broken="import nowhere_to_be_found\n",
    )
    data = record(pytester, "-k", "not slow", "--continue-on-collection-errors")
    assert [e["nodeid"] for e in data["collect_errors"]] == ["test_broken.py"]
    assert "nowhere_to_be_found" in data["collect_errors"][0]["message"]
    assert data["deselected"] == ["test_ok.py::test_slow"]
    assert (data["collected"], data["selected"]) == (2, 1)


def test_it_says_which_options_take_a_value(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--runslow", action="store_true")
            parser.addoption("--level", default="1")
        """
    )
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    data = record(pytester, "--level", "3", "--runslow", "test_a.py")
    options = data["options"]
    assert {"-k", "-m", "-p", "--level", "--reruns"} <= set(options["takes_value"])
    assert {"-v", "-x", "--runslow", "--test-gate"} <= set(options["flags"])
    assert data["file_or_dir"] == ["test_a.py"]
    assert data["args"][-3:] == ["--level", "3", "--runslow", "test_a.py"][-3:]


def test_a_long_message_is_cut_with_a_note(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_long='def test_long():\n    assert 0, "x" * 50_000\n')
    data = record(pytester)
    call = next(r for r in data["reports"] if r["when"] == "call")
    assert len(call["longrepr"]) < 21_000
    assert "cut by test-gate" in call["longrepr"]


def test_the_record_is_written_as_the_run_goes(pytester: pytest.Pytester) -> None:
    """A test that ends the process leaves every event before it, its own setup included."""
    pytester.makepyfile(
        test_a="def test_first():\n    pass\n\ndef test_exit():\n    import os\n    os._exit(0)\n"
    )
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess("-p", "no:randomly", f"--test-gate-record={path}")
    data = read_events(path)
    phases = [(r["nodeid"].split("::")[1], r["when"]) for r in data["reports"]]
    assert phases[:4] == [
        ("test_first", "setup"),
        ("test_first", "call"),
        ("test_first", "teardown"),
        ("test_exit", "setup"),
    ]
    assert "finished" not in data and data["selected"] == 2


def test_the_user_configuration_wins_over_test_gates_defaults(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = --reruns 3 --random-order-bucket=global\n")
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    data = record(pytester, "--test-gate-reruns=2", "--test-gate-bucket=module")
    assert data["chosen"]["reruns"] == {"value": 3, "by": "user", "option": "--reruns"}
    assert data["chosen"]["bucket"]["value"] == "global"
    assert data["chosen"]["bucket"]["by"] == "user"
    plain = record(pytester, "-o", "addopts=", "--test-gate-reruns=2", "--test-gate-bucket=class")
    assert plain["chosen"]["reruns"] == {"value": 2, "by": "test-gate", "option": "--reruns"}
    assert plain["chosen"]["bucket"]["value"] == "class"


@pytest.mark.parametrize("where", ["addopts", "args"])
def test_a_users_p_randomly_is_recorded_as_overridden(
    pytester: pytest.Pytester, where: str
) -> None:
    """test-gate turns pytest-randomly off whatever the user asked (its order is
    pytest-random-order's, with the recorded seed): the record says the user asked."""
    pytester.makepyfile(randomly="", test_a="def test_a():\n    pass\n")  # a plugin of that name
    if where == "addopts":
        pytester.makeini("[pytest]\naddopts = -p randomly\n")
    data = record(pytester, *(["-prandomly"] if where == "args" else []))
    assert data["chosen"]["randomly"] == {
        "value": "off",
        "by": "overridden",
        "option": "-p randomly",
    }
    assert "randomly" not in record(pytester, "-o", "addopts=")["chosen"]


def test_the_text_built_lines_say_what_the_reports_record_says(pytester: pytest.Pytester) -> None:
    """A plainly passing test's lines are built as text around its id: ids with quotes,
    backslashes, non-ASCII and control characters read back as the JSON report's record has
    them, and a test that does anything else still goes through the encoder."""
    pytester.makepyfile(
        test_a=(
            "import pytest\n\n"
            "@pytest.mark.parametrize('v', ['a\"b', 'c\\\\d', 'é', 'tab\\tnl\\n', '}{'])\n"
            "def test_odd(v):\n    pass\n\n"
            "def test_fails():\n    assert False\n\n"
            "@pytest.mark.skip(reason='r')\ndef test_skips():\n    pass\n"
        )
    )
    path, report = pytester.path / "record.jsonl", pytester.path / "report.json"
    pytester.runpytest_subprocess(
        "-p", "no:randomly", f"--test-gate-record={path}",
        "--json-report", f"--json-report-file={report}",
    )  # fmt: skip
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    from_file = read_events(path)["reports"]
    in_report = json.loads(report.read_text(encoding="utf-8"))["test_gate"]["reports"]
    plain = [r for r in from_file if r.keys() == PLAIN_KEYS]
    rows = [
        (r["nodeid"], w, s, r["location"]) for r in in_report if PASSED in r for w, s in r[PASSED]
    ]
    read_back = [(r["nodeid"], r["when"], r["duration"], r["location"]) for r in plain]
    assert sorted(read_back) == sorted(rows)
    ids = {r["nodeid"].split("::")[1] for r in plain}
    assert {'test_odd[a"b]', "test_odd[}{]"} <= ids
    assert len([i for i in ids if i.startswith("test_odd[")]) == 5
    others = [r for r in from_file if r not in plain]
    assert {(r["nodeid"].split("::")[1], r["outcome"]) for r in others} >= {
        ("test_fails", "failed"),
        ("test_skips", "skipped"),
    }


def test_the_versions_read_from_the_path_are_importlib_metadatas(tmp_path: Path) -> None:
    # a directory listed before the installed distributions, with a newer pytest-xdist in it
    # (named as an older wheel names it), an egg-info and a dist-info of nothing reported
    (tmp_path / "pytest_xdist-99.1.dist-info").mkdir()
    (tmp_path / "Pytest.Timeout-98.0.dist-info").mkdir()
    (tmp_path / "pytest_json_report-1.0-py3.egg-info").mkdir()
    (tmp_path / "other-1.0.dist-info").mkdir()
    names = (*REPORTED, "not-installed-anywhere")
    before = list(sys.path)
    sys.path.insert(0, str(tmp_path))
    try:
        found = _versions(names)
    finally:
        sys.path[:] = before
    assert found.pop("pytest-xdist") == "99.1"
    assert found.pop("pytest-timeout") == "98.0"
    expected = {}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            expected[name] = importlib.metadata.version(name)
    assert found == {k: v for k, v in expected.items() if k in found}
    assert set(found) == set(expected) - {"pytest-xdist", "pytest-timeout"}
    assert "not-installed-anywhere" not in found


HELD = """
import json, pytest

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    recorder = session.config.pluginmanager.get_plugin("test_gate_recorder")
    report = session.config._json_report.report
    with open("held.json", "w") as out:
        json.dump({"rows": len(recorder.reports), "section": "test_gate" in report}, out)
"""


@pytest.mark.parametrize(
    ("kept", "held"),
    [
        # the report is saved, and carries the record: test_a's row, and test_b's setup row,
        # failed call and teardown row
        ([], {"rows": 4, "section": True}),
        (["--test-gate-digest-only"], {"rows": 0, "section": False}),  # saved by no one
        # pytest-json-report saves it itself: the digest-only of test-gate's copy is not all
        (["--test-gate-digest-only", "--json-report-file=own.json"], {"rows": 4, "section": True}),
    ],
)
def test_a_report_no_one_keeps_holds_no_copy_of_the_record(
    pytester: pytest.Pytester, kept: list[str], held: dict[str, object]
) -> None:
    """The record file is the record: a report that is not kept gets no section, and the
    recorder holds no row of a test in memory to put there. The file is the same."""
    pytester.makeconftest(HELD)
    pytester.makepyfile(test_a="def test_a():\n    pass\n\ndef test_b():\n    assert 0\n")
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess(
        "-p", "no:randomly", f"--test-gate-record={path}", "--test-gate-run-id=r",
        "--json-report", "--json-report-file=none", "--test-gate-report=tg.json", *kept,
    )  # fmt: skip
    assert json.loads((pytester.path / "held.json").read_text()) == held
    events = read_events(path)
    assert [(r["nodeid"], r["when"], r["outcome"]) for r in events["reports"]] == [
        ("test_a.py::test_a", "setup", "passed"),
        ("test_a.py::test_a", "call", "passed"),
        ("test_a.py::test_a", "teardown", "passed"),
        ("test_a.py::test_b", "setup", "passed"),
        ("test_a.py::test_b", "call", "failed"),
        ("test_a.py::test_b", "teardown", "passed"),
    ]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="POSIX fork")
def test_a_forked_child_that_goes_on_writes_one_line_and_nothing_else(
    pytester: pytest.Pytester,
) -> None:
    """A child that returns from the test is a second pytest session: the record keeps the
    parent's run whole and says, in one line, that the session went on in a copy. A child
    that ends with os._exit (a multiprocessing worker) is not a copy that went on."""
    pytester.makepyfile(
        test_f="""
        import multiprocessing
        import os

        def test_a():
            pass

        def test_worker_ends():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)

        def test_pool():
            with multiprocessing.get_context("fork").Pool(2) as pool:
                assert pool.map(abs, [-1, -2]) == [1, 2]

        def test_fork():
            os.fork()

        def test_z():
            pass
        """
    )
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:random_order", f"--test-gate-record={path}"
    )
    events = [json.loads(line) for line in path.read_text().splitlines()]
    forked = [e for e in events if e["event"] == "forked"]
    assert len(forked) == 1
    assert forked[0]["nodeid"] == "test_f.py::test_fork"
    assert forked[0]["pid"] != forked[0]["parent"]
    starts = [e["nodeid"] for e in events if e["event"] == "test_start"]
    assert len(starts) == len(set(starts)) == 5  # the child's tests are not in the record
    assert [e["event"] for e in events].count("finish") == 1
    assert [e["event"] for e in events].count("start") == 1


def test_a_test_that_breaks_json_dumps_does_not_break_the_record(
    pytester: pytest.Pytester,
) -> None:
    """A polluter that replaces json.dumps and leaves it so: the record of every test after
    it, and the report's digest, are written all the same."""
    pytester.makepyfile(
        test_j="""
        import json

        def test_breaks():
            json.dumps = None
            assert 0, "left json.dumps broken"

        def test_after():
            pass
        """
    )
    data = record(pytester, "-p", "no:cacheprovider", "-p", "no:random_order")
    outcomes = {(r["nodeid"].split("::")[1], r["when"]): r["outcome"] for r in data["reports"]}
    assert outcomes[("test_breaks", "call")] == "failed"
    assert outcomes[("test_after", "call")] == "passed"
    assert "finished" in data
