"""What a victim saw that it would not see alone, ranked, from the run's state changes."""

from __future__ import annotations

from test_gate.analyse.suspects import (
    candidates,
    failure_text,
    left_by,
    suspects,
)
from test_gate.read.records import StateChange

PREFIX = ["t.py::a", "t.py::b", "t.py::c", "t.py::d"]


def change(nodeid: str, key: str, before: str, after: str, **kw: object) -> StateChange:
    return StateChange(nodeid, key, before, after, **kw)  # type: ignore[arg-type]


def test_a_value_set_back_by_the_prefix_is_not_a_suspect() -> None:
    changes = [
        change("t.py::a", "os.environ['MODE']", "unset", "'strict'"),
        change("t.py::b", "os.environ['MODE']", "'strict'", "unset"),
        change("t.py::c", "os.environ['TZ']", "unset", "'UTC'"),
    ]
    [found] = suspects(PREFIX, changes)
    assert (found.key, found.was, found.now, found.by) == (
        "os.environ['TZ']",
        "unset",
        "'UTC'",
        ("t.py::c",),
    )
    assert found.text == "os.environ['TZ'] = 'UTC' (was unset)"


def test_what_the_failure_names_comes_first_then_the_latest() -> None:
    changes = [
        change("t.py::a", "os.environ['BILLING_MODE']", "unset", "'strict'"),
        change("t.py::c", "logging: logger 'app' level", "NOTSET", "ERROR"),
        change("t.py::d", "the working directory", "'/src'", "'/tmp/x'"),
    ]
    ranked = suspects(PREFIX, changes, failure="assert 'strict' == 'lenient'")
    assert ranked[0].key == "os.environ['BILLING_MODE']"
    # nothing named: the latest change first
    ranked = suspects(PREFIX, changes)
    assert ranked[0].key == "the working directory"
    # a file a relative path cannot find: the working directory, whatever the order
    moved = suspects(
        PREFIX,
        [*changes[:2], change("t.py::b", "the working directory", "'/src'", "'/tmp/x'")],
        failure="FileNotFoundError: [Errno 2] No such file or directory: 'data/x'",
    )
    assert moved[0].key == "the working directory"


def test_a_name_in_a_set_is_its_own_suspect_and_noise_counts_only_when_named() -> None:
    changes = [
        change("t.py::a", "sys.modules", "", "gained 'html.parser'", gained=("'html.parser'",)),
        change("t.py::b", "sys.modules", "", "gained 'json'", gained=("'json'",)),
        change("t.py::c", "app.registry.HANDLERS", "", "gained 'csv'", gained=("'csv'",)),
    ]
    # sys.modules grows in every run: only the name the failure mentions is a suspect
    found = suspects(PREFIX, changes, failure="assert 'html.parser' not in {...}")
    assert [(s.key, s.now, s.by) for s in found] == [
        ("sys.modules", "gained 'html.parser'", ("t.py::a",)),
        ("app.registry.HANDLERS", "gained 'csv'", ("t.py::c",)),
    ]
    assert [s.key for s in suspects(PREFIX, changes)] == ["app.registry.HANDLERS"]


def test_the_victims_own_file_ranks_the_state_it_uses() -> None:
    changes = [
        change("t.py::a", "engine.Parser.packrat", "False", "True"),
        change("t.py::b", "other.CACHE", "0 items", "3 items"),
    ]
    found = suspects(PREFIX, changes, victim_source="from engine import Parser\n")
    assert [s.key for s in found] == ["engine.Parser.packrat", "other.CACHE"]
    # a word of the key's name in the failure (packrat, of Parser.packrat) names it
    found = suspects(PREFIX, changes, failure="AssertionError: True is not false : packrat")
    assert found[0].key == "engine.Parser.packrat"


def test_only_the_victims_worker_counts_and_tests_after_it_do_not() -> None:
    changes = [
        change("t.py::a", "os.environ['X']", "unset", "'1'", worker="gw1"),
        change("t.py::e", "os.environ['Y']", "unset", "'1'"),
    ]
    assert suspects(PREFIX, changes, worker="gw0") == []
    assert [s.key for s in suspects(PREFIX, changes, worker="gw1")] == ["os.environ['X']"]


def test_candidates_and_the_state_named_beside_a_polluter() -> None:
    changes = [
        change("t.py::a", "os.environ['MODE']", "unset", "'a'"),
        change("t.py::b", "os.environ['MODE']", "'a'", "'b'"),
        change(
            "t.py::c",
            "fixture 'ns' (session)",
            "",
            "gained 'V'",
            gained=("'V'",),
            by="fixture 'fill' (conftest.py:7)",
        ),
    ]
    found = suspects(PREFIX, changes, failure="NameError: name 'V' is not defined")
    assert candidates(found, 2) == ["t.py::c", "t.py::b"]
    assert candidates(found, 5) == ["t.py::c", "t.py::b", "t.py::a"]
    assert (
        found[0].text
        == "fixture 'ns' (session) gained 'V', set up by fixture 'fill' (conftest.py:7)"
    )
    assert [s.key for s in left_by(found, ["t.py::a"])] == ["os.environ['MODE']"]


def test_a_failure_is_read_for_code_and_errors_not_for_paths() -> None:
    longrepr = (
        "    def test_x():\n>       assert registry.available() == []\n"
        "E       AssertionError: assert ['csv'] == []\n\ntests/test_x.py:3: AssertionError"
    )
    text = failure_text("AssertionError: assert ['csv'] == []", longrepr)
    assert "registry.available()" in text and "tests/test_x.py" not in text
