"""The pytest command lines of a run: the one test-gate runs, and the one it prints."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_test_gate.protocol import OPT_ENABLE, OPT_RUN_ID

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


def order_args(seed: int) -> list[str]:
    """The options that fix the order of a run: pytest-random-order with this seed."""
    return ["-p", "no:randomly", "--random-order-bucket=module", f"--random-order-seed={seed}"]


def explicit_plugins(env: Mapping[str, str], modules: Sequence[str] = RUN_PLUGINS) -> list[str]:
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD set pytest loads no installed plugin: name ours.
    (Naming them otherwise would register them twice.)"""
    if not env.get(AUTOLOAD_OFF):
        return []
    return [word for module in modules for word in ("-p", module)]


def pytest_argv(
    python: str,
    user_args: Sequence[str],
    seed: int,
    reruns: int,
    report_file: Path,
    run_id: str,
    load: Sequence[str] = (),
) -> list[str]:
    """Our options come after the user's, so a user's --json-report-file cannot win."""
    return [
        python,
        "-m",
        "pytest",
        *user_args,
        *load,
        OPT_ENABLE,
        f"{OPT_RUN_ID}={run_id}",
        *order_args(seed),
        f"--reruns={reruns}",
        "--json-report",
        f"--json-report-file={report_file}",
        *REPORT_OMIT,
    ]


def in_directory(path: Path, argv: Sequence[str]) -> str:
    """A command line a developer pastes, run from `path` when that is not here."""
    command = shlex.join(argv)
    if path.resolve() != Path.cwd().resolve():
        command = f"cd {shlex.quote(str(path))} && {command}"
    return command


def reproduce_command(path: Path, user_args: Sequence[str], seed: int, reruns: int) -> str:
    """The command a developer pastes to get this exact order again, without test-gate."""
    return in_directory(
        path, ["python", "-m", "pytest", *user_args, *order_args(seed), f"--reruns={reruns}"]
    )
