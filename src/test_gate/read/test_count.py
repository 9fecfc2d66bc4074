"""Counting the tests of a test module from its source, by pytest's naming rules, without
importing it (an ignored file may not even import)."""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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
