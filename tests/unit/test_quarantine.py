"""The quarantine file: entries, globs, expiry, and every bad entry named by its line."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from test_gate.read.quarantine import QuarantineError, parse_quarantine


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_quarantine(textwrap.dedent(text).lstrip("\n"), "q.toml")


GOOD = """
    [[test]]
    id = "tests/test_net.py::test_download"
    reason = "the mirror is down"
    owner = "@net"
    expires = 2027-01-31

    [[test]]
    id = "tests/test_net.py::*"
    reason = "the whole module waits for a fix"
    owner = "@net"
    expires = "2027-02-28"
"""


def test_entries_are_read_with_their_lines_and_dates() -> None:
    quarantine = parse(GOOD)
    first, second = quarantine.entries
    assert (first.id, first.owner, first.expires, first.line) == (
        "tests/test_net.py::test_download",
        "@net",
        dt.date(2027, 1, 31),
        1,
    )
    assert second.line == 7 and second.expires == dt.date(2027, 2, 28) and second.is_glob


def test_an_exact_id_wins_over_a_glob_and_a_glob_matches_its_module() -> None:
    quarantine = parse(GOOD)
    assert quarantine.entry_for("tests/test_net.py::test_download") == quarantine.entries[0]
    assert quarantine.entry_for("tests/test_net.py::test_upload") == quarantine.entries[1]
    assert quarantine.entry_for("tests/test_disk.py::test_upload") is None
    # ids hold brackets: a parametrized id is matched exactly, not as a character class
    exact = parse(GOOD.replace("test_download", "test_x[a]"))
    assert exact.entry_for("tests/test_net.py::test_x[a]") == exact.entries[0]


def test_an_entry_is_good_through_its_expiry_date() -> None:
    entry = parse(GOOD).entries[0]
    assert not entry.expired(dt.date(2027, 1, 31))
    assert entry.expired(dt.date(2027, 2, 1))


def test_an_empty_file_quarantines_nothing() -> None:
    assert parse("# nothing yet\n").entries == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace(
                'owner = "@net"\n    expires = 2027-01-31', 'owner = "@net"\n    expires = "soon"'
            ),
            "q.toml:5: expires 'soon' is not a date; use YYYY-MM-DD, such as 2027-01-31",
        ),
        (
            GOOD.replace("expires = 2027-01-31", "expires = 2027-01-31T10:00:00"),
            "q.toml:5: expires datetime.datetime(2027, 1, 31, 10, 0) is not a date",
        ),
        (
            GOOD.replace('expires = "2027-02-28"', 'expires = "2027-02-30"'),
            "q.toml:11: expires '2027-02-30' is not a date",
        ),
        (
            GOOD.replace(
                'owner = "@net"\n    expires = 2027-01-31',
                'owner = "@net"\n    expire = 2027-01-31',
            ),
            "q.toml:5: unknown key 'expire'; an entry has id, reason, owner, expires",
        ),
        (
            GOOD.replace("tests/test_net.py::*", "tests/test_net.py::test_download"),
            "q.toml:8: 'tests/test_net.py::test_download' is quarantined twice (first at line 2)",
        ),
        (
            GOOD.replace('owner = "@net"\n    expires = 2027-01-31', "expires = 2027-01-31"),
            "q.toml:1: the entry has no 'owner'",
        ),
        (
            GOOD.replace(
                'owner = "@net"\n    expires = 2027-01-31', 'owner = ""\n    expires = 2027-01-31'
            ),
            "q.toml:4: owner must be a non-empty string",
        ),
        ("[[tests]]\nid = 'x'\n", "q.toml:1: unknown key 'tests'"),
        ("[[test]]\nid = \n", "q.toml: not valid TOML"),
        ("expires = 2027-13-01\n", "q.toml: not valid TOML"),
    ],
)
def test_a_bad_entry_is_an_error_that_names_its_line(text: str, message: str) -> None:
    with pytest.raises(QuarantineError) as raised:
        parse(text)
    assert str(raised.value).startswith(message), str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_file_nested_too_deep_or_with_too_many_entries_is_one_line() -> None:
    from test_gate.read.quarantine import MAX_ENTRIES

    for text in ("x = " + "[" * 100_000, "x = " + "{a = " * 100_000):
        with pytest.raises(QuarantineError, match="nests arrays or tables deeper"):
            parse_quarantine(text, "q.toml")
    entry = '[[test]]\nid = "t.py::t{n}_*"\nreason = "r"\nowner = "@o"\nexpires = 2999-01-01\n'
    many = "".join(entry.format(n=n) for n in range(MAX_ENTRIES + 1))
    with pytest.raises(QuarantineError, match="10,001 entries, more than the 10,000"):
        parse_quarantine(many, "q.toml")
    fine = parse_quarantine("".join(entry.format(n=n) for n in range(MAX_ENTRIES)), "q.toml")
    # each glob is compiled once: 10,000 globs on a thousand tests is a moment's work
    found = [fine.entry_for(f"t.py::t{n}_x") for n in range(0, 10_000, 10)]
    assert all(e is not None for e in found)
    assert fine.entry_for("t.py::other") is None
