"""The quarantine file: tests whose failures do not count against the gate, each with a reason,
an owner and an expiry date. A TOML file under version control, so that every entry is
reviewed like code; a bad entry is an error that names its line, never a guess."""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from fnmatch import translate
from functools import cached_property
from pathlib import Path
from typing import Any

from test_gate.read.files import CONFIG_LIMIT, Unreadable, read_bytes

KEYS = ("id", "reason", "owner", "expires")
TABLE = "test"
MAX_ENTRIES = 10_000  # a file past this is not a list people review
_HEADER = re.compile(r"\s*\[\[\s*(?:test|\"test\"|'test')\s*\]\]")
_KEY = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*=")
_GLOB = re.compile(r"[*?]")  # not "[": test ids hold brackets (test_x[a]), taken literally


class QuarantineError(Exception):
    """The file cannot be used; the message names the file, the line and what is accepted."""


@dataclass(frozen=True)
class Entry:
    """One quarantined test id, or a glob of ids (`tests/test_net.py::*`; `*` and `?` only)."""

    id: str
    reason: str
    owner: str
    expires: dt.date
    line: int  # of the entry's `[[test]]`, for people

    @property
    def is_glob(self) -> bool:
        return bool(_GLOB.search(self.id))

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """The glob, compiled once (brackets literal): not once per test it is tried on."""
        return re.compile(translate(self.id.replace("[", "[[]"))) if self.is_glob else None

    def matches(self, nodeid: str) -> bool:
        if nodeid == self.id:
            return True
        return self.pattern is not None and self.pattern.match(nodeid) is not None

    def expired(self, today: dt.date) -> bool:
        """An entry is good through its expiry date, and expired the day after."""
        return self.expires < today


@dataclass(frozen=True)
class Quarantine:
    path: str
    entries: tuple[Entry, ...]

    @cached_property
    def exact(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    @cached_property
    def globs(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.is_glob)

    def entry_for(self, nodeid: str) -> Entry | None:
        """The first entry that matches: an exact id before a glob."""
        exact = self.exact.get(nodeid)
        return exact or next((e for e in self.globs if e.matches(nodeid)), None)


def _lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """Where each `[[test]]` starts, and where each of its keys is: tomllib gives values, not
    lines, and an error must name its line."""
    headers: list[int] = []
    keys: list[dict[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _HEADER.match(line):
            headers.append(number)
            keys.append({})
        elif keys and (found := _KEY.match(line)):
            keys[-1].setdefault(found.group(1).strip("\"'"), number)
    return headers, keys


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None  # a date, not a moment: an entry expires on a day
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_quarantine(text: str, path: str) -> Quarantine:
    # imported here: most runs have no quarantine file, and the parser costs 2 ms to import
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser, as a package, before it joined the standard library
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuarantineError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise QuarantineError(
            f"{path}: nests arrays or tables deeper than a quarantine file does; the file holds "
            f"[[{TABLE}]] entries of {', '.join(KEYS)}"
        ) from None
    headers, key_lines = _lines(text)
    extra = [k for k in data if k != TABLE]
    if extra:
        line = next((n for n, ln in enumerate(text.splitlines(), 1) if extra[0] in ln), 1)
        raise QuarantineError(
            f"{path}:{line}: unknown key {extra[0]!r}; the file holds [[{TABLE}]] entries only"
        )
    tables = data.get(TABLE, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise QuarantineError(f"{path}: {TABLE!r} must be a list of [[{TABLE}]] tables")
    if len(tables) > MAX_ENTRIES:
        raise QuarantineError(
            f"{path}: {len(tables):,} entries, more than the {MAX_ENTRIES:,} a quarantine file "
            "may hold; quarantine a module with a glob (tests/test_net.py::*)"
        )
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        start = headers[index] if index < len(headers) else 1
        lines = key_lines[index] if index < len(key_lines) else {}

        def where(key: str, start: int = start, lines: dict[str, int] = lines) -> str:
            return f"{path}:{lines.get(key, start)}"

        for key in table:
            if key not in KEYS:
                raise QuarantineError(
                    f"{where(key)}: unknown key {key!r}; an entry has {', '.join(KEYS)}"
                )
        for key in KEYS:
            if key not in table:
                raise QuarantineError(
                    f"{path}:{start}: the entry has no {key!r}; an entry has {', '.join(KEYS)}"
                )
        for key in ("id", "reason", "owner"):
            value = table[key]
            if not isinstance(value, str) or not value.strip() or not value.isprintable():
                raise QuarantineError(f"{where(key)}: {key} must be a non-empty string on one line")
        expires = _date(table["expires"])
        if expires is None:
            raise QuarantineError(
                f"{where('expires')}: expires {table['expires']!r} is not a date; use "
                "YYYY-MM-DD, such as 2027-01-31"
            )
        test_id = table["id"].strip()
        if test_id in seen:
            raise QuarantineError(
                f"{where('id')}: {test_id!r} is quarantined twice (first at line "
                f"{seen[test_id]}); keep one entry"
            )
        seen[test_id] = lines.get("id", start)
        entries.append(
            Entry(test_id, table["reason"].strip(), table["owner"].strip(), expires, start)
        )
    return Quarantine(path, tuple(entries))


def load_quarantine(path: Path) -> Quarantine:
    try:
        raw = read_bytes(path, CONFIG_LIMIT)
    except Unreadable as exc:
        raise QuarantineError(f"{path}: cannot be read: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuarantineError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_quarantine(text, str(path))
