"""Diagnosis runs: a chosen list of tests, in exactly that order, in a fresh pytest process.

Two forms, one result. Search probes pass the ids through a file read by the `tgate_order`
plugin (no command-line length limit, no reshuffle). The runs whose command is printed for a
developer (a test alone, polluter then victim) pass the ids on the command line, which pytest
runs in the order given, and run that very command: what is printed has been seen to work.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from test_gate.pytest_run import PLUGIN_DIR, explicit_plugins

ORDER_PLUGIN = "tgate_order"
RERUN_PLUGIN = ("pytest_rerunfailures",)
ORDER_ENV = "TEST_GATE_ORDER_FILE"
RESULTS_ENV = "TEST_GATE_ORDER_RESULTS"
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
# pytest options whose value is the next word (so that word is not a test path)
_TAKES_VALUE = {
    "-k",
    "-m",
    "-o",
    "-p",
    "-c",
    "-W",
    "-r",
    "--override-ini",
    "--config-file",
    "--rootdir",
    "--confcutdir",
    "--basetemp",
    "--ignore",
    "--ignore-glob",
    "--deselect",
    "--import-mode",
    "--durations",
    "--durations-min",
    "--tb",
    "--capture",
    "--log-level",
    "--log-cli-level",
    "--log-file",
    "--log-file-level",
    "--log-format",
    "--log-date-format",
    "--junitxml",
    "--junit-xml",
    "--junit-prefix",
    "--pythonwarnings",
    "--maxfail",
    "--reruns",
    "--reruns-delay",
    "--only-rerun",
    "--random-order-bucket",
    "--random-order-seed",
    "--json-report-file",
}


# long options of pytest that take no value: a word after any other long option written
# without "=" is taken for its value (a plugin's `--ds settings`, `--cov src`)
_LONG_FLAGS = {
    "--quiet",
    "--verbose",
    "--showlocals",
    "--strict-markers",
    "--strict-config",
    "--strict",
    "--pdb",
    "--trace",
    "--no-header",
    "--no-summary",
    "--disable-warnings",
    "--disable-pytest-warnings",
    "--runxfail",
    "--doctest-modules",
    "--doctest-continue-on-failure",
    "--cache-clear",
    "--full-trace",
    "--co",
    "--collect-only",
    "--setup-show",
    "--setup-only",
    "--setup-plan",
    "--continue-on-collection-errors",
    "--pyargs",
    "--noconftest",
    "--keep-duplicates",
    "--no-cov",
    "--random-order",
}


def diagnosis_args(user_args: Sequence[str], path: Path, *, keep_selection: bool) -> list[str]:
    """The user's pytest arguments for a diagnosis run: their options stay (-o, -m, plugins);
    what would stop the run early (-x, --lf, --maxfail) goes; and, when the tests are named on
    the command line, so do the user's own test paths (they would add tests to the run)."""
    out: list[str] = []
    words = list(user_args)
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
        next_is_value = i + 1 < len(words) and not words[i + 1].startswith("-")
        unknown_long = word.startswith("--") and "=" not in word and word not in _LONG_FLAGS
        if (word in _TAKES_VALUE or unknown_long) and next_is_value:
            out += [word, words[i + 1]]
            i += 2
            continue
        is_selection = not word.startswith("-") and (
            "::" in word or (path / word.split("::", 1)[0]).exists()
        )
        if keep_selection or not is_selection:
            out.append(word)
        i += 1
    return out


def command_id(nodeid: str, root: str, path: Path) -> str:
    """A node id (relative to pytest's rootdir) as a command-line argument run from `path`."""
    if not root:
        return nodeid
    file_part, sep, rest = nodeid.partition("::")
    try:
        rel = os.path.relpath(Path(root) / file_part, path.resolve())
    except ValueError:  # another drive
        return nodeid
    return Path(rel).as_posix() + sep + rest


def printed_command(
    path: Path,
    root: str,
    user_args: Sequence[str],
    tests: Sequence[str],
    order_options: Sequence[str] = ORDER_OPTIONS,
) -> str:
    """The command a developer pastes to run these tests in this order."""
    argv = [
        "python",
        "-m",
        "pytest",
        *diagnosis_args(user_args, path, keep_selection=False),
        *order_options,
        *(command_id(t, root, path) for t in tests),
    ]
    command = shlex.join(argv)
    if path.resolve() != Path.cwd().resolve():
        command = f"cd {shlex.quote(str(path))} && {command}"
    return command


def has_module(python: str, module: str, cwd: Path) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        done = subprocess.run([python, "-c", probe], cwd=cwd, capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


def guard_args(python: str, path: Path, work_dir: Path) -> list[str]:
    """Options that keep a diagnosis run from overwriting the main run's reports: its JUnit
    XML and its coverage data, when the project's own configuration asks for them."""
    args = [f"--junitxml={work_dir / 'diagnosis-junit.xml'}"]
    if has_module(python, "pytest_cov", path):
        args.append("--no-cov")
    return args


@dataclass(frozen=True)
class ProbeResult:
    outcomes: Mapping[str, str]  # nodeid -> passed, failed, error, skipped, xfailed
    messages: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    output_tail: str = ""

    def outcome(self, nodeid: str) -> str | None:
        return self.outcomes.get(nodeid)


class BudgetSpent(Exception):
    """The diagnosis time budget ran out during a run."""


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

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _env(self, order_file: Path | None, results: Path) -> dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env.pop(ORDER_ENV, None)
        env["COVERAGE_FILE"] = str(self.work_dir / "diagnosis.coverage")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PLUGIN_DIR), env.get("PYTHONPATH", "")) if p
        )
        env[RESULTS_ENV] = str(results)
        if order_file is not None:
            env[ORDER_ENV] = str(order_file)
        return env

    def argv(self, tests: Sequence[str], *, printed: bool) -> list[str]:
        if self.guards is None:
            self.guards = tuple(guard_args(self.python, self.path, self.work_dir))
        if printed:
            return [
                self.python,
                "-m",
                "pytest",
                *diagnosis_args(self.user_args, self.path, keep_selection=False),
                *self.order_options,
                *(command_id(t, self.root, self.path) for t in tests),
                "-p",
                ORDER_PLUGIN,
                *self.guards,
            ]
        return [
            self.python,
            "-m",
            "pytest",
            *diagnosis_args(self.user_args, self.path, keep_selection=True),
            "-p",
            ORDER_PLUGIN,
            "-p",
            "no:randomly",
            *explicit_plugins(os.environ if self.env is None else self.env, RERUN_PLUGIN),
            "--reruns=0",
            *self.guards,
        ]

    def command(self, tests: Sequence[str]) -> str:
        return printed_command(self.path, self.root, self.user_args, tests, self.order_options)

    def run(self, tests: Sequence[str], *, printed: bool = False) -> ProbeResult:
        """Run `tests` in this order. `printed`: name them on the command line, as the
        printed reproduce command does; otherwise through the order file."""
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
        self.runs += 1
        self.work_dir.mkdir(parents=True, exist_ok=True)
        results = self.work_dir / f"probe-{self.runs}.json"
        order_file = None
        if not printed:
            order_file = self.work_dir / f"probe-{self.runs}.ids"
            order_file.write_text("".join(t + "\n" for t in tests), encoding="utf-8")
        started = time.monotonic()
        try:
            done = subprocess.run(
                self.argv(tests, printed=printed),
                cwd=self.path,
                env=self._env(order_file, results),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BudgetSpent from None
        tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-15:])
        outcomes: dict[str, str] = {}
        messages: dict[str, str] = {}
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
            outcomes = dict(data.get("outcomes") or {})
            messages = dict(data.get("messages") or {})
        except (OSError, ValueError):
            pass
        return ProbeResult(
            outcomes, messages, done.returncode, False, time.monotonic() - started, tail
        )
