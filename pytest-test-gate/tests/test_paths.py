"""Which directories hold test files: never a virtualenv, a cache or node_modules."""

from __future__ import annotations

from pathlib import Path

from pytest_test_gate.paths import fnmatch_ex, holds_test_files


def test_a_directory_with_a_test_file_holds_tests(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "test_x.py").write_text("")
    assert holds_test_files(tmp_path, ["test_*.py"])
    assert not holds_test_files(tmp_path, ["check_*.py"])


def test_virtualenvs_and_node_modules_are_not_news(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    (venv / "lib" / "test_vendored.py").write_text("")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "test_js.py").write_text("")
    assert not holds_test_files(tmp_path, ["test_*.py"])


def test_the_walk_is_bounded(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"a{i:02}.txt").write_text("")
    (tmp_path / "test_late.py").write_text("")
    assert not holds_test_files(tmp_path, ["test_*.py"], limit=5)


def test_norecursedirs_patterns_match_like_pytest() -> None:
    assert fnmatch_ex("build", Path("/r/build"))
    assert fnmatch_ex("tests/legacy", Path("/r/tests/legacy"))
    assert not fnmatch_ex("build", Path("/r/builder"))
