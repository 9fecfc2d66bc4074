"""Validation of every option: one frozen Settings object, or a one-line UsageError."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from test_gate.verdict import Policy

MAX_SEED = 2**32 - 1


class UsageError(Exception):
    """Bad input. The message is one line that names the option and what it accepts."""


def parse_threshold(text: str, option: str = "--threshold") -> Decimal:
    raw = text.strip()
    number = raw[:-1].strip() if raw.endswith("%") else raw
    # plain ASCII decimals only: Decimal() alone would also take "1_0", "1e2" or other digits
    value = Decimal(number) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", number) else Decimal("NaN")
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


def parse_bool(text: str, option: str) -> bool:
    raw = text.strip().lower()
    if raw in ("true", "yes", "1", "on"):
        return True
    if raw in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"{option}: {text!r} is not a boolean; use true or false")


def parse_pytest_args(text: str, option: str = "--pytest-args") -> tuple[str, ...]:
    """Split like a shell would, never evaluated: `; rm -rf /` stays three plain words."""
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(
            f"{option}: {text!r} cannot be split into arguments ({exc}); "
            "use shell-style words with balanced quotes"
        ) from None


def output_file(text: str | None, option: str) -> Path | None:
    """A file test-gate will write: not a directory, under a directory (or one it can make)."""
    if not text:
        return None
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"{option}: {text!r} is a directory; give a file path to write")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{option}: {text!r} is under {str(parent)!r}, which is a file")
            break
    return path


def existing_dir(text: str, option: str) -> Path:
    path = Path(text or ".")
    if not path.is_dir():
        raise UsageError(f"{option}: {text!r} is not a directory; give the directory to run in")
    return path


@dataclass(frozen=True)
class Outputs:
    """Where results go, beside the exit code."""

    result_file: Path | None = None
    summary_file: Path | None = None
    github: bool = False  # write step summary, outputs and annotations for GitHub Actions
    annotations: bool = True
    step_summary: bool = True


@dataclass(frozen=True)
class RunSettings:
    """Everything `test-gate run` needs, validated."""

    path: Path
    policy: Policy
    seed: int | None
    reruns: int
    python: str
    pytest_args: tuple[str, ...]
    report_file: Path | None
    outputs: Outputs
    fail_on_gate: bool = True
