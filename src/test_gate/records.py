"""Plain typed records of a pytest run: what the rest of test-gate reasons about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    INTERRUPTED = "interrupted"  # no call phase and no skip: the test never finished


@dataclass(frozen=True)
class Attempt:
    """One run of one test item: setup, call and teardown (and any subtest reports)."""

    outcome: Outcome
    message: str = ""
    longrepr: str = ""
    duration: float = 0.0
    crash_path: str = ""
    crash_line: int | None = None


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    nodeid: str
    path: str
    line: int | None  # 1-based line of the test definition
    attempts: tuple[Attempt, ...]
    order: int  # position in execution order
    attempts_known: bool = True  # False when only the last attempt was reported

    @property
    def outcome(self) -> Outcome:
        return self.attempts[-1].outcome

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]

    @property
    def flaky(self) -> bool:
        return self.outcome is Outcome.PASSED and len(self.attempts) > 1

    @property
    def duration(self) -> float:
        return sum(a.duration for a in self.attempts)


@dataclass(frozen=True)
class CollectError:
    nodeid: str
    message: str
    longrepr: str


@dataclass(frozen=True)
class IgnoredPath:
    """A test file or directory that pytest never ran, and why."""

    path: str
    mechanism: str
    source: str = ""
    tests: int | None = None


@dataclass(frozen=True)
class RunData:
    """Everything read from one or more JSON reports."""

    tests: tuple[TestRecord, ...]
    collect_errors: tuple[CollectError, ...] = ()
    collected: int = 0
    deselected: int = 0
    exit_code: int | None = None
    seed: str | None = None
    ignored: tuple[IgnoredPath, ...] = ()
    problems: tuple[str, ...] = ()  # contradictions and gaps found while reading
    sources: tuple[str, ...] = ()
    root: str = ""  # pytest's rootdir: test paths are relative to it
