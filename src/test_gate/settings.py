"""Validation of every option: one frozen Settings object, or a one-line UsageError."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pytest_test_gate.split import SplitError, parse_shard, read_durations

from test_gate.analyse.verdict import Policy
from test_gate.read.files import REPORT_LIMIT, Unreadable, check_regular
from test_gate.read.pg_store import is_url, redacted
from test_gate.read.quarantine import Quarantine, QuarantineError, load_quarantine

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


@dataclass(frozen=True)
class Outputs:
    """Where results go, beside the exit code."""

    result_file: Path | None = None
    summary_file: Path | None = None
    junit_file: Path | None = None
    ctrf_file: Path | None = None
    github: bool = False  # write the step summary, outputs and annotations of GitHub Actions
    annotations: bool = True
    step_summary: bool = True


@dataclass(frozen=True)
class DiagnoseSettings:
    """The extra runs after the main one: other orders, and the diagnosis of failures."""

    mode: DiagnoseMode = "auto"  # auto: when a test failed (in any order)
    timeout: float = 300.0
    max_victims: int | None = 20
    orders: int = 1


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


@dataclass(frozen=True)
class HistorySettings:
    """The history store and the quarantine; everything off by default."""

    path: Path | None = None
    branch: str | None = None  # None: from GitHub Actions, else from git
    base: str | None = None  # None: the pull request's base, else the default branch
    fail_on: FailOn = "all"
    max_flaky_rate: Decimal | None = None
    window: int = 20
    keep: int = 200
    quarantine: Quarantine | None = None
    pull_request: bool | None = None  # None: from GitHub Actions' event
    max_quarantined: int | None = None
    require_stable: int | None = None  # the last N runs of the lane each met `threshold`
    threshold: Decimal = Decimal(98)
    dashboard: Path | None = None  # a directory: the dashboard is written there after the run
    url: str | None = None  # a PostgreSQL history, instead of the file

    @property
    def source(self) -> Path | str | None:
        """The store: a PostgreSQL URL, or a file."""
        return self.url or self.path

    @property
    def asked(self) -> bool:
        return (
            self.source is not None
            or self.quarantine is not None
            or (self.max_flaky_rate is not None)
        )


def history_settings(
    *,
    path: str | None,
    branch: str | None,
    base: str | None,
    fail_on: str,
    max_flaky_rate: str,
    window: str,
    keep: str,
    quarantine: str | None,
    pull_request: str = "auto",
    max_quarantined: str = "none",
    require_stable: str = "none",
    threshold: Decimal = Decimal(98),
    dashboard: str = "",
    url_env: str = "",
    env: Mapping[str, str] | None = None,
) -> HistorySettings:
    url = history_url(path, url_env, os.environ if env is None else env)
    history = None if url or (path and is_url(path)) else output_file(path, "--history")
    chosen = parse_fail_on(fail_on)
    if chosen == "new" and history is None and url is None:
        raise UsageError(
            "--fail-on: 'new' needs --history FILE: a failure is new against the runs before"
        )
    size = parse_positive(window, "--window", "runs")
    kept = parse_positive(keep, "--keep-runs", "runs")
    stable = parse_count(require_stable, "--require-stable", allow_none=True) or None
    if stable is not None and history is None and url is None:
        raise UsageError(
            "--require-stable: needs --history FILE: the runs before this one are read there"
        )
    if stable is not None and stable > size:
        raise UsageError(
            f"--require-stable: {stable} runs is more than the --window of {size}; raise "
            "--window to at least that"
        )
    rate = (
        None
        if max_flaky_rate.strip().lower() in ("", "none")
        else parse_threshold(max_flaky_rate, "--max-flaky-rate")
    )
    return HistorySettings(
        path=history,
        branch=branch_name(branch, "--branch"),
        base=branch_name(base, "--base-branch"),
        fail_on=chosen,
        max_flaky_rate=rate,
        window=size,
        keep=kept,
        quarantine=quarantine_file(quarantine),
        pull_request=parse_auto_bool(pull_request, "--pull-request"),
        max_quarantined=parse_count(max_quarantined, "--max-quarantined", allow_none=True),
        require_stable=stable,
        threshold=threshold,
        dashboard=_dashboard(dashboard, history or url),
        url=url,
    )


def history_url(path: str | None, url_env: str, env: Mapping[str, str]) -> str | None:
    """A PostgreSQL history: given as --history (it then shows in the process list), or,
    better, named by --history-url-env, the environment variable that holds it (a secret)."""
    from_env = env.get(url_env, "").strip() if url_env else ""
    if path and from_env:
        raise UsageError(
            f"--history-url-env: {url_env} holds a history URL, and --history names one too; "
            "give one of them"
        )
    text = from_env or (path or "")
    if not is_url(text):
        if from_env:
            raise UsageError(
                f"--history-url-env: {url_env} does not hold a postgresql:// or postgres:// URL"
            )
        return None
    if not urlsplit(text).path.strip("/"):
        raise UsageError(
            f"--history: {redacted(text)} names no database (postgresql://host/DATABASE)"
        )
    return text


def _dashboard(text: str, history: Path | str | None) -> Path | None:
    if not text:
        return None
    if history is None:
        raise UsageError("--dashboard: needs --history FILE: the dashboard shows what it holds")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--dashboard: {text!r} is not a directory; give one to write into")
    return path


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
    diagnose: DiagnoseSettings = field(default_factory=DiagnoseSettings)
    bucket: str = "module"  # pytest-random-order's, where the user's configuration sets none
    timeout: float | None = None  # the main run, in seconds: then it is stopped
    test_timeout: float | None = None  # one test, in seconds (pytest-timeout)
    shard: tuple[int, int] | None = None  # (K, N): run part K of N of the suite
    durations_from: Path | None = None  # balance the shards by these durations
    cell: str | None = None  # the matrix cell; None: from the Python version and the OS
    history: HistorySettings = field(default_factory=HistorySettings)


@dataclass(frozen=True)
class GateSettings:
    """Everything `test-gate gate` needs, validated."""

    reports: tuple[Path, ...]
    policy: Policy
    outputs: Outputs
    fail_on_gate: bool = True
    cell: str | None = None
    history: HistorySettings = field(default_factory=HistorySettings)


@dataclass(frozen=True)
class AuditSettings:
    """Everything `test-gate ignored` needs, validated."""

    path: Path
    python: str
    pytest_args: tuple[str, ...]
    max_ignored: int | None
    result_file: Path | None


@dataclass(frozen=True)
class MergeSettings:
    """Everything `test-gate merge` needs, validated."""

    paths: tuple[Path, ...]
    policy: Policy
    outputs: Outputs
    fail_on_gate: bool = True
    expect_shards: int | None = None
    expect_cells: tuple[str, ...] = ()
    history: HistorySettings = field(default_factory=HistorySettings)


def expected_cells(text: str | None, option: str = "--expect-cells") -> tuple[str, ...]:
    """Cell names, separated by commas or new lines (a YAML block reads well)."""
    if not text:
        return ()
    names = [n.strip() for n in text.replace("\n", ",").split(",") if n.strip()]
    checked = tuple(cell(n, option) or "" for n in names)
    duplicates = sorted({n for n in checked if checked.count(n) > 1})
    if duplicates:
        raise UsageError(f"{option}: {duplicates[0]!r} is named twice; name each cell once")
    return checked


def merge_paths(texts: list[str], option: str = "PATH") -> tuple[Path, ...]:
    """Result files or folders of them: each must exist (a missing artifact is named here)."""
    if not texts:
        raise UsageError(f"{option}: give the result files to merge, or folders of them")
    out = []
    for text in texts:
        path = Path(text)
        if not path.exists():
            raise UsageError(
                f"{option}: {text!r} does not exist; give result files or folders of them "
                "(downloaded artifacts)"
            )
        out.append(path)
    return tuple(out)
