"""Diagnosis runs: a chosen list of tests, in exactly that order, in a fresh pytest process.

Two forms, one result. Search probes pass the ids through a file read by the `tgate_order`
plugin (no command-line length limit, no reshuffle). The runs whose command is printed for a
developer (a test alone, polluter then victim) pass the ids on the command line, which pytest
runs in the order given, and run that very command: what is printed has been seen to work.
"""

from __future__ import annotations

import itertools
import json
import os
import re
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
    # common plugins' options (when pytest cannot be asked)
    "--cov",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--ds",
    "--dc",
    "--timeout",
    "--hypothesis-profile",
    "--hypothesis-seed",
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


@dataclass(frozen=True)
class OptionKinds:
    """Which options of the user's pytest (plugins and conftest options included) take a
    value, as its `--help` lists them: `--level=LEVEL` takes one, `--runslow` does not."""

    takes_value: frozenset[str] = frozenset()
    optional_value: frozenset[str] = frozenset()  # `--cov=[SOURCE]`
    flags: frozenset[str] = frozenset()


_HELP_OPTION = re.compile(r"^(-{1,2}[\w-]+)(=\[?|\s)?")


def parse_help(text: str) -> OptionKinds:
    """The options listed by `pytest --help`, by whether they take a value."""
    takes, optional, flags = set(), set(), set()
    for line in text.splitlines():
        if not line.startswith("  -"):
            continue
        spec = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for item in spec.split(", "):
            match = _HELP_OPTION.match(item.strip())
            if match is None:
                continue
            name, sep = match.group(1), match.group(2)
            if sep == "=[":
                optional.add(name)
            elif sep:
                takes.add(name)
            else:
                flags.add(name)
    return OptionKinds(frozenset(takes), frozenset(optional), frozenset(flags))


def _is_selection(word: str, path: Path) -> bool:
    """A test path or id: `tests`, `tests/test_a.py::test_one`."""
    return not word.startswith("-") and ("::" in word or (path / word.split("::", 1)[0]).exists())


def needs_option_kinds(user_args: Sequence[str], path: Path) -> bool:
    """True when a long option the built-in tables do not know is followed by a word that could
    be its value or a test path: only then is pytest asked (`--help` costs a process). Short
    options the tables do not know are taken as flags (`-v tests`)."""
    words = list(user_args)
    for word, following in itertools.pairwise(words):
        known = word in _TAKES_VALUE or word in _LONG_FLAGS or word in _DROPPED_FLAGS
        if (
            word.startswith("--")
            and "=" not in word
            and not known
            and not following.startswith("-")
        ):
            return True
    return False


def option_kinds(
    python: str, path: Path, user_args: Sequence[str], env: Mapping[str, str] | None = None
) -> OptionKinds | None:
    """Ask the user's pytest which options take a value (None when it cannot say)."""
    try:
        done = subprocess.run(
            [python, "-m", "pytest", *user_args, "--help"],
            cwd=path,
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    kinds = parse_help(done.stdout)
    return kinds if kinds.flags else None


def _takes_value(word: str, following: str, path: Path, kinds: OptionKinds | None) -> bool:
    """Whether `following` is the value of option `word` (written without "=")."""
    if following.startswith("-") or "=" in word or not word.startswith("-"):
        return False
    if word in _TAKES_VALUE:
        return True
    if kinds is not None:
        if word in kinds.takes_value:
            return True
        if word in kinds.flags:
            return False
        if word in kinds.optional_value:
            return not _is_selection(following, path)
    if word in _LONG_FLAGS or not word.startswith("--"):
        return False
    # an option nobody could classify: a test path or id after it is not its value
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
    `kinds` (from the user's `pytest --help`) says which options take a value."""
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
    run_timeout: float | None = None  # one run at most (a hang costs this, not the budget)
    xdist: bool | None = None  # the main run used pytest-xdist; None: installed? (first run)
    kinds: OptionKinds | None = None
    kinds_asked: bool = False

    def _setup(self) -> None:
        """What the first run finds out once: the guards, xdist, and (only when the user's
        arguments are ambiguous) which of their options take a value."""
        if self.guards is None:
            self.guards = tuple(guard_args(self.python, self.path, self.work_dir))
        if self.xdist is None:
            self.xdist = has_module(self.python, "xdist", self.path)
        if not self.kinds_asked:
            self.kinds_asked = True
            if needs_option_kinds(self.user_args, self.path):
                self.kinds = option_kinds(self.python, self.path, self.user_args, self.env)

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
        self._setup()
        assert self.guards is not None
        extra = run_options(self.root, self.path, self.user_args, bool(self.xdist))
        if printed:
            return [
                self.python,
                "-m",
                "pytest",
                *diagnosis_args(self.user_args, self.path, keep_selection=False, kinds=self.kinds),
                *extra,
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
            *diagnosis_args(self.user_args, self.path, keep_selection=True, kinds=self.kinds),
            *extra,
            "-p",
            ORDER_PLUGIN,
            "-p",
            "no:randomly",
            *explicit_plugins(os.environ if self.env is None else self.env, RERUN_PLUGIN),
            "--reruns=0",
            *self.guards,
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
        argv = self.argv(tests, printed=printed)
        cap = left if self.run_timeout is None else min(left, self.run_timeout)
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                cwd=self.path,
                env=self._env(order_file, results),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=cap,
                check=False,
            )
        except subprocess.TimeoutExpired:
            if cap >= left:
                raise BudgetSpent from None
            # this run hangs: the others may not, and the budget is not all spent
            return ProbeResult({}, {}, None, True, time.monotonic() - started, "")
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
