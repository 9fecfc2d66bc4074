"""Plain typed records of a pytest run: what the rest of test-gate reasons about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

# why fewer tests ran than were selected, when nothing else says: a guess, left out of the
# reasons when a root cause or a collection error explains it
STOPPED_EARLY = "the session stopped early: -x, --maxfail, a crash or an interrupt"


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    INTERRUPTED = "interrupted"  # no call phase and no skip: the test never finished


class Attempt(NamedTuple):
    """One run of one test item: setup, call and teardown (and any subtest reports).
    A named tuple, as `TestRecord` is: a run makes one per attempt of every test, and a
    frozen dataclass costs three times as much to build (0.7 µs against 0.2 µs)."""

    outcome: Outcome
    message: str = ""
    longrepr: str = ""
    duration: float = 0.0
    crash_path: str = ""
    crash_line: int | None = None


class TestRecord(NamedTuple):
    nodeid: str
    path: str
    line: int | None  # 1-based line of the test definition
    attempts: tuple[Attempt, ...]
    order: int  # position in execution order
    worker: str = ""  # the pytest-xdist worker that ran it; "" in a serial run
    cell: str = ""  # the matrix cell it ran in, in a merge of several jobs

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
        attempts = self.attempts
        return attempts[0].duration if len(attempts) == 1 else sum(a.duration for a in attempts)


setattr(TestRecord, "__test__", False)  # noqa: B010 (not a test class, whatever pytest thinks)


@dataclass(frozen=True)
class CollectError:
    nodeid: str
    message: str
    longrepr: str


@dataclass(frozen=True)
class IgnoredPath:
    """A test file or directory that pytest never ran, and why."""

    path: str  # relative to pytest's rootdir; a directory ends with "/"
    mechanism: str  # the rule: an option, a conftest list, norecursedirs, a hook, as recorded
    source: str = ""  # where the rule is, for people: "pyproject.toml:7", "command line"
    tests: int | None = None  # tests it holds, counted from the source without importing it
    files: int = 1  # test files it holds (a directory holds several)
    pattern: str = ""  # the entry that matched: the --ignore value, the glob, the pattern
    origin: str = ""  # addopts, config, command line, PYTEST_ADDOPTS, conftest, hook, …
    config_file: str = ""  # absolute path of the file that holds the rule, when known
    source_file: str = ""  # that file relative to the rootdir, for annotations
    source_line: int | None = None
    estimate: bool = False  # the test count could not be exact

    @property
    def why(self) -> str:
        return f"{self.mechanism} {self.pattern}" if self.pattern else self.mechanism


@dataclass(frozen=True)
class DeselectedFile:
    """Tests of one file dropped after collection (-k, -m, --deselect, a plugin)."""

    path: str
    mechanism: str
    count: int


@dataclass(frozen=True)
class NeverRan:
    """A collected test module none of whose tests ran."""

    path: str
    how: str  # the plugin's words for it: "skipped while importing", "every test skipped", …
    reason: str = ""
    line: int | None = None
    tests: int | None = None
    estimate: bool = False


@dataclass(frozen=True)
class CollectSettings:
    """The project's collection settings, as pytest saw them."""

    python_files: tuple[str, ...] = ("test_*.py", "*_test.py")
    python_functions: tuple[str, ...] = ("test",)
    python_classes: tuple[str, ...] = ("Test",)
    invocation_dir: str = ""


@dataclass(frozen=True)
class OptionKinds:
    """Which options the run's pytest accepts (plugins and conftest options included), by
    whether they take a value: `-k EXPR` takes one, `--runslow` does not."""

    takes_value: frozenset[str] = frozenset()
    optional_value: frozenset[str] = frozenset()  # `--cov=[SOURCE]`
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Choice:
    """A setting test-gate asks for only where the user set none: its value in the run, and
    who chose it ("user", "test-gate", "missing" when the plugin that owns it is not
    loaded, or "overridden": the user's `-p randomly`, which test-gate turns off)."""

    name: str  # reruns, bucket, test_timeout
    value: str
    by: str
    option: str  # the plugin's own option: --reruns, --random-order-bucket, --timeout


@dataclass(frozen=True)
class ShardInfo:
    """Which part of the suite one job ran, and the suite it split: every shard collects the
    whole suite, so shards of one suite have the same suite digest."""

    index: int  # 1-based
    total: int
    suite: int  # tests collected by the whole suite
    suite_digest: str
    ids: tuple[str, ...]  # the tests this shard was given
    ids_digest: str
    split_by: str = "count"  # or "durations"
    durations_from: str = ""

    @property
    def label(self) -> str:
        return f"{self.index}/{self.total}"


@dataclass(frozen=True)
class Session:
    """What the gate saw of the pytest process, beyond what its report says."""

    root_causes: tuple[str, ...] = ()  # why the session ended as it did: the first reasons
    stopped: bool = False  # the gate stopped it (a time limit, a cancelled job)
    stacks: str = ""  # every thread's stack when it was stopped
    python: str = ""  # the interpreter that ran the tests
    tests_summary: str = ""  # what the tests wrote to their (private) job summary
    tests_outputs: str = ""  # what the tests wrote to their (private) step outputs
    seconds: float | None = None  # wall time of the main run


@dataclass(frozen=True, slots=True)
class StateChange:
    """Process-global state a test left changed behind it (pytest-test-gate's state watch):
    a key that names the state, its value before the test and after, as text."""

    nodeid: str
    key: str
    before: str
    after: str
    worker: str = ""  # pytest-xdist: the worker (process) it ran in
    gained: tuple[str, ...] = ()  # a set of names that grew: the names that came
    lost: tuple[str, ...] = ()  # and the names that went
    by: str = ""  # the fixture whose setup made the change, when one did


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
    deselected_files: tuple[DeselectedFile, ...] = ()
    never_ran: tuple[NeverRan, ...] = ()
    # when nothing was collected: files that hold tests by their code and that the project's
    # python_files patterns do not match, "path (N tests)", a few
    unmatched: tuple[str, ...] = ()
    collect_settings: CollectSettings | None = None
    problems: tuple[str, ...] = ()  # contradictions and gaps found while reading
    sources: tuple[str, ...] = ()
    root: str = ""  # pytest's rootdir: test paths are relative to it
    option_kinds: OptionKinds | None = None  # None: the report does not say
    session: Session = Session()
    choices: tuple[Choice, ...] = ()  # from the record: empty when it does not say
    finished: bool = True  # the record says the session finished (a report without one: yes)
    running: tuple[str, ...] = ()  # tests that had started and not ended when the record ends
    environment: tuple[tuple[str, str], ...] = ()  # (what, version): python, pytest, plugins, os
    shard: ShardInfo | None = None  # the record's shard, when the run was one
    state_changes: tuple[StateChange, ...] = ()  # in the order the tests ran
    watch_notes: tuple[str, ...] = ()  # what the state watch said of itself (a busy directory)


def files_ignored(items: Iterable[IgnoredPath]) -> int:
    """Test files never run: an ignored directory counts for every test file it holds."""
    return sum(i.files for i in items)
