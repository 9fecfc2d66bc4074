"""Values from reports: paths in the flavour they were written in (a Windows runner's too)."""

from __future__ import annotations

import pytest

from test_gate.read.values import is_absolute, relative_posix


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        (r"D:\a\repo\repo\tests\test_x.py", r"D:\a\repo\repo", "tests/test_x.py"),
        (r"D:\elsewhere\lib.py", r"D:\a\repo\repo", r"D:\elsewhere\lib.py"),
        ("/home/runner/work/r/tests/t.py", "/home/runner/work/r", "tests/t.py"),
        ("tests/t.py", "/home/runner/work/r", "tests/t.py"),
        ("/usr/lib/python3/x.py", "/home/runner/work/r", "/usr/lib/python3/x.py"),
    ],
)
def test_crash_paths_are_made_relative_to_the_rootdir(path: str, root: str, expected: str) -> None:
    assert relative_posix(path, root) == expected


def test_absolute_in_either_flavour() -> None:
    assert is_absolute(r"D:\a\repo\x.py") and is_absolute("/x.py")
    assert not is_absolute("tests/x.py") and not is_absolute(r"tests\x.py")
