"""`test-gate`: the command line. Parses and validates the arguments into settings, then hands
them to a pipeline. Exit 0 pass, 1 fail, 2 bad usage."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

from test_gate import __version__, pipeline
from test_gate.analyse.verdict import Policy
from test_gate.publish import github
from test_gate.render.annotation import Annotation
from test_gate.run.cancel import Cancelled, cancellation
from test_gate.run.interpreter import default_python
from test_gate.settings import (
    BUCKETS,
    AuditSettings,
    DiagnoseSettings,
    GateSettings,
    HistorySettings,
    MergeSettings,
    Outputs,
    RunSettings,
    UsageError,
    cell,
    durations_file,
    existing_dir,
    expected_cells,
    history_settings,
    merge_paths,
    output_file,
    parse_auto_bool,
    parse_bool,
    parse_bucket,
    parse_count,
    parse_limit,
    parse_mode,
    parse_orders,
    parse_positive,
    parse_pytest_args,
    parse_seconds,
    parse_seed,
    parse_threshold,
    report_file,
    shard,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:") and self.prog.endswith(
            (" run", " ignored")
        ):
            message += "; pytest's own arguments go after `--`: test-gate run [options] -- -k x"
        raise UsageError(message)


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", default="98", help="minimum pass rate in percent (98)")
    parser.add_argument(
        "--allow-no-tests",
        nargs="?",
        const="true",
        default="false",
        help="an empty run passes instead of failing; also --allow-no-tests=true|false",
    )
    parser.add_argument(
        "--max-ignored",
        default="none",
        help="fail when more test files than this are ignored (default: none, report only)",
    )
    parser.add_argument("--result-file", help="write the result JSON here")
    parser.add_argument("--summary-file", help="write the Markdown summary here")
    parser.add_argument(
        "--github",
        default="auto",
        help="write step summary, outputs and annotations: true, false or auto "
        "(auto: when GITHUB_ACTIONS=true)",
    )
    parser.add_argument("--annotations", default="true", help="add annotations (true)")
    parser.add_argument("--step-summary", default="true", help="write the job summary (true)")
    parser.add_argument(
        "--fail-on-gate",
        default="true",
        help="false: report only, exit 0 when the gate fails on policy "
        "(never when the data is missing or contradictory)",
    )


def _history_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("across runs")
    group.add_argument(
        "--history",
        default="",
        metavar="FILE",
        help="the history store (SQLite): read to tell new failures from known ones and to "
        "measure the flaky rate, then this run is appended (made when missing)",
    )
    group.add_argument(
        "--fail-on",
        default="all",
        help="all: the pass rate gates (default); new: only failures that did not fail the "
        "last time on this branch or its base (needs --history)",
    )
    group.add_argument(
        "--max-flaky-rate",
        default="none",
        help="fail when more than this percent of the tests that ran in the window were flaky "
        "at least once (none)",
    )
    group.add_argument(
        "--window", default="20", help="runs the flaky rate looks at, this one included (20)"
    )
    group.add_argument("--keep-runs", default="200", help="runs the history keeps per branch (200)")
    group.add_argument(
        "--branch",
        help="the branch this run belongs to (default: from GitHub Actions, else from git)",
    )
    group.add_argument(
        "--base-branch",
        help="compare failures with this branch too (default: a pull request's base, else the "
        "repository's default branch)",
    )
    group.add_argument(
        "--pull-request",
        nargs="?",
        const="true",
        default="auto",
        help="this run tests a pull request: its branch's own runs make a failure known only "
        "at commits the base branch holds (auto: from GitHub Actions' event; true or false)",
    )
    group.add_argument(
        "--quarantine",
        default="",
        metavar="FILE",
        help="a TOML file of quarantined tests: they run, and their failures do not count",
    )
    group.add_argument(
        "--max-quarantined",
        default="none",
        help="fail when the quarantine matches more than this many tests of the run (none)",
    )


def _history(args: argparse.Namespace) -> HistorySettings:
    return history_settings(
        path=args.history,
        branch=args.branch,
        base=args.base_branch,
        fail_on=args.fail_on,
        max_flaky_rate=args.max_flaky_rate,
        window=args.window,
        keep=args.keep_runs,
        quarantine=args.quarantine,
        pull_request=args.pull_request,
        max_quarantined=args.max_quarantined,
    )


def _cell_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell",
        default="",
        help="the name of this job's matrix cell in a merge (default: the Python version and "
        "the OS of the run, such as py3.12-linux)",
    )


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="test-gate", description="A truthful quality gate for pytest runs.")
    parser.add_argument("--version", action="version", version=f"test-gate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run pytest and gate the result",
        usage="%(prog)s [options] [PATH] [-- PYTEST_ARGS ...]",
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
    _cell_option(run)
    _diagnosis_options(run)
    _policy_options(run)
    _history_options(run)

    gate = sub.add_parser("gate", help="gate existing pytest-json-report files")
    gate.add_argument("reports", nargs="+", help="JSON report files")
    _cell_option(gate)
    _policy_options(gate)
    _history_options(gate)

    merge = sub.add_parser(
        "merge",
        help="one verdict over the result files of shards and matrix cells",
        description="Merge the result files of several test-gate jobs (shards of one suite, "
        "cells of a matrix) into one verdict, and fail when they do not add up to the whole "
        "suite: a shard missing or there twice, shards that split different suites or ran "
        "different seeds, a collected test that ran in no shard.",
    )
    merge.add_argument(
        "paths", nargs="*", metavar="PATH", help="result files, or folders of them (*.json)"
    )
    merge.add_argument(
        "--results",
        action="append",
        default=[],
        metavar="PATH",
        help="the same as PATH, one at a time; safe for a value starting with -",
    )
    merge.add_argument(
        "--expect-shards",
        default="none",
        help="every cell must have this many shards (default: as many as the shards recorded)",
    )
    merge.add_argument(
        "--expect-cells",
        default="",
        help="the cells that must be there, and no other: names separated by commas",
    )
    _policy_options(merge)
    _history_options(merge)

    history = sub.add_parser(
        "history",
        help="the flakiest tests, the newest failures and the trend, from a history store",
    )
    history.add_argument("file", metavar="FILE", help="the history store (--history)")
    history.add_argument("--branch", help="the branch (default: the newest run's)")
    history.add_argument("--lane", help="the cell and shard, or merge (default: the newest run's)")
    history.add_argument("--window", default="20", help="runs looked at (20)")
    history.add_argument("--json", action="store_true", help="print JSON instead of text")

    quarantine = sub.add_parser("quarantine", help="quarantine entries from the history")
    actions = quarantine.add_subparsers(dest="action", required=True, parser_class=_Parser)
    suggest = actions.add_parser(
        "suggest", help="propose entries for the flakiest tests of the history, with their rates"
    )
    suggest.add_argument("--history", required=True, metavar="FILE", help="the history store")
    suggest.add_argument("--branch", help="the branch (default: the newest run's)")
    suggest.add_argument("--lane", help="the cell and shard, or merge (default: the newest run's)")
    suggest.add_argument("--window", default="20", help="runs looked at (20)")
    suggest.add_argument(
        "--days", default="30", help="the proposed entries expire after this many days (30)"
    )

    audit = sub.add_parser(
        "ignored",
        help="list the test files pytest never runs, and why, without running tests",
        usage="%(prog)s [options] [PATH] [-- PYTEST_ARGS ...]",
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
    return parser


def _outputs(args: argparse.Namespace) -> Outputs:
    chosen = parse_auto_bool(args.github, "--github")
    use_github = github.in_actions() if chosen is None else chosen
    return Outputs(
        result_file=output_file(args.result_file, "--result-file"),
        summary_file=output_file(args.summary_file, "--summary-file"),
        github=use_github,
        annotations=parse_bool(args.annotations, "--annotations"),
        step_summary=parse_bool(args.step_summary, "--step-summary"),
    )


def _policy(args: argparse.Namespace) -> Policy:
    return Policy(
        threshold=parse_threshold(args.threshold),
        allow_no_tests=parse_bool(args.allow_no_tests, "--allow-no-tests"),
        max_ignored=parse_count(args.max_ignored, "--max-ignored", allow_none=True),
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
        policy=_policy(args),
        seed=parse_seed(args.seed),
        reruns=reruns,
        python=_interpreter(args.python),
        pytest_args=(*parse_pytest_args(args.pytest_args), *extra),
        report_file=output_file(args.report_file, "--report-file"),
        outputs=_outputs(args),
        fail_on_gate=parse_bool(args.fail_on_gate, "--fail-on-gate"),
        diagnose=diagnose_settings(args),
        bucket=parse_bucket(args.bucket),
        timeout=parse_limit(args.timeout, "--timeout"),
        test_timeout=parse_limit(args.test_timeout, "--test-timeout"),
        shard=shards,
        durations_from=durations_file(args.durations_from, shards is not None),
        cell=cell(args.cell),
        history=_history(args),
    )


def gate_settings(args: argparse.Namespace) -> GateSettings:
    policy, outputs = _policy(args), _outputs(args)  # the options first, then the files
    fail_on_gate = parse_bool(args.fail_on_gate, "--fail-on-gate")
    return GateSettings(
        reports=tuple(report_file(p) for p in args.reports),
        policy=policy,
        outputs=outputs,
        fail_on_gate=fail_on_gate,
        cell=cell(args.cell),
        history=_history(args),
    )


def merge_settings(args: argparse.Namespace) -> MergeSettings:
    policy, outputs = _policy(args), _outputs(args)
    shards = parse_count(args.expect_shards, "--expect-shards", allow_none=True)
    if shards == 0:
        raise UsageError("--expect-shards: '0' is not a count of shards; use 1 or more, or none")
    return MergeSettings(
        paths=merge_paths([*args.paths, *args.results]),
        policy=policy,
        outputs=outputs,
        fail_on_gate=parse_bool(args.fail_on_gate, "--fail-on-gate"),
        expect_shards=shards,
        expect_cells=expected_cells(args.expect_cells),
        history=_history(args),
    )


def audit_settings(args: argparse.Namespace, extra: Sequence[str] = ()) -> AuditSettings:
    return AuditSettings(
        path=existing_dir(args.path, "PATH"),
        python=args.python or default_python(),
        pytest_args=(*parse_pytest_args(args.pytest_args), *extra),
        max_ignored=parse_count(args.max_ignored, "--max-ignored", allow_none=True),
        result_file=output_file(args.result_file, "--result-file"),
    )


def run_pipeline() -> ModuleType:
    """The commands that start the test interpreter, imported only for them: `gate` and
    `merge` start without the modules that run pytest."""
    from test_gate import run_pipeline

    return run_pipeline


COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    "run": lambda args, extra: run_pipeline().run(run_settings(args, extra)),
    "gate": lambda args, extra: pipeline.gate(gate_settings(args)),
    "merge": lambda args, extra: pipeline.merge(merge_settings(args)),
    "ignored": lambda args, extra: run_pipeline().audit(audit_settings(args, extra)),
    "history": lambda args, extra: pipeline.show_history(
        args.file,
        args.branch,
        args.lane,
        parse_positive(args.window, "--window", "runs"),
        args.json,
    ),
    "quarantine": lambda args, extra: pipeline.suggest_quarantine(
        args.history,
        args.branch,
        args.lane,
        parse_positive(args.window, "--window", "runs"),
        parse_positive(args.days, "--days", "days"),
    ),
    "install-plugins": lambda args, extra: run_pipeline().install(
        args.python or default_python(), args.plugin_source, args.print
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text from tests may hold undecodable bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    github.guard_streams()  # in a runner, nothing printed can act as a workflow command
    words = list(sys.argv[1:] if argv is None else argv)
    if not words:  # a bare `test-gate`: what it can do
        print(build_parser().format_help(), end="")
        return pipeline.EXIT_USAGE
    extra: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, extra = words[:at], words[at + 1 :]
    try:
        args, unknown = build_parser().parse_known_args(words)
        if unknown:
            hint = ""
            if args.command in ("run", "ignored"):
                hint = (
                    f"; pytest's own arguments go after `--`, as in: test-gate {args.command} . "
                    "-- -k 'not slow' tests/"
                )
            raise UsageError(f"unrecognized arguments: {' '.join(unknown)}{hint}")
        if extra and args.command not in ("run", "ignored"):
            raise UsageError(f"{args.command}: takes no pytest arguments after `--`")
        with cancellation():
            return COMMANDS[args.command](args, extra)
    except Cancelled as cancelled:
        print(f"test-gate: cancelled ({cancelled.name})", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
    except UsageError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "bad usage"
        print(f"test-gate: error: {message}", file=sys.stderr, flush=True)
        if github.in_actions():
            github.annotate([Annotation("error", message, title="test-gate: bad input")])
        return pipeline.EXIT_USAGE
    except github.GitHubError as exc:
        print(f"test-gate: error: {exc}", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
    except OSError as exc:  # a file test-gate must write or read: one line, never a traceback
        where = f" {exc.filename}" if exc.filename else ""
        print(f"test-gate: error:{where}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
