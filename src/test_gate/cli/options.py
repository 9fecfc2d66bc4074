"""The options several commands share (policy, outputs, history, cell), and the settings they
make."""

from __future__ import annotations

import argparse
import difflib
import os
from typing import NoReturn

from test_gate.analyse.verdict import Policy
from test_gate.publish import github
from test_gate.settings import (
    HistorySettings,
    Outputs,
    UsageError,
    history_settings,
    output_file,
    parse_auto_bool,
    parse_bool,
    parse_count,
    parse_threshold,
)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, and a mistyped option gets the
    option it was likely meant to be."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def options(self) -> list[str]:
        return [o for a in self._actions for o in a.option_strings if o.startswith("--")]


def unknown_words(parser: Parser, command: str, unknown: list[str]) -> UsageError:
    """The error for words no option took. An unknown option comes first, with the option it was
    likely meant to be: its value may have been taken as PATH, so nothing else is guessed."""
    for word in unknown:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            close = difflib.get_close_matches(name, parser.options(), n=1, cutoff=0.75)
            if close:
                return UsageError(f"{name}: no such option of {command}; did you mean {close[0]}?")
    hint = ""
    if command in ("run", "ignored"):
        hint = (
            f"; pytest's own arguments go after `--`, as in: test-gate {command} . "
            "-- -k 'not slow' tests/"
        )
    return UsageError(f"unrecognized arguments: {' '.join(unknown)}{hint}")


def policy_options(parser: argparse.ArgumentParser) -> None:
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
        "--junit-file", default="", help="write the tests as JUnit XML here, every attempt kept"
    )
    parser.add_argument(
        "--ctrf-file", default="", help="write the tests as a CTRF report (JSON) here"
    )
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


def history_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("across runs")
    group.add_argument(
        "--history",
        default="",
        metavar="FILE",
        help="the history store, an SQLite file or a postgresql:// URL: read to tell new "
        "failures from known ones and to measure the flaky rate, then this run is appended "
        "(made when missing)",
    )
    group.add_argument(
        "--history-url-env",
        default="",
        metavar="NAME",
        help="the environment variable that holds a postgresql:// history URL, so that its "
        "password never shows in a command line or a log",
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
        "--dashboard",
        default="",
        metavar="DIR",
        help="after the run is recorded, write the history's dashboard as DIR/index.html",
    )
    group.add_argument(
        "--require-stable",
        default="none",
        metavar="N",
        help="fail unless the last N runs of this lane, this one included, each met the "
        "threshold (none)",
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


def cell_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell",
        default="",
        help="the name of this job's matrix cell in a merge (default: the Python version and "
        "the OS of the run, such as py3.12-linux)",
    )


def history(args: argparse.Namespace) -> HistorySettings:
    settings = history_settings(
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
        require_stable=args.require_stable,
        dashboard=args.dashboard,
        url_env=args.history_url_env,
        threshold=parse_threshold(args.threshold),
    )
    if args.history_url_env:
        # read once: the variable is then gone from the gate's environment, so that neither
        # pytest nor any test inherits the URL and its password
        os.environ.pop(args.history_url_env, None)
    return settings


def outputs(args: argparse.Namespace) -> Outputs:
    chosen = parse_auto_bool(args.github, "--github")
    use_github = github.in_actions() if chosen is None else chosen
    return Outputs(
        result_file=output_file(args.result_file, "--result-file"),
        summary_file=output_file(args.summary_file, "--summary-file"),
        junit_file=output_file(args.junit_file, "--junit-file"),
        ctrf_file=output_file(args.ctrf_file, "--ctrf-file"),
        github=use_github,
        annotations=parse_bool(args.annotations, "--annotations"),
        step_summary=parse_bool(args.step_summary, "--step-summary"),
    )


def policy(args: argparse.Namespace) -> Policy:
    return Policy(
        threshold=parse_threshold(args.threshold),
        allow_no_tests=parse_bool(args.allow_no_tests, "--allow-no-tests"),
        max_ignored=parse_count(args.max_ignored, "--max-ignored", allow_none=True),
    )
