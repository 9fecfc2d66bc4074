"""Annotations: the most useful first, within the budget, then what is left."""

from __future__ import annotations

from render_helpers import failing, verdict_of

from test_gate.read.records import Attempt, Outcome, TestRecord
from test_gate.render import annotations


def test_annotations_respect_the_budget_and_say_what_is_left() -> None:
    flaky = [
        TestRecord(
            f"t.py::flaky_{i}",
            "t.py",
            i + 1,
            (Attempt(Outcome.FAILED, "x"), Attempt(Outcome.PASSED)),
            i,
        )
        for i in range(15)
    ]
    verdict = verdict_of([*failing(25), *flaky])
    notes = annotations.from_verdict(verdict)
    by_level = {
        level: [a for a in notes if a.level == level] for level in ("error", "warning", "notice")
    }
    assert len(by_level["error"]) == annotations.PER_LEVEL
    assert len(by_level["warning"]) == annotations.PER_LEVEL
    assert len(by_level["notice"]) == 1
    assert "16 errors, 5 warnings more" in by_level["notice"][0].message
    assert by_level["error"][0].title == "test-gate failed"
    assert by_level["error"][1].file == "tests/test_0.py" and by_level["error"][1].line == 1


def test_a_windows_crash_path_outside_the_repository_is_not_annotated() -> None:
    test = TestRecord(
        "tests/test_x.py::test_a",
        "tests/test_x.py",
        4,
        (Attempt(Outcome.FAILED, "boom", crash_path=r"C:\hostedtoolcache\lib.py", crash_line=9),),
        0,
    )
    [note] = [a for a in annotations.from_verdict(verdict_of([test])) if a.title.startswith("Test")]
    assert (note.file, note.line) == ("tests/test_x.py", 4)


def test_a_failure_annotation_says_the_exception_and_the_failing_line() -> None:
    longrepr = "def test_a():\n>       assert add(2, 2) == 5\nE       assert 4 == 5\n"
    test = TestRecord(
        "t.py::test_a", "t.py", 1, (Attempt(Outcome.FAILED, "assert 4 == 5", longrepr),), 0
    )
    assert annotations.failure_text(test, "failed") == "assert 4 == 5\n> assert add(2, 2) == 5"


def test_on_a_pull_request_the_files_it_changes_go_first() -> None:
    verdict = verdict_of(failing(30))  # tests/test_0.py ... tests/test_6.py
    changed = frozenset({"pkg/tests/test_5.py"})
    notes = annotations.from_verdict(verdict, changed=changed, prefix="pkg/")
    errors = [a for a in notes if a.level == "error" and a.file]
    assert {a.file for a in errors[:4]} == {"tests/test_5.py"}  # the 4 of 30 in that file
    assert errors[4].file != "tests/test_5.py"
    assert notes[-1].title == "test-gate: more in the job summary"
