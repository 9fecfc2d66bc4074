"""Diagnosis runs: a chosen list of tests, in exactly that order, in a fresh pytest process.

Two forms, one result. Search probes pass the ids through a file read by pytest-test-gate's
exact-order part (no command-line length limit, no reshuffle). The runs whose command is printed
for a developer (a test alone, polluter then victim) pass the ids on the command line, which
pytest runs in the order given, and run that very command: what is printed has been seen to
work. Which of the user's words are option values and which are test paths is what the main
run's pytest parsed (the record's option table), not a guess.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from pytest_test_gate.protocol import OPT_ORDER, OPT_OUTCOMES

from test_gate.analyse.findings import BudgetSpent, ProbeResult
from test_gate.read.records import OptionKinds
from test_gate.run import process
from test_gate.run.cancel import Cancelled
from test_gate.run.interpreter import has_module
from test_gate.run.pytest_command import (
    GATE_PLUGIN,
    explicit_plugins,
    in_directory,
    without_randomly,
)

RERUN_PLUGIN = ("pytest_rerunfailures",)
# what keeps the order exact: no shuffling plugin. The second form is for a project whose own
# options name pytest-random-order's (`addopts = "--random-order"`): pytest rejects those when
# the plugin is blocked, so it stays loaded and shuffles nothing.
ORDER_OPTIONS = ("-p", "no:randomly", "-p", "no:random_order")
ORDER_OPTIONS_KEEP_PLUGIN = ("-p", "no:randomly", "--random-order-bucket=none")
USAGE_ERROR = 4
# options that would stop a diagnosis run early or select tests by the cache
_DROPPED_FLAGS = {
    "--json-report",
    "-x",
    "--exitfirst",
    "--lf",
    "--last-failed",
    "--ff",
    "--failed-first",
    "--nf",
    "--new-first",
    "--sw",
    "--stepwise",
    "--sw-skip",
    "--stepwise-skip",
}
# xdist would run the tests in parallel: the order is the point here
_DROPPED_WITH_VALUE = {
    "--junitxml",
    "--junit-xml",
    "--json-report-file",
    "--html",
    "--maxfail",
    "--reruns",
    "--reruns-delay",
    "--only-rerun",
    "-n",
    "--numprocesses",
    "--dist",
    "--maxprocesses",
}


def _is_selection(word: str, path: Path) -> bool:
    """A test path or id: `tests`, `tests/test_a.py::test_one`."""
    return not word.startswith("-") and ("::" in word or (path / word.split("::", 1)[0]).exists())


def _takes_value(word: str, following: str, path: Path, kinds: OptionKinds | None) -> bool:
    """Whether `following` is the value of option `word` (written without "=")."""
    if following.startswith("-") or "=" in word or not word.startswith("-"):
        return False
    if kinds is not None:
        if word in kinds.takes_value:
            return True
        if word in kinds.flags:
            return False
        if word in kinds.optional_value:
            return not _is_selection(following, path)
    if not word.startswith("--"):
        return False
    # an option pytest did not list (a prefix of a longer one): a test path after it is not
    # its value
    return not _is_selection(following, path)


def diagnosis_args(
    user_args: Sequence[str],
    path: Path,
    *,
    keep_selection: bool,
    kinds: OptionKinds | None = None,
) -> list[str]:
    """The user's pytest arguments for a diagnosis run: their options stay (-o, -m, plugins);
    what would stop the run early (-x, --lf, --maxfail) goes; and, when the tests are named on
    the command line, so do the user's own test paths (they would add tests to the run).
    `kinds` (what the main run's pytest parsed) says which options take a value."""
    out: list[str] = []
    words = without_randomly(user_args)  # each run turns pytest-randomly off
    i = 0
    while i < len(words):
        word = words[i]
        name = word.split("=", 1)[0]
        if word in _DROPPED_FLAGS or (word.startswith("-n") and word[2:].isalnum()):
            i += 1
            continue
        if name in _DROPPED_WITH_VALUE:
            i += 1 if "=" in word else 2
            continue
        if i + 1 < len(words) and _takes_value(word, words[i + 1], path, kinds):
            out += [word, words[i + 1]]
            i += 2
            continue
        if keep_selection or not _is_selection(word, path):
            out.append(word)
        i += 1
    return out


def run_options(root: str, path: Path, user_args: Sequence[str], xdist: bool) -> list[str]:
    """Options every diagnosis run adds: `-n0` when the main run used pytest-xdist (the
    project's own `addopts = -n 2` would run the tests in parallel, and out of order), and the
    main run's rootdir, so that test ids keep their meaning when a configuration file below
    it (`tests/pytest.ini`) would make pytest pick another rootdir for the named tests."""
    out = ["-n0"] if xdist else []
    if root and not any(w == "--rootdir" or w.startswith("--rootdir=") for w in user_args):
        try:
            rel = os.path.relpath(Path(root), path.resolve())
        except ValueError:  # another drive
            rel = root
        out.append(f"--rootdir={Path(rel).as_posix()}")
    return out


def command_id(nodeid: str, root: str, path: Path) -> str:
    """A node id (relative to pytest's rootdir) as a command-line argument run from `path`.
    One that would start with "-" gets "./" in front: it is a test, never an option."""
    file_part, sep, rest = nodeid.partition("::")
    if root:
        with suppress(ValueError):  # another drive: the id as it is
            file_part = Path(os.path.relpath(Path(root) / file_part, path.resolve())).as_posix()
    if file_part.startswith("-"):
        file_part = "./" + file_part
    return file_part + sep + rest


def printed_command(
    path: Path,
    root: str,
    user_args: Sequence[str],
    tests: Sequence[str],
    order_options: Sequence[str] = ORDER_OPTIONS,
    *,
    kinds: OptionKinds | None = None,
    xdist: bool = False,
) -> str:
    """The command a developer pastes to run these tests in this order."""
    argv = [
        "python",
        "-m",
        "pytest",
        *diagnosis_args(user_args, path, keep_selection=False, kinds=kinds),
        *run_options(root, path, user_args, xdist),
        *order_options,
        *(command_id(t, root, path) for t in tests),
    ]
    return in_directory(path, argv)


def guard_args(python: str, path: Path, work_dir: Path) -> list[str]:
    """Options that keep a diagnosis run from overwriting the main run's reports: its JUnit
    XML and its coverage data, when the project's own configuration asks for them."""
    args = [f"--junitxml={work_dir / 'diagnosis-junit.xml'}"]
    if has_module(python, "pytest_cov", path):
        args.append("--no-cov")
    return args


@dataclass
class Prober:
    """Runs diagnosis probes in fresh pytest processes, counting runs, within a deadline."""

    path: Path
    python: str
    user_args: Sequence[str]
    root: str
    work_dir: Path
    deadline: float
    env: Mapping[str, str] | None = None
    runs: int = 0
    order_options: tuple[str, ...] = ORDER_OPTIONS
    guards: tuple[str, ...] | None = None  # guard_args, found on the first run
    run_timeout: float | None = None  # one run at most (a hang costs this, not the budget)
    xdist: bool | None = None  # the main run used pytest-xdist; None: installed? (first run)
    kinds: OptionKinds | None = None  # what the main run's pytest parsed
    started: int = 0  # pytest processes started (`runs`: the results handed out)
    workers: int = 1  # runs at once, when several are known ahead (prefetch)
    ready: dict[tuple[tuple[str, ...], bool], deque[ProbeResult]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _setup(self) -> None:
        """What the first run finds out once: the guards, xdist, and (only when the user's
        arguments are ambiguous) which of their options take a value."""
        if self.guards is None:
            self.guards = tuple(guard_args(self.python, self.path, self.work_dir))
        if self.xdist is None:
            self.xdist = has_module(self.python, "xdist", self.path)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env["COVERAGE_FILE"] = str(self.work_dir / "diagnosis.coverage")
        return env

    def argv(
        self, tests: Sequence[str], results: Path, order_file: Path | None = None
    ) -> list[str]:
        """`order_file`: the ids go through it (a search probe); without it they are named
        on the command line, as in the printed command."""
        self._setup()
        assert self.guards is not None
        extra = run_options(self.root, self.path, self.user_args, bool(self.xdist))
        ours = [
            *explicit_plugins(self._env(), GATE_PLUGIN),
            f"{OPT_OUTCOMES}={results}",
            *self.guards,
        ]
        if order_file is None:
            return [
                self.python,
                "-m",
                "pytest",
                *diagnosis_args(self.user_args, self.path, keep_selection=False, kinds=self.kinds),
                *extra,
                *self.order_options,
                *(command_id(t, self.root, self.path) for t in tests),
                *ours,
            ]
        return [
            self.python,
            "-m",
            "pytest",
            *diagnosis_args(self.user_args, self.path, keep_selection=True, kinds=self.kinds),
            *extra,
            f"{OPT_ORDER}={order_file}",
            "-p",
            "no:randomly",
            *explicit_plugins(self._env(), RERUN_PLUGIN),
            "--reruns=0",
            *ours,
        ]

    def command(self, tests: Sequence[str]) -> str:
        self._setup()
        return printed_command(
            self.path,
            self.root,
            self.user_args,
            tests,
            self.order_options,
            kinds=self.kinds,
            xdist=bool(self.xdist),
        )

    def prefetch(self, plans: Sequence[tuple[Sequence[str], bool]]) -> None:
        """Run these (tests, printed) now, `workers` at a time: runs the diagnosis will ask
        for, independent of each other (each victim alone, say). `run` hands each result out
        once, in order, as if it ran then."""
        if self.workers <= 1 or len(plans) <= 1:
            return
        from concurrent.futures import ThreadPoolExecutor  # here: it imports logging

        self._setup()  # once, before the threads
        with ThreadPoolExecutor(self.workers) as pool:
            futures = [pool.submit(self.run_now, tuple(tests), printed) for tests, printed in plans]
            for (tests, printed), future in zip(plans, futures, strict=True):
                try:
                    result = future.result()
                except BudgetSpent:
                    continue
                self.ready.setdefault((tuple(tests), printed), deque()).append(result)

    def peek(self, tests: Sequence[str], printed: bool) -> ProbeResult | None:
        waiting = self.ready.get((tuple(tests), printed))
        return waiting[0] if waiting else None

    def run(self, tests: Sequence[str], *, printed: bool = False) -> ProbeResult:
        """Run `tests` in this order (or hand out the result of that run, prefetched).
        `printed`: name them on the command line, as the printed reproduce command does;
        otherwise through the order file."""
        self.runs += 1
        waiting = self.ready.get((tuple(tests), printed))
        if waiting:
            return waiting.popleft()
        return self.run_now(tuple(tests), printed)

    def run_now(self, tests: Sequence[str], printed: bool) -> ProbeResult:
        result = self._run(tests, printed=printed)
        if (
            printed
            and result.exit_code == USAGE_ERROR
            and not result.outcomes
            and "unrecognized arguments" in result.output_tail
            and self.order_options == ORDER_OPTIONS
        ):
            self.order_options = ORDER_OPTIONS_KEEP_PLUGIN
            result = self._run(tests, printed=printed)
        return result

    def _run(self, tests: Sequence[str], *, printed: bool) -> ProbeResult:
        left = self.remaining()
        if left <= 0:
            raise BudgetSpent
        with self.lock:  # runs may go at once (prefetch): each its own files
            self.started += 1
            number = self.started
        self.work_dir.mkdir(parents=True, exist_ok=True)
        results = self.work_dir / f"probe-{number}.json"
        order_file = None
        if not printed:
            order_file = self.work_dir / f"probe-{number}.ids"
            order_file.write_text("".join(t + "\n" for t in tests), encoding="utf-8")
        argv = self.argv(tests, results, order_file)
        cap = left if self.run_timeout is None else min(left, self.run_timeout)
        env = self._env()
        env["COVERAGE_FILE"] = str(self.work_dir / f"diagnosis-{number}.coverage")
        done = process.run(argv, cwd=self.path, env=env, timeout=cap, forward=False)
        if done.stopped == "timeout":
            if cap >= left:
                raise BudgetSpent
            # this run hangs: the others may not, and the budget is not all spent
            return ProbeResult({}, {}, None, True, done.seconds, "")
        if done.stopped:
            raise Cancelled(done.stopped)
        tail = "\n".join(done.tail.strip().splitlines()[-15:])
        outcomes: dict[str, str] = {}
        messages: dict[str, str] = {}
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
            outcomes = dict(data.get("outcomes") or {})
            messages = dict(data.get("messages") or {})
        except (OSError, ValueError):
            pass
        return ProbeResult(outcomes, messages, done.exit_code, False, done.seconds, tail)
