"""The pytest command lines of a run: the one test-gate runs, and the one it prints."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_test_gate.options import RANDOMLY, plugin_args
from pytest_test_gate.protocol import (
    OPT_BUCKET,
    OPT_DIGEST_ONLY,
    OPT_DURATIONS,
    OPT_ENABLE,
    OPT_RECORD,
    OPT_REPORT,
    OPT_RERUNS,
    OPT_RUN_ID,
    OPT_SHARD,
    OPT_STACKS,
    OPT_TEST_TIMEOUT,
)

from test_gate.read.records import Choice

AUTOLOAD_OFF = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
# the plugins' modules, named with -p when pytest loads no installed plugin by itself
RUN_PLUGINS = (
    "pytest_jsonreport.plugin",
    "random_order.plugin",
    "pytest_rerunfailures",
    "pytest_test_gate.plugin",
)
GATE_PLUGIN = ("pytest_test_gate.plugin",)
# nargs="+" in pytest-json-report: one word per key ("a,b" would be one unknown key)
REPORT_OMIT = ("--json-report-omit", "log", "streams", "warnings", "keywords")


@dataclass(frozen=True)
class Asked:
    """What test-gate asks of a run. The seed is always test-gate's (it is the run's record);
    the rest applies only where the user's options and configuration set none."""

    seed: int
    reruns: int
    bucket: str = "module"
    test_timeout: float | None = None
    shard: str = ""  # K/N: this job runs part K of N
    durations: str = ""  # the file the shards are balanced by

    def shard_options(self) -> list[str]:
        """pytest-test-gate's, in the run and in the printed command alike: the same shard
        and seed replay the same tests in the same order."""
        if not self.shard:
            return []
        return [
            f"{OPT_SHARD}={self.shard}",
            *([f"{OPT_DURATIONS}={self.durations}"] if self.durations else []),
        ]

    def gate_options(self) -> list[str]:
        """For pytest-test-gate, which applies each where the user set nothing."""
        out = [f"{OPT_BUCKET}={self.bucket}", f"{OPT_RERUNS}={self.reruns}"]
        if self.test_timeout is not None:
            out.append(f"{OPT_TEST_TIMEOUT}={self.test_timeout:g}")
        return [*out, *self.shard_options()]

    def plain_options(self, chosen: Sequence[Choice] | None = None) -> list[str]:
        """The same, as the plugins' own options, for a command that runs without test-gate:
        only those test-gate chose (`chosen`, from the record; all when it is not known)."""
        by = {c.name: c.by for c in chosen or ()}

        def ours(name: str) -> bool:
            return not chosen or by.get(name) == "test-gate"

        out = ["-p", "no:randomly"]
        if ours("bucket"):
            out.append(f"--random-order-bucket={self.bucket}")
        out.append(f"--random-order-seed={self.seed}")
        if ours("reruns"):
            out.append(f"--reruns={self.reruns}")
        if self.test_timeout is not None and chosen and ours("test_timeout"):
            out.append(f"--timeout={self.test_timeout:g}")
        return [*out, *self.shard_options()]


def explicit_plugins(env: Mapping[str, str], modules: Sequence[str] = RUN_PLUGINS) -> list[str]:
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD set pytest loads no installed plugin: name ours.
    (Naming them otherwise would register them twice.)"""
    if not env.get(AUTOLOAD_OFF):
        return []
    return [word for module in modules for word in ("-p", module)]


def pytest_argv(
    python: str,
    user_args: Sequence[str],
    asked: Asked,
    report_file: Path,
    run_id: str,
    load: Sequence[str] = (),
    *,
    record_file: Path | None = None,
    stacks_file: Path | None = None,
    digest_only: bool = False,
) -> list[str]:
    """Our options come after the user's, so a user's --json-report-file cannot win.
    `digest_only`: the report is not kept, and only its digest is saved."""
    return [
        python,
        "-m",
        "pytest",
        *user_args,  # a `-p randomly` stays: the plugin records that test-gate overrode it
        *load,
        OPT_ENABLE,
        f"{OPT_RUN_ID}={run_id}",
        *([f"{OPT_RECORD}={record_file}"] if record_file else []),
        *([f"{OPT_STACKS}={stacks_file}"] if stacks_file else []),
        "-p",
        "no:randomly",
        f"--random-order-seed={asked.seed}",
        *asked.gate_options(),
        "--json-report",
        # pytest-test-gate saves the report pytest-json-report built, with the C encoder
        "--json-report-file=none",
        f"{OPT_REPORT}={report_file}",
        *([OPT_DIGEST_ONLY] if digest_only else []),
        *REPORT_OMIT,
    ]


def without_randomly(words: Sequence[str]) -> list[str]:
    """The user's words less a `-p randomly` (`-prandomly`): test-gate's `-p no:randomly`,
    which comes after them, wins anyway (the result says so), and a command that names both
    would contradict itself."""
    dropped = {
        at + k for at, size, name in plugin_args(words) if name in RANDOMLY for k in range(size)
    }
    return [word for at, word in enumerate(words) if at not in dropped]


def in_directory(path: Path, argv: Sequence[str]) -> str:
    """A command line a developer pastes, run from `path` when that is not here. A path that
    starts with "-" is written "./-x", so that `cd` does not take it for an option."""
    command = shlex.join(argv)
    if path.resolve() != Path.cwd().resolve():
        where = str(path)
        if where.startswith("-"):
            where = "./" + where
        command = f"cd {shlex.quote(where)} && {command}"
    return command


def reproduce_command(
    path: Path,
    user_args: Sequence[str],
    asked: Asked,
    chosen: Sequence[Choice] | None = None,
) -> str:
    """The command a developer pastes to get this exact order again, without test-gate.
    What the user's configuration set is not repeated (it applies by itself), so the command
    never names a setting twice."""
    words = without_randomly(user_args)
    return in_directory(path, ["python", "-m", "pytest", *words, *asked.plain_options(chosen)])
