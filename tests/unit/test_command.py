"""A long command is shown in lines joined by a backslash: the shell reads the same words."""

from __future__ import annotations

import shlex

from hypothesis import given
from hypothesis import strategies as st

from test_gate.render.command import words, wrapped

WORD = st.text(alphabet="abc-=/._ '\"&;$", min_size=1, max_size=30).map(shlex.quote)


@given(st.lists(WORD, min_size=1, max_size=30))
def test_the_shell_reads_the_same_words(given_words: list[str]) -> None:
    command = " ".join(given_words)
    shown = wrapped(command, width=40)
    # a backslash before a newline joins the lines: the shell drops both (POSIX 2.2.1)
    assert shlex.split(shown.replace("\\\n", "")) == shlex.split(command)
    # a line is over the width only when it holds one word, or a one-letter option and its value
    assert all(
        len(line) <= 40
        or len(words(line)) == 1
        or (line.lstrip().startswith("-") and len(words(line)) == 2)
        for line in shown.split(" \\\n")
    )


def test_a_real_command_keeps_its_operators() -> None:
    command = (
        "cd 'my project' && python -m pytest --rootdir=. -p no:randomly -p no:random_order "
        "'tests/test_a.py::test_x[a b]' tests/test_a.py::test_victim"
    )
    shown = wrapped(command)
    assert shown.count(" \\\n  ") >= 1
    assert shown.replace(" \\\n  ", " ") == command
    assert wrapped("python -m pytest") == "python -m pytest"
    assert "-p no:randomly" in wrapped(command, width=30).split(" \\\n")[2]


def test_an_option_keeps_its_value_on_its_line() -> None:
    command = "python -m pytest " + "-p no:randomly " * 8 + "-k 'a and b'"
    for line in wrapped(command, width=30).split(" \\\n"):
        split = words(line)
        assert split[-1][0] != "-" or split[-1] == "pytest", line
