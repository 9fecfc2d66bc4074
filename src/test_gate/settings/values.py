"""One option's value, checked: the value in the type the gate uses, or a one-line
UsageError that names the option and what it accepts."""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from test_gate.read.files import REPORT_LIMIT, Unreadable, check_regular

if TYPE_CHECKING:
    from test_gate.read.quarantine import Quarantine

MAX_SEED = 2**32 - 1
_DECIMAL = re.compile(
    r"[0-9]+(\.[0-9]+)?"
)  # plain ASCII digits only: no "1_0", "1e2", no other scripts


class UsageError(Exception):
    """Bad input. The message is one line that names the option and what it accepts."""


def parse_threshold(text: str, option: str = "--threshold") -> Decimal:
    raw = text.strip()
    number = raw[:-1].strip() if raw.endswith("%") else raw
    value = Decimal(number) if _DECIMAL.fullmatch(number) else Decimal("NaN")
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise UsageError(
            f"{option}: {text!r} is not a percentage; use a number from 0 to 100, "
            "such as 98, 98.5 or 98%"
        )
    return value


def parse_seed(text: str, option: str = "--seed") -> int | None:
    """An integer seed, or None for `random` (a fresh seed is drawn for the run)."""
    raw = text.strip()
    if raw.lower() == "random" or raw == "":
        return None
    if raw.isascii() and raw.isdigit() and int(raw) <= MAX_SEED:
        return int(raw)
    raise UsageError(
        f"{option}: {text!r} is not a seed; use a whole number from 0 to {MAX_SEED}, or 'random'"
    )


def parse_count(text: str, option: str, *, allow_none: bool = False) -> int | None:
    raw = text.strip()
    if allow_none and raw.lower() in ("", "none", "unlimited"):
        return None
    if raw.isascii() and raw.isdigit() and int(raw) <= 1_000_000:
        return int(raw)
    extra = ", or 'none' for no limit" if allow_none else ""
    raise UsageError(f"{option}: {text!r} is not a count; use a whole number >= 0{extra}")


def parse_positive(text: str, option: str, unit: str) -> int:
    """A count of runs or days: a whole number of at least 1."""
    count = parse_count(text, option)
    if not count:
        raise UsageError(f"{option}: {text!r} is not a count of {unit}; use 1 or more")
    return count


def parse_limit(text: str, option: str) -> float | None:
    """A time limit in seconds, or none."""
    if text.strip().lower() in ("", "none", "0"):
        return None
    return parse_seconds(text, option)


def parse_seconds(text: str, option: str) -> float:
    """A duration in seconds > 0, written as plain ASCII digits (as every other number)."""
    raw = text.strip()
    value = float(raw) if _DECIMAL.fullmatch(raw) else 0.0
    if value <= 0:
        raise UsageError(f"{option}: {text!r} is not a duration; use a number of seconds > 0")
    return value


DiagnoseMode = Literal["auto", "true", "false"]
_MODES: dict[str, DiagnoseMode] = {
    "auto": "auto",
    **dict.fromkeys(("true", "yes", "on", "1"), "true"),
    **dict.fromkeys(("false", "no", "off", "0"), "false"),
}


def parse_mode(text: str, option: str = "--diagnose") -> DiagnoseMode:
    mode = _MODES.get(text.strip().lower())
    if mode is None:
        raise UsageError(f"{option}: {text!r} is not a mode; use auto, true or false")
    return mode


def parse_orders(text: str, option: str = "--orders") -> int:
    orders = parse_count(text, option)
    assert orders is not None
    if not 1 <= orders <= 100:
        raise UsageError(f"{option}: {text!r} is out of range; use a whole number 1 to 100")
    return orders


BUCKETS = ("module", "class", "package", "parent", "grandparent", "global", "none")


def parse_bucket(text: str, option: str = "--bucket") -> str:
    raw = text.strip().lower()
    if raw not in BUCKETS:
        raise UsageError(f"{option}: {text!r} is not a bucket; use one of {', '.join(BUCKETS)}")
    return raw


def parse_bool(text: str, option: str) -> bool:
    raw = text.strip().lower()
    if raw in ("true", "yes", "1", "on"):
        return True
    if raw in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"{option}: {text!r} is not a boolean; use true or false")


def parse_auto_bool(text: str, option: str) -> bool | None:
    """true or false, or None for auto (test-gate finds out)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return parse_bool(text, option)
    except UsageError:
        raise UsageError(f"{option}: {text!r} is not a choice; use auto, true or false") from None


def parse_pytest_args(text: str, option: str = "--pytest-args") -> tuple[str, ...]:
    """Split like a shell would, never evaluated: `; rm -rf /` stays three plain words."""
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(
            f"{option}: {text!r} cannot be split into arguments ({exc}); "
            "use shell-style words with balanced quotes"
        ) from None


def shard(text: str | None, option: str = "--shard") -> tuple[int, int] | None:
    if text is None or not text.strip():
        return None
    from pytest_test_gate.split import SplitError, parse_shard  # with --shard only

    try:
        return parse_shard(text)
    except SplitError as exc:
        raise UsageError(f"{option}: {exc}") from None


def durations_file(
    text: str | None, has_shard: bool, option: str = "--durations-from"
) -> Path | None:
    """A result or report whose durations balance the shards: read now, so a bad file is a
    usage error here and not a pytest error in every shard."""
    if not text:
        return None
    if not has_shard:
        raise UsageError(f"{option}: balances shards; give --shard K/N with it")
    from pytest_test_gate.split import SplitError, read_durations

    try:
        read_durations(text)
    except SplitError as exc:
        raise UsageError(f"{option}: {exc}") from None
    return Path(text)


MAX_CELL = 100


def cell(text: str | None, option: str = "--cell") -> str | None:
    """A matrix cell's name, as a person reads it: printable, one line, not too long."""
    if text is None or not text.strip():
        return None
    name = text.strip()
    if len(name) > MAX_CELL or not name.isprintable():
        raise UsageError(
            f"{option}: {text!r:.60} is not a cell name; use up to {MAX_CELL} printable "
            "characters on one line, such as py3.12-linux"
        )
    return name


def output_file(text: str | None, option: str) -> Path | None:
    """A file test-gate will write: not a directory, under a directory (or one it can make)."""
    if not text:
        return None
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"{option}: {text!r} is a directory; give a file path to write")
    if path.exists() and not path.is_file():
        raise UsageError(
            f"{option}: {text!r} is not a regular file (a device, a pipe or a socket); "
            "test-gate writes and replaces only regular files"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{option}: {text!r} is under {str(parent)!r}, which is a file")
            break
    return path


def report_file(text: str, option: str = "REPORT") -> Path:
    """A JSON report to read: a regular file within the size bound, named in the message."""
    path = Path(text)
    try:
        check_regular(path, REPORT_LIMIT)
    except Unreadable as exc:
        raise UsageError(
            f"{option}: {text!r} cannot be read: {exc}; give the JSON file pytest-json-report wrote"
        ) from None
    return path


def existing_dir(text: str, option: str) -> Path:
    path = Path(text or ".")
    if path.is_file():
        raise UsageError(
            f"{option}: {text!r} is a file; give the directory to run in, and test paths "
            f"after `--`: test-gate run -- {text}"
        )
    if not path.is_dir():
        raise UsageError(f"{option}: {text!r} is not a directory; give the directory to run in")
    return path


FailOn = Literal["all", "new"]


def parse_fail_on(text: str, option: str = "--fail-on") -> FailOn:
    raw = text.strip().lower()
    if raw == "all":
        return "all"
    if raw == "new":
        return "new"
    raise UsageError(f"{option}: {text!r} is not a choice; use all or new")


def quarantine_file(text: str | None, option: str = "--quarantine") -> Quarantine | None:
    """Read now: a bad entry is a usage error before any test runs."""
    if not text:
        return None
    from test_gate.read.quarantine import QuarantineError, load_quarantine

    try:
        return load_quarantine(Path(text))
    except QuarantineError as exc:
        raise UsageError(f"{option}: {exc}") from None


def branch_name(text: str | None, option: str) -> str | None:
    if text is None or not text.strip():
        return None
    name = text.strip()
    if len(name) > 255 or not name.isprintable():
        raise UsageError(f"{option}: {text!r:.60} is not a branch name; use up to 255 characters")
    return name
