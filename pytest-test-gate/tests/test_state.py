"""The state watch: what each test left changed, on real pytest runs (pytester)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def changes(pytester: pytest.Pytester, *args: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Each test that changed state: its changes by key, from the record file's events."""
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", f"--test-gate-record={path}", *args
    )
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "state":
            out[event["nodeid"]] = {c["key"]: c for c in event["changes"]}
    return out


def test_what_a_test_leaves_changed_is_recorded_and_what_it_restores_is_not(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        registry="HANDLERS = {}\nMODE = 'lenient'\n",
        test_state="""
            import logging
            import os
            import signal
            import sys
            import registry

            def test_env():
                os.environ["TG_BILLING_MODE"] = "strict"

            def test_env_restored(monkeypatch):
                monkeypatch.setenv("TG_OTHER", "x")

            def test_registry():
                registry.HANDLERS["csv"] = len

            def test_rebound():
                registry.MODE = "strict"

            def test_logger():
                logging.getLogger("tg.app").setLevel(logging.ERROR)

            def test_signal():
                signal.signal(signal.SIGUSR2, lambda *args: None)

            def test_imports():
                import html.parser  # noqa: F401

            def test_path():
                sys.path.append("/nowhere/tg")

            def test_clean():
                pass
        """,
    )
    found = changes(pytester)
    assert found["test_state.py::test_env"]["os.environ['TG_BILLING_MODE']"] == {
        "key": "os.environ['TG_BILLING_MODE']",
        "before": "unset",
        "after": "'strict'",
    }
    assert "test_state.py::test_env_restored" not in found
    registry = found["test_state.py::test_registry"]["registry.HANDLERS"]
    assert registry["after"] == "gained 'csv'" and registry["gained"] == ["'csv'"]
    assert found["test_state.py::test_rebound"]["registry.MODE"]["before"] == "'lenient'"
    logger = found["test_state.py::test_logger"]["logging: logger 'tg.app' level"]
    assert (logger["before"], logger["after"]) == ("NOTSET", "ERROR")
    assert "signal handler of SIGUSR2" in found["test_state.py::test_signal"]
    assert "'html.parser'" in found["test_state.py::test_imports"]["sys.modules"]["gained"]
    assert "sys.path" in found["test_state.py::test_path"]
    assert "test_state.py::test_clean" not in found


def test_a_fixture_that_fills_another_fixtures_container_is_named(
    pytester: pytest.Pytester,
) -> None:
    """An autouse conftest fixture that fills a session fixture's dict (semver's
    doctest_namespace): the change is named with that fixture and its conftest line."""
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def namespace():
            return {}

        @pytest.fixture(autouse=True)
        def fill(namespace):
            namespace["Version"] = object
        """
    )
    pytester.makepyfile(test_a="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    found = changes(pytester)
    change = found["test_a.py::test_a"]["fixture 'namespace' (session)"]
    assert change["gained"] == ["'Version'"]
    assert change["by"] == "fixture 'fill' (conftest.py:7)"
    assert "test_a.py::test_b" not in found  # filled once


def test_a_watched_container_is_the_tests_own_change_and_a_fixture_that_failed_is_not_watched(
    pytester: pytest.Pytester,
) -> None:
    """Looked at as each fixture is about to run and as the test's call starts: what the
    last fixture did is that fixture's; what the test's call did is the test's; a broader
    fixture asked for in the call is watched from then on; one that failed is not."""
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="module")
        def registry():
            return []

        @pytest.fixture(scope="session")
        def broken():
            raise RuntimeError("no service")

        @pytest.fixture(scope="session")
        def late():
            return {"a": 1}

        @pytest.fixture
        def plain(registry):
            return 1
        """
    )
    pytester.makepyfile(
        test_a="""
        def test_fill(plain, registry):
            registry.append(1)

        def test_broken(broken):
            pass

        def test_late(request):
            request.getfixturevalue("late")["b"] = 2

        def test_late_again(late):
            late["c"] = 3
        """
    )
    found = changes(pytester)
    fill = found["test_a.py::test_fill"]["fixture 'registry' (module)"]
    assert (fill["before"], fill["after"]) == ("0 items", "1 items") and "by" not in fill
    assert "test_a.py::test_broken" not in found
    assert "test_a.py::test_late" not in found  # watched from the end of the test that asked
    late = found["test_a.py::test_late_again"]["fixture 'late' (session)"]
    assert late["gained"] == ["'c'"] and "by" not in late


def test_a_cached_function_and_a_class_flag_are_state(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        engine="""
            import functools

            class Parser:
                packrat = False
                def parse(self):
                    return 1

            @functools.lru_cache(maxsize=None)
            def glibc():
                return (2, 17)
        """,
        test_b="""
            import engine

            def test_cache():
                engine.glibc()

            def test_flag():
                engine.Parser.packrat = True
        """,
    )
    found = changes(pytester)
    assert found["test_b.py::test_cache"]["engine.glibc (its cache)"]["after"] == "1 results"
    flag = found["test_b.py::test_flag"]["engine.Parser.packrat"]
    assert (flag["before"], flag["after"]) == ("False", "True")


def test_under_xdist_each_worker_sends_what_its_tests_changed(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(test_x="import os\n\ndef test_env():\n    os.environ['TG_XDIST'] = 'on'\n")
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess("-p", "no:randomly", "-n", "1", f"--test-gate-record={path}")
    events = [json.loads(line) for line in path.read_text().splitlines()]
    [state] = [e for e in events if e["event"] == "state"]
    assert state["nodeid"] == "test_x.py::test_env" and state["worker"] == "gw0"
    assert state["changes"][0]["key"] == "os.environ['TG_XDIST']"


CHURN = "fd, name = tempfile.mkstemp()\n    os.close(fd)\n    os.remove(name)\n"


def busy_temp_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temp directory of a thousand entries, for tests that each move it (CHURN), as another
    process on a shared machine would."""
    busy = tmp_path / "busy"
    busy.mkdir()
    for number in range(1000):
        (busy / f"entry-{number}").touch()
    monkeypatch.setenv("TMPDIR", str(busy))


def test_a_busy_temp_directory_is_looked_at_less_often_and_the_record_says_so(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # after 16 looks in a row that name nothing, one look in 25 tests that move it
    busy_temp_directory(tmp_path, monkeypatch)
    churn = CHURN
    pytester.makepyfile(
        test_busy=f"import os\nimport tempfile\n\nimport pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range(20))\ndef test_churn(n):\n    {churn}\n\n"
        "def test_leaves_a_file():\n"
        "    open(os.path.join(tempfile.gettempdir(), 'left-behind'), 'w').close()\n\n\n"
        f"@pytest.mark.parametrize('n', range(30))\ndef test_after(n):\n    {churn}"
    )
    found = changes(pytester)
    # looked at once for the 25 tests that moved it: the file is named, by the test that looked
    assert list(found) == ["test_busy.py::test_after[19]"]
    change = found["test_busy.py::test_after[19]"]["files in the temp directory"]
    assert change["gained"] == ["'left-behind'"]
    finish = [
        json.loads(line)
        for line in (pytester.path / "record.jsonl").read_text().splitlines()
        if '"finish"' in line
    ]
    busy_note, laid_note = finish[0]["state_watch_notes"]
    assert "1000 entries" in busy_note and "16 tests in a row" in busy_note
    assert "once in 25 tests" in busy_note
    assert (
        "laid at the door of the test that looked" in laid_note
        and "any of the 25 tests up to it" in laid_note
    )


def test_a_busy_temp_directory_is_looked_at_when_left_still_and_as_the_run_ends(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file made while the watch looks less often, and the next 16 tests leave the directory
    # still: looked at then, the file is laid at the door of the test that moved it last; and
    # one made by the last tests that moved it is looked at as the session ends
    busy_temp_directory(tmp_path, monkeypatch)
    leave = "open(os.path.join(tempfile.gettempdir(), '{}'), 'w').close()"
    pytester.makepyfile(
        test_busy=f"import os\nimport tempfile\n\nimport pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range(20))\ndef test_churn(n):\n    {CHURN}\n\n"
        f"def test_leaves_a_file():\n    {leave.format('left-behind')}\n\n\n"
        "@pytest.mark.parametrize('n', range(16))\ndef test_still(n):\n    pass\n\n\n"
        f"@pytest.mark.parametrize('n', range(20))\ndef test_more(n):\n    {CHURN}\n\n"
        f"def test_leaves_another():\n    {leave.format('left-last')}\n"
    )
    found = changes(pytester)
    assert list(found) == ["test_busy.py::test_leaves_a_file", "test_busy.py::test_leaves_another"]
    for test, name in (("a_file", "left-behind"), ("another", "left-last")):
        change = found[f"test_busy.py::test_leaves_{test}"]["files in the temp directory"]
        assert change["gained"] == [repr(name)]


def test_under_xdist_a_workers_note_on_a_busy_directory_reaches_the_record(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    busy_temp_directory(tmp_path, monkeypatch)
    pytester.makepyfile(
        test_busy=f"import os\nimport tempfile\n\nimport pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range(20))\ndef test_churn(n):\n    {CHURN}"
    )
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess("-p", "no:randomly", "-n", "1", f"--test-gate-record={path}")
    [finish] = [json.loads(line) for line in path.read_text().splitlines() if '"finish"' in line]
    [note] = finish["state_watch_notes"]
    assert note.startswith("worker gw0: the temp directory (") and "16 tests in a row" in note
