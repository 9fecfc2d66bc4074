"""Attribution of ignored test files: the line that ignores each one, and the tests it holds.

The plugin inside pytest records facts only: which rule ignored a path, with which pattern, from
which file or origin. Here, after pytest and outside of it, each rule is traced to its line (a
config file's `addopts` or `norecursedirs` entry, a conftest.py `collect_ignore` entry, a hook,
a workflow's pytest command) and each ignored file's tests are counted from its source, never by
importing it. The finders are pure functions of text; `attribute` is the one that reads files.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pytest_test_gate.protocol import NOT_NEWS, WALK_LIMIT

from test_gate.read.records import CollectSettings, IgnoredPath, NeverRan, RunData

PYTEST_SECTIONS = frozenset({"pytest", "tool:pytest", "tool.pytest", "tool.pytest.ini_options"})
OPTION_OF = {"--ignore": "--ignore", "--ignore-glob": "--ignore-glob"}
KEY_OF = {"--ignore": "addopts", "--ignore-glob": "addopts", "norecursedirs": "norecursedirs"}

_SECTION = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(?:[#;].*)?$")
_TABLE_ARRAY = re.compile(r"^\s*\[\[")


# -- finding the line ---------------------------------------------------------------------------


def _token(value: str) -> re.Pattern[str]:
    """`value` as a whole word of a command line or a list: not part of a longer path."""
    return re.compile(r"(?<![\w./*?\[\]-])" + re.escape(value) + r"(?![\w./*?\[\]-])")


def _key_blocks(lines: Sequence[str], key: str) -> Iterator[tuple[int, int]]:
    """(first, end) line indexes of each `key = ...` entry inside a pytest section, with its
    continuation lines (indented ini lines, or the rest of a TOML array or string)."""
    in_pytest = False
    key_line = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=:]")
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _SECTION.match(line)
        if header and not _TABLE_ARRAY.match(line):
            in_pytest = header.group(1).strip().strip("\"'") in PYTEST_SECTIONS
            i += 1
            continue
        if in_pytest and key_line.match(line):
            end = i + 1
            while end < len(lines):
                nxt = lines[end]
                stripped = nxt.strip()
                if not stripped or stripped.startswith(("#", ";")):
                    end += 1
                    continue
                if nxt[0] in " \t]\"')-":
                    end += 1
                    continue
                break
            yield i, end
            i = end
            continue
        i += 1


def find_config_line(text: str, key: str, value: str, option: str = "") -> int | None:
    """1-based line of `value` inside the `key` entry of a pytest config section
    (pyproject.toml, pytest.ini, setup.cfg, tox.ini, pytest.toml); the key's own line when
    the value cannot be found in it; None when there is no such entry."""
    lines = text.splitlines()
    word = _token(value) if value else None
    first_key: int | None = None
    for start, end in _key_blocks(lines, key):
        if first_key is None:
            first_key = start + 1
        if word is None:
            continue
        hits = [n for n in range(start, end) if word.search(lines[n])]
        if option:
            opt = _token(option)
            for n in hits:
                if opt.search(lines[n]) or (n > start and opt.search(lines[n - 1])):
                    return n + 1
        if hits:
            return hits[0] + 1
    return first_key


def _names_assigned(node: ast.AST, name: str) -> bool:
    """Whether the statement assigns to, extends or appends to the module variable `name`."""
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return isinstance(node.target, ast.Name) and node.target.id == name
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == name
            and func.attr in ("append", "extend", "insert", "__iadd__")
        )
    return False


def find_list_entry_line(text: str, name: str, entry: str) -> int | None:
    """1-based line of `entry` in a conftest.py's `collect_ignore` (or `_glob`) list:
    the string constant that holds it, else the first statement that builds the list."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        match = re.search(rf"^\s*{re.escape(name)}\b", text, re.M)
        return text.count("\n", 0, match.start()) + 1 if match else None
    entry_posix = entry.replace(os.sep, "/")
    first: int | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or not _names_assigned(node, name):
            continue
        if first is None or node.lineno < first:
            first = node.lineno
        for const in ast.walk(node):
            if isinstance(const, ast.Constant) and isinstance(const.value, str) and const.value:
                value = const.value.replace(os.sep, "/").rstrip("/")
                if entry_posix.rstrip("/") == value or entry_posix.endswith("/" + value):
                    return const.lineno
    return first


def find_def_line(text: str, name: str) -> int | None:
    match = re.search(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def find_workflow_line(text: str, option: str, value: str) -> int | None:
    """1-based line of a workflow file that passes `option value` to pytest (in a run command,
    a `pytest-args` input or a PYTEST_ADDOPTS variable)."""
    opt, word = _token(option), _token(value)
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        if word.search(line) and (opt.search(line) or (n and opt.search(lines[n - 1]))):
            return n + 1
    return None


# -- counting tests without importing them -----------------------------------------------------


def _matches(name: str, options: Iterable[str]) -> bool:
    """pytest's rule for python_functions / python_classes: a prefix, or a glob."""
    for option in options:
        if name.startswith(option):
            return True
        if any(ch in option for ch in "*?[") and fnmatch.fnmatch(name, option):
            return True
    return False


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _literal_len(node: ast.AST | None) -> int | None:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(
        isinstance(e, ast.Starred) for e in node.elts
    ):
        return len(node.elts)
    return None


@dataclass
class _Count:
    tests: int = 0
    exact: bool = True


def _parametrize_factor(decorators: Iterable[ast.expr], count: _Count) -> int:
    factor = 1
    for dec in decorators:
        if not isinstance(dec, ast.Call) or not _dotted(dec.func).endswith("parametrize"):
            continue
        values = dec.args[1] if len(dec.args) > 1 else None
        for kw in dec.keywords:
            if kw.arg == "argvalues":
                values = kw.value
        size = _literal_len(values)
        if size is None:
            count.exact = False
            continue
        factor *= max(size, 1)  # an empty list still gives one (skipped) item
    return factor


def _fixture_params(tree: ast.Module, count: _Count) -> dict[str, int]:
    """Module fixtures with `params=`: each test that takes one runs once per param."""
    found: dict[str, int] = {}
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and _dotted(dec.func).endswith("fixture"):
                for kw in dec.keywords:
                    if kw.arg == "params":
                        size = _literal_len(kw.value)
                        if size is None:
                            count.exact = False
                        else:
                            found[node.name] = max(size, 1)
    return found


def _args(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]


def _is_testcase(node: ast.ClassDef) -> bool:
    return any(_dotted(b).endswith("TestCase") for b in node.bases)


def _dunder_test_false(body: Sequence[ast.stmt]) -> bool:
    for stmt in body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__test__" for t in stmt.targets)
            and isinstance(stmt.value, ast.Constant)
            and not stmt.value.value
        ):
            return True
    return False


def count_tests(
    text: str,
    functions: Sequence[str] = ("test",),
    classes: Sequence[str] = ("Test",),
) -> tuple[int | None, bool]:
    """(tests, exact) in a test module's source, per pytest's naming rules: test functions,
    test methods of test classes (and unittest TestCases), times literal `parametrize` lists
    and module fixtures' literal `params`. Not exact when a list is built at run time."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None, False
    count = _Count()
    if _dunder_test_false(tree.body):
        return 0, True
    params = _fixture_params(tree, count)
    classes_by_name = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def function_items(node: ast.FunctionDef | ast.AsyncFunctionDef, factor: int) -> int:
        total = factor * _parametrize_factor(node.decorator_list, count)
        for arg in _args(node):
            total *= params.get(arg, 1)
        return total

    def methods(cls: ast.ClassDef, seen: frozenset[str]) -> dict[str, ast.FunctionDef]:
        found: dict[str, ast.FunctionDef] = {}
        for base in cls.bases:
            name = _dotted(base)
            if name in classes_by_name and name not in seen:
                found.update(methods(classes_by_name[name], seen | {name}))
            elif name and not name.endswith(("TestCase", "object")):
                count.exact = False  # tests inherited from elsewhere are not seen
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[stmt.name] = stmt  # type: ignore[assignment]
        return found

    def class_items(cls: ast.ClassDef, factor: int) -> int:
        if _dunder_test_false(cls.body):
            return 0
        unittest_style = _is_testcase(cls)
        members = methods(cls, frozenset({cls.name}))
        if not unittest_style and "__init__" in members:
            return 0  # pytest does not collect a test class with __init__
        factor *= _parametrize_factor(cls.decorator_list, count)
        total = 0
        for name, method in members.items():
            wanted = name.startswith("test") if unittest_style else _matches(name, functions)
            if wanted:
                total += function_items(method, 1 if unittest_style else factor)
        for stmt in cls.body:
            if isinstance(stmt, ast.ClassDef) and _matches(stmt.name, classes):
                total += class_items(stmt, factor)
        return total

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _matches(node.name, functions):
                count.tests += function_items(node, 1)
        elif isinstance(node, ast.ClassDef) and (
            _is_testcase(node) or _matches(node.name, classes)
        ):
            count.tests += class_items(node, 1)
    return count.tests, count.exact


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
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


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
        text = _read(file)
        found, file_exact = (
            count_tests(text, settings.python_functions, settings.python_classes)
            if text is not None
            else (None, False)
        )
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


def attribute(run: RunData, ctx: Context | None = None) -> RunData:
    """Fill in the source line and test count of every ignored path, and the test count of
    every module that never ran. Without the project on disk, the report stays as it is."""
    root = Path(run.root) if run.root else None
    if root is None or not root.is_dir() or not (run.ignored or run.never_ran):
        return run
    ctx = ctx or Context.from_env()
    settings = run.collect_settings or CollectSettings()
    ignored = [attribute_one(i, root, settings, ctx) for i in run.ignored]
    return replace(
        run,
        ignored=tuple(i for i in ignored if i is not None),
        never_ran=tuple(_never_ran_one(n, root, settings) for n in run.never_ran),
    )
