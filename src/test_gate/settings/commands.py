"""What each command needs, validated: one frozen record per command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from test_gate.analyse.verdict import Policy
from test_gate.settings.history import HistorySettings
from test_gate.settings.values import DiagnoseMode, UsageError, cell


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
