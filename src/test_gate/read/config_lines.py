"""Where a rule is written: the line of a config file, conftest.py or workflow that holds it.

Pure functions of text: they find the line, they read nothing.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Sequence

PYTEST_SECTIONS = frozenset({"pytest", "tool:pytest", "tool.pytest", "tool.pytest.ini_options"})
OPTION_OF = {"--ignore": "--ignore", "--ignore-glob": "--ignore-glob"}
KEY_OF = {"--ignore": "addopts", "--ignore-glob": "addopts", "norecursedirs": "norecursedirs"}

_SECTION = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(?:[#;].*)?$")
_TABLE_ARRAY = re.compile(r"^\s*\[\[")


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
