"""`run`, `ignored` and `install-plugins`: the commands that start the test interpreter. Their
pipeline is imported only when one of them runs."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from types import ModuleType

from test_gate.cli import options
from test_gate.run.interpreter import default_python
from test_gate.settings import (
    BUCKETS,
    AuditSettings,
    DiagnoseSettings,
    RunSettings,
    UsageError,
    cell,
    durations_file,
    existing_dir,
    output_file,
    parse_bool,
    parse_bucket,
    parse_count,
    parse_limit,
    parse_mode,
    parse_orders,
    parse_pytest_args,
    parse_seconds,
    parse_seed,
    shard,
)

PYTEST_USAGE = "%(prog)s [options] [PATH] [-- PYTEST_ARGS ...]"


def _diagnosis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--diagnose",
        default="auto",
        help="re-run failing tests to tell flaky, order-dependent and broken apart and find "
        "polluters: auto (when tests failed), true or false",
    )
    parser.add_argument(
        "--diagnose-timeout", default="300", help="time budget of the diagnosis in seconds (300)"
    )
    parser.add_argument(
        "--max-victims", default="20", help="failing tests examined at most (20; none: all)"
    )
    parser.add_argument(
        "--orders", default="1", help="run the suite in N orders (the first is the main run)"
    )


def add_run(sub: argparse._SubParsersAction[options.Parser]) -> None:
    run = sub.add_parser(
        "run",
        help="run pytest and gate the result",
        usage=PYTEST_USAGE,
        description="Run pytest in PATH and gate the result. pytest's own arguments go after "
        "`--`: test-gate run . --threshold 95 -- -k 'not slow' tests/",
    )
    run.add_argument("path", nargs="?", default=".", help="directory pytest runs in (.)")
    run.add_argument(
        "--path", dest="path_option", help="the same as PATH; safe for a value starting with -"
    )
    run.add_argument("--seed", default="random", help="random-order seed, or 'random' (random)")
    run.add_argument(
        "--reruns",
        default="2",
        help="reruns of a failed test (2), where your options and configuration set none",
    )
    run.add_argument(
        "--bucket",
        default="module",
        help="pytest-random-order's bucket (module), where your options and configuration set "
        "none: " + ", ".join(BUCKETS),
    )
    run.add_argument("--python", help="interpreter that runs the tests (python on PATH)")
    run.add_argument("--pytest-args", default="", help="extra pytest arguments, one string")
    run.add_argument("--report-file", help="where pytest writes its JSON report")
    run.add_argument(
        "--timeout",
        default="none",
        help="stop pytest after this many seconds, and fail with what ran until then "
        "(none: no limit)",
    )
    run.add_argument(
        "--test-timeout",
        default="none",
        help="stop a test that runs longer than this many seconds (pytest-timeout; none: no limit)",
    )
    run.add_argument(
        "--shard",
        default="",
        help="run part K of N of the suite (K/N, such as 2/3); every shard collects the whole "
        "suite and runs its part, and `test-gate merge` checks that the parts add up",
    )
    run.add_argument(
        "--durations-from",
        default="",
        help="balance the shards by the test durations in this file: a test-gate result, a "
        "pytest-json-report report, or a JSON object of test id -> seconds",
    )
    options.cell_option(run)
    _diagnosis_options(run)
    options.policy_options(run)
    options.history_options(run)


def add_ignored(sub: argparse._SubParsersAction[options.Parser]) -> None:
    audit = sub.add_parser(
        "ignored",
        help="list the test files pytest never runs, and why, without running tests",
        usage=PYTEST_USAGE,
    )
    audit.add_argument("path", nargs="?", default=".", help="directory pytest runs in (.)")
    audit.add_argument("--python", help="interpreter that runs the tests (python on PATH)")
    audit.add_argument("--pytest-args", default="", help="extra pytest arguments, one string")
    audit.add_argument(
        "--max-ignored",
        default="none",
        help="exit 1 when more test files than this are ignored (default: none)",
    )
    audit.add_argument("--result-file", help="write the findings as JSON here")


def add_install(sub: argparse._SubParsersAction[options.Parser]) -> None:
    install = sub.add_parser(
        "install-plugins", help="install pytest-test-gate and the pinned pytest plugins"
    )
    install.add_argument("--python", help="interpreter to install into (python on PATH)")
    install.add_argument(
        "--plugin-source",
        help="install pytest-test-gate from this directory (default: the source tree beside "
        "test-gate, else the package index at test-gate's version)",
    )
    install.add_argument("--print", action="store_true", help="only print the pinned list")
    install.add_argument(
        "--verbose", action="store_true", help="show pip's output (shown anyway when it fails)"
    )


def _interpreter(text: str | None) -> str:
    """A relative path to an interpreter is made absolute: pytest runs in PATH, elsewhere.
    Not resolved: a venv's python is a symlink whose target would leave the venv."""
    if not text:
        return default_python()
    if os.sep in text or (os.altsep and os.altsep in text):
        return os.path.abspath(text)  # "a/../b" made plain, symlinks kept
    return text


def diagnose_settings(args: argparse.Namespace) -> DiagnoseSettings:
    return DiagnoseSettings(
        mode=parse_mode(args.diagnose),
        timeout=parse_seconds(args.diagnose_timeout, "--diagnose-timeout"),
        max_victims=parse_count(args.max_victims, "--max-victims", allow_none=True),
        orders=parse_orders(args.orders),
    )


def run_settings(args: argparse.Namespace, extra: Sequence[str] = ()) -> RunSettings:
    """`extra`: the words after `--`, passed to pytest as they are."""
    reruns = parse_count(args.reruns, "--reruns")
    assert reruns is not None
    if args.path_option is not None and args.path != ".":
        raise UsageError("PATH: give the directory either as PATH or as --path, not both")
    path_option = "--path" if args.path_option is not None else "PATH"
    path_text = args.path_option if args.path_option is not None else args.path
    shards = shard(args.shard)
    return RunSettings(
        path=existing_dir(path_text, path_option),
        policy=options.policy(args),
        seed=parse_seed(args.seed),
        reruns=reruns,
        python=_interpreter(args.python),
        pytest_args=(*parse_pytest_args(args.pytest_args), *extra),
        report_file=output_file(args.report_file, "--report-file"),
        outputs=options.outputs(args),
        fail_on_gate=parse_bool(args.fail_on_gate, "--fail-on-gate"),
        diagnose=diagnose_settings(args),
        bucket=parse_bucket(args.bucket),
        timeout=parse_limit(args.timeout, "--timeout"),
        test_timeout=parse_limit(args.test_timeout, "--test-timeout"),
        shard=shards,
        durations_from=durations_file(args.durations_from, shards is not None),
        cell=cell(args.cell),
        history=options.history(args),
    )


def audit_settings(args: argparse.Namespace, extra: Sequence[str] = ()) -> AuditSettings:
    return AuditSettings(
        path=existing_dir(args.path, "PATH"),
        python=args.python or default_python(),
        pytest_args=(*parse_pytest_args(args.pytest_args), *extra),
        max_ignored=parse_count(args.max_ignored, "--max-ignored", allow_none=True),
        result_file=output_file(args.result_file, "--result-file"),
    )


def _pipeline() -> ModuleType:
    """The modules that start the test interpreter, imported only for these commands."""
    from test_gate import run_pipeline

    return run_pipeline


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    return int(_pipeline().run(run_settings(args, extra)))


def ignored(args: argparse.Namespace, extra: Sequence[str]) -> int:
    return int(_pipeline().audit(audit_settings(args, extra)))


def install(args: argparse.Namespace, extra: Sequence[str]) -> int:
    return int(
        _pipeline().install(
            args.python or default_python(), args.plugin_source, args.print, args.verbose
        )
    )
