"""Ignored files in the verdict, the summary, the annotations and the result."""

from __future__ import annotations

from conftest import gate_result

from test_gate.analyse.verdict import Policy, decide
from test_gate.read import records
from test_gate.read.records import (
    Attempt,
    DeselectedFile,
    IgnoredPath,
    NeverRan,
    Outcome,
    RunData,
)
from test_gate.read.report import merge, read_report, read_unrun
from test_gate.render import annotations as notes
from test_gate.render import result_json, summary
from test_gate.render import unrun as render

PASSED = records.TestRecord(
    "tests/test_ok.py::test_a", "tests/test_ok.py", 1, (Attempt(Outcome.PASSED),), 0
)


def ignored(path: str, files: int = 1, **kw: object) -> IgnoredPath:
    fields: dict[str, object] = {
        "mechanism": "--ignore",
        "pattern": path,
        "source": "pyproject.toml:7",
        "source_file": "pyproject.toml",
        "source_line": 7,
        "tests": 3,
        "files": files,
    }
    fields.update(kw)
    return IgnoredPath(path, **fields)  # type: ignore[arg-type]


def run_with(*items: IgnoredPath, **kw: object) -> RunData:
    return RunData(tests=(PASSED,), collected=1, exit_code=0, ignored=items, **kw)  # type: ignore[arg-type]


def test_max_ignored_counts_each_file_of_an_ignored_directory() -> None:
    run = run_with(ignored("tests/legacy/", files=3), ignored("tests/test_x.py"))
    assert decide(run, Policy()).passed  # default: report only
    assert decide(run, Policy(max_ignored=4)).passed
    verdict = decide(run, Policy(max_ignored=3))
    assert not verdict.passed and not verdict.blind
    assert verdict.reasons == (
        "4 test file(s) are ignored, more than the allowed 3 (--max-ignored): "
        "tests/legacy/, tests/test_x.py",
    )
    assert not decide(run_with(ignored("tests/test_x.py")), Policy(max_ignored=0)).passed
    assert decide(run_with(), Policy(max_ignored=0)).passed


def test_summary_table_escapes_what_it_shows() -> None:
    hostile = ignored("tests/test_`a|b`.py", source="conftest.py:3")
    page = summary.render(gate_result(run_with(hostile)))
    assert "### Ignored test files (1)" in page
    row = next(line for line in page.splitlines() if "test_" in line and line.startswith("| "))
    assert row.count(" | ") == 3  # four cells: the pipe in the name is escaped
    assert row.startswith("| ``tests/test_`a\\|b`.py`` | 3 |")


def test_directory_rows_say_how_many_files_and_estimates_say_so() -> None:
    item = ignored("tests/legacy/", files=2, estimate=True, tests=5)
    cells = render.ignored_row(item)
    assert cells[0] == "`tests/legacy/ (2 files)`"
    assert cells[1] == "~5"


def test_deselected_and_never_ran_sections_follow_the_ignored_table() -> None:
    run = run_with(
        ignored("tests/test_x.py"),
        deselected_files=(DeselectedFile("tests/test_k.py", "-k not slow", 2),),
        never_ran=(NeverRan("tests/test_db.py", "skipped while importing", "no db", 3, 4),),
    )
    page = summary.render(gate_result(run))
    order = [
        page.index(title)
        for title in (
            "Ignored test files",
            "Deselected tests (2 in 1 files)",
            "Collected but never ran (1 modules)",
        )
    ]
    assert order == sorted(order)
    assert "| `tests/test_db.py:3` | 4 | skipped while importing | no db |" in page


def test_one_warning_per_ignored_file_on_its_line_within_the_shared_budget() -> None:
    flaky = records.TestRecord(
        "tests/test_f.py::test_f",
        "tests/test_f.py",
        2,
        (Attempt(Outcome.FAILED, "boom"), Attempt(Outcome.PASSED)),
        1,
    )
    items = [ignored(f"tests/test_{n}.py", source_line=n) for n in range(1, 13)]
    run = RunData(tests=(PASSED, flaky), collected=2, exit_code=0, ignored=tuple(items))
    out = notes.from_verdict(decide(run, Policy()), render.warnings_for(run))
    warnings = [a for a in out if a.level == "warning"]
    assert len(warnings) == notes.PER_LEVEL
    assert warnings[0].title.startswith("Flaky test")
    first = warnings[1]
    assert (first.file, first.line, first.title) == (
        "pyproject.toml",
        1,
        "Ignored test file: tests/test_1.py",
    )
    assert (warnings[2].file, warnings[2].line) == ("pyproject.toml", 2)
    assert "tests/test_2.py (3 tests) never runs: --ignore tests/test_2.py" in warnings[2].message
    assert out[-1].level == "notice" and "3 warnings more" in out[-1].message


def test_an_ignored_file_without_a_known_line_has_no_location() -> None:
    item = ignored("tests/test_x.py", source="command line", source_file="", source_line=None)
    note = render.annotation(item)
    assert (note.file, note.line) == ("", None)
    assert note.message.endswith("at command line")


def test_result_json_carries_the_details() -> None:
    run = run_with(
        ignored("tests/legacy/", files=2),
        never_ran=(NeverRan("tests/test_db.py", "skipped while importing", "no db", 3, 4),),
    )
    data = result_json.data(gate_result(run))
    assert data["ignored"][0] == {
        "path": "tests/legacy/",
        "mechanism": "--ignore",
        "source": "pyproject.toml:7",
        "tests": 3,
        "files": 2,
        "pattern": "tests/legacy/",
        "origin": "",
        "line": 7,
        "tests_estimated": False,
    }
    assert data["ignored_files"] == 2
    assert data["never_ran"][0]["path"] == "tests/test_db.py"
    assert data["deselected_by_file"] == []


SECTION = {
    "rootdir": "/repo",
    "ignored": [
        {
            "path": "tests/test_x.py",
            "mechanism": "--ignore",
            "pattern": "tests/test_x.py",
            "origin": "addopts",
            "config_file": "/repo/pyproject.toml",
        },
        "not a dict",
    ],
    "deselected_by_file": [{"path": "tests/test_k.py", "mechanism": "-m slow", "count": 2}],
    "never_ran": [{"path": "tests/test_m.py", "how": "skipped while importing", "line": "x"}],
    "collect_settings": {"python_files": ["check_*.py"], "python_functions": 7},
}


def test_read_unrun_keeps_what_is_well_formed() -> None:
    run = read_unrun(SECTION)
    assert [(i.path, i.origin, i.config_file) for i in run.ignored] == [
        ("tests/test_x.py", "addopts", "/repo/pyproject.toml")
    ]
    assert run.deselected_files == (DeselectedFile("tests/test_k.py", "-m slow", 2),)
    assert run.never_ran[0].line is None
    assert run.collect_settings is not None
    assert run.collect_settings.python_files == ("check_*.py",)
    assert run.collect_settings.python_functions == ("test",)
    assert run.root == "/repo"


def test_shards_list_an_ignored_file_once() -> None:
    report = {"tests": [], "test_gate": {**SECTION, "reports": [], "collected": 0}}
    one = read_report(report, source="a.json")
    two = read_report(report, source="b.json")
    assert [i.path for i in merge([one, two]).ignored] == ["tests/test_x.py"]
