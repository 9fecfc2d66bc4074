"""Values read from JSON that anyone may have written: the right type, or a safe default."""

from __future__ import annotations

import math
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any


def text(value: Any) -> str:
    if type(value) is str and value.isascii():  # most values: nothing to check (fast, in C)
        return value
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable bytes (file names, output)
        try:  # the original bytes, shown as \xNN
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0.0


class Findings:
    """Problems found while reading, grouped: one line per kind, with a few examples, however
    many tests share it (a report of 20,000 tests gives a reason, not 20,000)."""

    EXAMPLES = 3

    def __init__(self, source: str) -> None:
        self.source = source
        self.single: list[str] = []
        self.grouped: dict[str, list[str]] = {}

    def add(self, text: str) -> None:
        self.single.append(f"{self.source}: {text}")

    def test(self, what: str, nodeid: str) -> None:
        """`what` happened to test `nodeid`: "has a phase outcome the gate does not know"."""
        self.grouped.setdefault(what, []).append(nodeid)

    def lines(self) -> list[str]:
        out = list(self.single)
        for what, ids in self.grouped.items():
            more = " and more" if len(ids) > self.EXAMPLES else ""
            shown = ", ".join(ids[: self.EXAMPLES]) + more
            out.append(f"{self.source}: {len(ids)} test(s) {what}: {shown}")
        return out


def as_list(value: Any, where: str, findings: Findings) -> list[Any]:
    """A list from the report; anything else is a gap in the data, said once."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    findings.add(f"{where} is {type(value).__name__}, not a list: the data is malformed")
    return []


def as_dict(value: Any, where: str, findings: Findings) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    findings.add(f"{where} is {type(value).__name__}, not an object: the data is malformed")
    return None


def as_count(value: Any, where: str, findings: Findings) -> int | None:
    if value is None:
        return None
    found = integer(value)
    if found is None or found < 0:
        findings.add(f"{where} is {value!r:.40}, not a count: the data is malformed")
    return found if found is not None and found >= 0 else None


def pure_path(text: str) -> PurePath:
    """A path from a report, in the flavour it was written in: a report made on Windows
    (`D:\\a\\repo\\tests\\test_x.py`) is read the same on any machine."""
    windows = PureWindowsPath(text)
    if windows.drive or ("\\" in text and "/" not in text):
        return windows
    return PurePosixPath(text)


def is_absolute(text: str) -> bool:
    return pure_path(text).is_absolute() or PureWindowsPath(text).is_absolute()


def relative_posix(text: str, root: str) -> str:
    """`text` relative to `root` as a repository path (a/b/c), when it is inside it."""
    if not (root and is_absolute(text)):
        return text
    path, base = pure_path(text), pure_path(root)
    if type(path) is not type(base):
        return text
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return text
