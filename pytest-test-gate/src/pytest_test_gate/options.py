"""Options in lists of command-line words: where a value of an option was given."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence

RANDOMLY = frozenset({"randomly", "pytest_randomly"})  # pytest-randomly, as `-p` names it


def option_values(words: list[str], option: str) -> list[str]:
    """Values of `--option=V` / `--option V` in a list of command-line words."""
    values = []
    for i, word in enumerate(words):
        if word.startswith(option + "="):
            values.append(word[len(option) + 1 :])
        elif word == option and i + 1 < len(words):
            values.append(words[i + 1])
    return values


def split_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def plugin_args(words: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """Each `-p NAME` and `-pNAME` in a list of command-line words: where it starts, how many
    words it takes, and NAME."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-p" and i + 1 < len(words):
            yield i, 2, words[i + 1]
            i += 2
            continue
        if word.startswith("-p") and len(word) > 2 and not word.startswith("-p="):
            yield i, 1, word[2:]
        i += 1
