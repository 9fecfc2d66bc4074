"""Attribution: each ignored file gets the line that ignores it and its test count."""

from __future__ import annotations

import textwrap
from pathlib import Path

from test_gate.read.attribution import Context, attribute, find_test_files, workflow_files
from test_gate.read.records import CollectSettings, IgnoredPath, NeverRan, RunData


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


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
