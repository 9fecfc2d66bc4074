"""What never ran: ignored test files, deselected tests, modules that never ran."""

from __future__ import annotations

import pytest
from record_helpers import record


def test_an_ignored_test_file_names_its_rule_and_origin(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = --ignore=tests/test_off.py\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_on.py").write_text("def test_on():\n    pass\n")
    (pytester.path / "tests" / "test_off.py").write_text("def test_off():\n    pass\n")
    (pytester.path / "tests" / "helper.py").write_text("")
    data = record(pytester)
    [entry] = data["ignored"]
    assert entry["path"] == "tests/test_off.py"
    assert (entry["mechanism"], entry["origin"]) == ("--ignore", "addopts")
    assert entry["config_file"].endswith("tox.ini")


def test_collect_ignore_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('collect_ignore = ["test_old.py"]\n')
    pytester.makepyfile(
        test_old="def test_old():\n    pass\n", test_new="def test_new():\n    pass\n"
    )
    data = record(pytester)
    assert [(i["path"], i["mechanism"]) for i in data["ignored"]] == [
        ("test_old.py", "collect_ignore")
    ]


def test_deselected_tests_are_counted_per_file_with_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_k="def test_fast():\n    pass\n\ndef test_slow():\n    pass\n")
    data = record(pytester, "-k", "not slow")
    assert data["deselected_by_file"] == [
        {"path": "test_k.py", "mechanism": "-k not slow", "count": 1}
    ]


def test_a_module_skipped_while_importing_never_ran(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_db=(
            'import pytest\npytest.skip("no db", allow_module_level=True)\n\n'
            "def test_q():\n    pass\n"
        ),
        test_all_skipped='import pytest\n\n@pytest.mark.skip("later")\ndef test_x():\n    pass\n',
    )
    data = record(pytester)
    found = {n["path"]: n["how"] for n in data["never_ran"]}
    assert found == {
        "test_db.py": "skipped while importing",
        "test_all_skipped.py": "every test skipped",
    }


def test_collection_settings_are_recorded(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npython_files = check_*.py\n")
    pytester.makepyfile(check_a="def test_a():\n    pass\n")
    data = record(pytester)
    assert data["collect_settings"]["python_files"] == ["check_*.py"]


def test_an_ignored_folder_outside_the_paths_given_is_not_news(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nnorecursedirs = build\n")
    for folder in ("tests", "build/lib/pkg"):
        (pytester.path / folder).mkdir(parents=True)
        (pytester.path / folder / "test_x.py").write_text("def test_x():\n    pass\n")
    assert record(pytester, "tests")["ignored"] == []
    assert [i["path"] for i in record(pytester)["ignored"]] == ["build/"]


def test_a_directory_its_conftest_skipped_never_ran(pytester: pytest.Pytester) -> None:
    """A conftest.py's module-level skip drops its whole directory: pytest counts it as one
    skipped collector, not as a test, so the record says which directory and why."""
    bench = pytester.path / "tests" / "bench"
    bench.mkdir(parents=True)
    (bench / "conftest.py").write_text(
        'import pytest\npytest.skip("needs --bench", allow_module_level=True)\n'
    )
    (bench / "test_b.py").write_text("def test_b():\n    pass\n")
    (pytester.path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    data = record(pytester)
    assert data["never_ran"] == [
        {
            "path": "tests/bench/",
            "how": "directory skipped by its conftest.py",
            "reason": "tests/bench/conftest.py:2: needs --bench",
            "line": None,
            "tests": None,
        }
    ]
