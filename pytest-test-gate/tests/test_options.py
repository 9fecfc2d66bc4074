"""Where an option's value was given, in lists of command-line words."""

from __future__ import annotations

from pytest_test_gate.options import option_values, split_words


def test_both_spellings_are_found() -> None:
    words = ["--ignore=a", "-q", "--ignore", "b", "--ignore-glob=c"]
    assert option_values(words, "--ignore") == ["a", "b"]


def test_words_are_split_like_a_shell_and_unbalanced_quotes_do_not_fail() -> None:
    assert split_words("--ignore 'a b' -q") == ["--ignore", "a b", "-q"]
    assert split_words("--ignore 'a b") == ["--ignore", "'a", "b"]
