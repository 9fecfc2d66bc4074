"""Finding the line that ignores a test file, and counting tests without importing them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from test_gate.read.attribution import (
    Context,
    attribute,
    count_tests,
    find_config_line,
    find_def_line,
    find_list_entry_line,
    find_test_files,
    find_workflow_line,
    workflow_files,
)
from test_gate.read.records import CollectSettings, IgnoredPath, NeverRan, RunData


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


PYPROJECT = dedent(
    """
    [project]
    name = "x"
    addopts = "--ignore=tests/test_a.py"

    [tool.pytest.ini_options]
    testpaths = ["tests"]
    addopts = "-q --ignore=tests/test_ab.py --ignore=tests/test_a.py"
    norecursedirs = ["legacy", "build"]

    [tool.other]
    addopts = "--ignore=tests/test_c.py"
    """
)


def test_pyproject_addopts_line_is_the_pytest_section_one() -> None:
    assert find_config_line(PYPROJECT, "addopts", "tests/test_a.py", "--ignore") == 7


def test_a_longer_path_does_not_match_a_shorter_value() -> None:
    text = '[tool.pytest.ini_options]\naddopts = "--ignore=tests/test_ab.py"\n'
    assert find_config_line(text, "addopts", "tests/test_a", "--ignore") == 2  # key line only
    assert find_config_line(text, "addopts", "tests/test_ab.py", "--ignore") == 2


def test_only_pytest_sections_count() -> None:
    assert find_config_line(PYPROJECT, "addopts", "tests/test_c.py", "--ignore") == 7
    text = "[tool.other]\naddopts = '--ignore=x.py'\n"
    assert find_config_line(text, "addopts", "x.py", "--ignore") is None


def test_toml_array_across_lines() -> None:
    text = dedent(
        """
        [tool.pytest.ini_options]
        addopts = [
            "-ra",
            "--ignore",
            "tests/test_slow.py",
        ]
        python_files = ["test_*.py"]
        """
    )
    assert find_config_line(text, "addopts", "tests/test_slow.py", "--ignore") == 5


def test_ini_continuation_lines() -> None:
    text = dedent(
        """
        [pytest]
        addopts =
            -ra
            --ignore-glob=tests/legacy_*/test_*.py
        # a comment
        markers = slow
        """
    )
    assert find_config_line(text, "addopts", "tests/legacy_*/test_*.py", "--ignore-glob") == 4
    assert find_config_line(text, "markers", "slow") == 6


def test_setup_cfg_norecursedirs() -> None:
    text = "[metadata]\nname = x\n\n[tool:pytest]\nnorecursedirs =\n    .git\n    integration\n"
    assert find_config_line(text, "norecursedirs", "integration") == 7


def test_conftest_list_entry_line() -> None:
    text = dedent(
        """
        import sys

        collect_ignore = [
            "setup.py",
            "test_legacy.py",
        ]
        if sys.version_info < (3, 99):
            collect_ignore.append("test_future.py")
        collect_ignore_glob = ["*_old.py"]
        """
    )
    assert find_list_entry_line(text, "collect_ignore", "test_legacy.py") == 5
    assert find_list_entry_line(text, "collect_ignore", "test_future.py") == 8
    assert find_list_entry_line(text, "collect_ignore_glob", "*_old.py") == 9
    # an entry built at run time: the statement that builds the list
    assert find_list_entry_line(text, "collect_ignore", "/abs/elsewhere.py") == 3


def test_conftest_entry_given_as_an_absolute_path() -> None:
    text = 'import os\ncollect_ignore = [os.path.join(os.path.dirname(__file__), "legacy")]\n'
    assert find_list_entry_line(text, "collect_ignore", "/repo/tests/legacy") == 2


def test_def_line() -> None:
    text = "import x\n\n\ndef pytest_ignore_collect(collection_path):\n    return None\n"
    assert find_def_line(text, "pytest_ignore_collect") == 4


def test_workflow_line() -> None:
    text = dedent(
        """
        jobs:
          test:
            steps:
              # - run: pytest --ignore=tests/test_x.py
              - uses: org/test-gate@v1
                with:
                  pytest-args: -q --ignore=tests/test_x.py
        """
    )
    assert find_workflow_line(text, "--ignore", "tests/test_x.py") == 7
    assert find_workflow_line(text, "--ignore", "tests/test_y.py") is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def test_a(): pass\ndef helper(): pass\nasync def test_b(): pass\n", (2, True)),
        (
            "import pytest\n@pytest.mark.parametrize('x', [1, 2, 3])\n"
            "@pytest.mark.parametrize('y', (1, 2))\ndef test_a(x, y): pass\n",
            (6, True),
        ),
        (
            "import pytest\nVALUES = range(4)\n@pytest.mark.parametrize('x', VALUES)\n"
            "def test_a(x): pass\n",
            (1, False),
        ),
        (
            "class TestA:\n    def test_1(self): pass\n    def test_2(self): pass\n"
            "    def helper(self): pass\n",
            (2, True),
        ),
        ("class TestA:\n    def __init__(self): pass\n    def test_1(self): pass\n", (0, True)),
        (
            "import unittest\nclass Checks(unittest.TestCase):\n    def test_1(self): pass\n"
            "    def check(self): pass\n",
            (1, True),
        ),
        (
            "import pytest\n@pytest.fixture(params=['a', 'b'])\ndef backend(request): ...\n"
            "def test_a(backend): pass\ndef test_b(): pass\n",
            (3, True),
        ),
        (
            "class TestBase:\n    def test_1(self): pass\n"
            "class TestMore(TestBase):\n    def test_2(self): pass\n",
            (3, True),
        ),
        ("__test__ = False\ndef test_a(): pass\n", (0, True)),
        ("def test_a(:\n", (None, False)),
    ],
)
def test_count_tests(source: str, expected: tuple[int | None, bool]) -> None:
    assert count_tests(source) == expected


def test_count_tests_follows_the_project_naming() -> None:
    source = "def check_a(): pass\ndef test_b(): pass\nclass Suite:\n    def check_c(self): pass\n"
    assert count_tests(source, functions=("check_*",), classes=("Suite",)) == (2, True)


def test_test_files_skip_virtualenvs_and_caches(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "test_one.py").write_text("")
    (tmp_path / "a" / "helper.py").write_text("")
    venv = tmp_path / "env"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    (venv / "lib" / "test_two.py").write_text("")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "test_three.py").write_text("")
    found = find_test_files(tmp_path, ("test_*.py",))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/test_one.py"]


def test_running_workflow_is_searched_first(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name in ("a.yml", "b.yaml", "notes.txt"):
        (folder / name).write_text("")
    (tmp_path / ".git").mkdir()
    found = workflow_files(tmp_path, "org/repo/.github/workflows/b.yaml@refs/heads/main")
    assert [p.name for p in found] == ["b.yaml", "a.yml"]


def test_attribute_fills_source_and_counts(tmp_path: Path) -> None:
    (tmp_path / "tests" / "old").mkdir(parents=True)
    (tmp_path / "tests" / "old" / "test_1.py").write_text("def test_a(): pass\n")
    (tmp_path / "tests" / "old" / "test_2.py").write_text(
        "def test_a(): pass\ndef test_b(): pass\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --ignore=tests/old\n")
    run = RunData(
        tests=(),
        root=str(tmp_path),
        ignored=(
            IgnoredPath(
                "tests/old/",
                "--ignore",
                pattern="tests/old",
                origin="addopts",
                config_file=str(tmp_path / "pytest.ini"),
            ),
        ),
    )
    done = attribute(run, Context())
    (item,) = done.ignored
    assert (item.source, item.source_file, item.source_line) == ("pytest.ini:2", "pytest.ini", 2)
    assert (item.tests, item.files, item.estimate) == (3, 2, False)


def test_attribute_drops_git_ignored_norecursedirs_matches(tmp_path: Path) -> None:
    (tmp_path / "build" / "lib").mkdir(parents=True)
    (tmp_path / "build" / "lib" / "test_copy.py").write_text("def test_a(): pass\n")
    item = IgnoredPath("build/", "norecursedirs", pattern="build", origin="pytest default")
    run = RunData(tests=(), root=str(tmp_path), ignored=(item,))
    assert attribute(run, Context(is_git_ignored=lambda p: True)).ignored == ()
    kept = attribute(run, Context(is_git_ignored=lambda p: False)).ignored
    assert [(i.path, i.source, i.tests) for i in kept] == [
        ("build/", "pytest's default norecursedirs", 1)
    ]


def test_attribute_without_the_project_keeps_the_report(tmp_path: Path) -> None:
    item = IgnoredPath("tests/test_x.py", "--ignore", source="", pattern="tests/test_x.py")
    run = RunData(tests=(), root=str(tmp_path / "gone"), ignored=(item,))
    assert attribute(run, Context()) is run


def test_never_ran_gets_count_and_mark_line(tmp_path: Path) -> None:
    (tmp_path / "test_m.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.skip('later')\n\ndef test_a(): pass\n"
    )
    run = RunData(
        tests=(),
        root=str(tmp_path),
        never_ran=(NeverRan("test_m.py", "module-level skip mark", "later"),),
        collect_settings=CollectSettings(),
    )
    (item,) = attribute(run, Context()).never_ran
    assert (item.line, item.tests, item.estimate) == (3, 1, False)


def test_a_rule_outside_the_repository_gets_no_annotation_location(tmp_path: Path) -> None:
    repo, elsewhere = tmp_path / "repo", tmp_path / "site-packages" / "plugin"
    (repo / ".git").mkdir(parents=True)
    (repo / "test_x.py").write_text("def test_a(): pass\n")
    elsewhere.mkdir(parents=True)
    (elsewhere / "hooks.py").write_text("def pytest_ignore_collect(collection_path):\n    ...\n")
    item = IgnoredPath(
        "test_x.py",
        "pytest_ignore_collect",
        origin="hook",
        config_file=str(elsewhere / "hooks.py"),
    )
    run = RunData(tests=(), root=str(repo), ignored=(item,))
    (done,) = attribute(run, Context()).ignored
    assert done.source == f"{(elsewhere / 'hooks.py').as_posix()}:1"
    assert (done.source_file, done.source_line) == ("", 1)
