"""Finding the line that holds a rule: config files, conftest.py lists, hooks, workflows."""

from __future__ import annotations

import textwrap

from test_gate.read.config_lines import (
    find_config_line,
    find_def_line,
    find_list_entry_line,
    find_workflow_line,
)


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
