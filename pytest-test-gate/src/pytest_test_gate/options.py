"""Options in lists of command-line words: where a value of an option was given."""

from __future__ import annotations

import shlex


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
