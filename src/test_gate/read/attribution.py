"""Attribution of ignored test files: the line that ignores each one, and the tests it holds.

The plugin inside pytest records facts only: which rule ignored a path, with which pattern, from
which file or origin. Here, after pytest and outside of it, each rule is traced to its line (a
config file's `addopts` or `norecursedirs` entry, a conftest.py `collect_ignore` entry, a hook,
a workflow's pytest command; `config_lines`) and each ignored file's tests are counted from its
source, never by importing it (`test_count`). This module is the one that reads the files.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pytest_test_gate.protocol import NOT_NEWS, WALK_LIMIT

from test_gate.read.files import read_text
from test_gate.read.records import CollectSettings, IgnoredPath, NeverRan, RunData

# the readers of configuration lines and of test files (config_lines, test_count) are
# imported by the functions that read them: most runs ignore nothing, and never read one

# -- reading the project -------------------------------------------------------------------------


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


def find_test_files(path: Path, patterns: Sequence[str], limit: int = WALK_LIMIT) -> list[Path]:
    """The test files under a directory, by `python_files`, never inside a virtualenv."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    seen = 0
    for here, dirs, files in os.walk(path):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in NOT_NEWS and not d.startswith(".") and not _is_venv(Path(here, d))
        )
        for name in sorted(files):
            seen += 1
            if seen > limit:
                return found
            if name.endswith(".py") and any(fnmatch.fnmatch(name, p) for p in patterns):
                found.append(Path(here, name))
    return found


def git_root(start: Path) -> Path | None:
    for here in (start, *start.parents):
        if (here / ".git").exists():
            return here
    return None


def git_ignored(path: Path) -> bool:
    """Whether git ignores `path` (a build artifact, not the project's own tests)."""
    try:
        done = subprocess.run(
            ["git", "check-ignore", "-q", str(path)],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def workflow_files(root: Path, current: str = "") -> list[Path]:
    """The repository's workflow files; the running one (GITHUB_WORKFLOW_REF) first."""
    top = git_root(root) or root
    folder = top / ".github" / "workflows"
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    running = current.split("@", 1)[0]
    return sorted(
        files, key=lambda p: not (running and running.endswith(p.relative_to(top).as_posix()))
    )


def _read(path: Path) -> str | None:
    """A project file: a regular file within the bound, or nothing (never a FIFO, a device)."""
    return read_text(path)


def _shown(path: Path, root: Path) -> str:
    """A path for people: relative to the rootdir, else to the repository root."""
    for base in (root, git_root(root)):
        if base is None:
            continue
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


@dataclass(frozen=True)
class Context:
    """What attribution needs beside the report: read once at the edge."""

    workflow_ref: str = ""  # GITHUB_WORKFLOW_REF
    is_git_ignored: Callable[[Path], bool] = git_ignored

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Context:
        env = os.environ if env is None else env
        return cls(env.get("GITHUB_WORKFLOW_REF", ""))


def _locate(item: IgnoredPath, root: Path, ctx: Context) -> tuple[Path | None, int | None, str]:
    """(file, line, fallback text) of the rule that ignored `item`."""
    from test_gate.read.config_lines import (
        KEY_OF,
        OPTION_OF,
        find_config_line,
        find_def_line,
        find_list_entry_line,
        find_workflow_line,
    )

    config = Path(item.config_file) if item.config_file else None
    text = _read(config) if config else None
    if item.origin in ("addopts", "config") and config and text is not None:
        key = KEY_OF.get(item.mechanism, "addopts")
        return (
            config,
            find_config_line(text, key, item.pattern, OPTION_OF.get(item.mechanism, "")),
            "",
        )
    if item.origin == "conftest" and config and text is not None:
        return config, find_list_entry_line(text, item.mechanism, item.pattern), ""
    if item.origin == "hook" and config and text is not None:
        return config, find_def_line(text, "pytest_ignore_collect"), ""
    if item.origin in ("command line", "PYTEST_ADDOPTS"):
        option = "-o" if item.mechanism == "norecursedirs" else item.mechanism
        for workflow in workflow_files(root, ctx.workflow_ref):
            wtext = _read(workflow)
            line = find_workflow_line(wtext, option, item.pattern) if wtext else None
            if line is not None:
                return workflow, line, ""
        if item.origin == "PYTEST_ADDOPTS":
            return None, None, "PYTEST_ADDOPTS environment variable"
        return None, None, "command line"
    if item.origin == "pytest default":
        return None, None, "pytest's default norecursedirs"
    return None, None, item.source or ""


def _count(file: Path, settings: CollectSettings) -> tuple[int | None, bool]:
    """(tests, exact) in a file, counted from its source; (None, False) when unreadable."""
    from test_gate.read.test_count import count_tests

    text = _read(file)
    if text is None:
        return None, False
    return count_tests(text, settings.python_functions, settings.python_classes)


def attribute_one(
    item: IgnoredPath, root: Path, settings: CollectSettings, ctx: Context
) -> IgnoredPath | None:
    """The item with its source line and test count; None when it is not news after all:
    a directory skipped by `norecursedirs` that git ignores (a build output, a cache) is not
    part of the project, and a checkout in CI does not even have it."""
    target = root / item.path.rstrip("/")
    if item.mechanism == "norecursedirs" and ctx.is_git_ignored(target):
        return None
    files = find_test_files(target, settings.python_files) if target.exists() else []
    tests: int | None = 0 if files else item.tests
    exact = bool(files)
    for file in files:
        found, file_exact = _count(file, settings)
        exact = exact and file_exact
        if found is None:
            exact = False
        elif tests is not None:
            tests += found
    where, line, fallback = _locate(item, root, ctx)
    if where is not None:
        shown = _shown(where, root)
        source = f"{shown}:{line}" if line else shown
        # annotations can only point into the repository
        inside = git_root(root) or root
        source_file = _relative(where, root) if inside in (where, *where.parents) else ""
    else:
        source, source_file = fallback, ""
    return replace(
        item,
        source=source,
        source_file=source_file,
        source_line=line if where is not None else None,
        tests=tests,
        files=len(files) if target.is_dir() else 1,
        estimate=not exact,
    )


def _never_ran_one(item: NeverRan, root: Path, settings: CollectSettings) -> NeverRan:
    from test_gate.read.config_lines import find_list_entry_line
    from test_gate.read.test_count import count_tests

    target = root / item.path
    text = _read(target) if target.is_file() else None
    if text is None:
        return item
    line = item.line
    if line is None and item.how == "module-level skip mark":
        line = find_list_entry_line(text, "pytestmark", "")
    if item.tests is not None:
        return replace(item, line=line)
    tests, exact = count_tests(text, settings.python_functions, settings.python_classes)
    return replace(item, line=line, tests=tests, estimate=not exact)


LOOKS_LIKE_TESTS = ("test*.py", "*test.py", "*tests.py")  # names a person gives test files
MAX_UNMATCHED = 3


def unmatched_test_files(root: Path, settings: CollectSettings, ctx: Context) -> tuple[str, ...]:
    """Files named like tests that hold tests by their code, and that python_files does not
    match (`tests/test.py` beside the default `test_*.py`): why a run collected nothing."""
    out: list[str] = []
    for file in find_test_files(root, LOOKS_LIKE_TESTS):
        if any(fnmatch.fnmatch(file.name, p) for p in settings.python_files):
            continue
        found, exact = _count(file, settings)
        if found and not ctx.is_git_ignored(file):
            out.append(f"{_relative(file, root)} ({'' if exact else '~'}{found} tests)")
            if len(out) == MAX_UNMATCHED:
                break
    return tuple(out)


def attribute(run: RunData, ctx: Context | None = None) -> RunData:
    """Fill in the source line and test count of every ignored path, and the test count of
    every module that never ran; when nothing was collected, the files that look like tests
    and that python_files does not match. Without the project on disk, the report stays as
    it is."""
    root = Path(run.root) if run.root else None
    if root is None or not root.is_dir():
        return run
    ctx = ctx or Context.from_env()
    settings = run.collect_settings or CollectSettings()
    if run.exit_code == 5 and not run.tests:  # pytest's own "no tests were collected"
        run = replace(run, unmatched=unmatched_test_files(root, settings, ctx))
    if not (run.ignored or run.never_ran):
        return run
    ignored = [attribute_one(i, root, settings, ctx) for i in run.ignored]
    return replace(
        run,
        ignored=tuple(i for i in ignored if i is not None),
        never_ran=tuple(_never_ran_one(n, root, settings) for n in run.never_ran),
    )
