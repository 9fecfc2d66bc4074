"""Counting tests from a module's source, without importing it."""

from __future__ import annotations

import textwrap

import pytest

from test_gate.read.test_count import count_tests


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


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
