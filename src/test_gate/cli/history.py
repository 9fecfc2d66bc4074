"""`history` and `quarantine suggest`: the commands that only read a history store."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from test_gate.cli import options
from test_gate.settings import UsageError, parse_positive, parse_threshold, quarantine_file


def add_history(sub: argparse._SubParsersAction[options.Parser]) -> None:
    history = sub.add_parser(
        "history",
        help="the flakiest tests, the newest failures and the trend, from a history store",
    )
    history.add_argument("file", metavar="FILE", help="the history store (--history)")
    history.add_argument("--branch", help="the branch (default: the newest run's)")
    history.add_argument("--lane", help="the cell and shard, or merge (default: the newest run's)")
    history.add_argument("--window", default="20", help="runs looked at (20)")
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    history.add_argument(
        "--html",
        metavar="DIR",
        help="write the dashboard, one self-contained page of every branch and lane, as "
        "DIR/index.html",
    )
    history.add_argument(
        "--quarantine", default="", metavar="FILE", help="show this quarantine on the dashboard"
    )
    history.add_argument(
        "--merge-from",
        metavar="OTHER",
        help="FILE takes the runs of the history file OTHER that it lacks (FILE is made when "
        "there is none): two copies of one history become one",
    )
    history.add_argument(
        "--keep-runs", default="200", help="with --merge-from: runs FILE keeps per branch (200)"
    )
    history.add_argument(
        "--threshold",
        default="98",
        help="the pass rate the newest runs in a row are counted against (98)",
    )


def add_quarantine(sub: argparse._SubParsersAction[options.Parser]) -> None:
    quarantine = sub.add_parser("quarantine", help="quarantine entries from the history")
    actions = quarantine.add_subparsers(dest="action", required=True, parser_class=options.Parser)
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


def history(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from test_gate import history_pipeline as pipeline  # the stores: only for these commands

    window = parse_positive(args.window, "--window", "runs")
    threshold = parse_threshold(args.threshold)
    if args.merge_from:
        keep = parse_positive(args.keep_runs, "--keep-runs", "runs")
        return pipeline.merge_history(args.file, args.merge_from, keep, args.json)
    if args.html:
        target = Path(args.html)
        if target.exists() and not target.is_dir():
            raise UsageError(f"--html: {args.html!r} is not a directory")
        return pipeline.write_dashboard(args.file, target, window, quarantine_file(args.quarantine))
    return pipeline.show_history(args.file, args.branch, args.lane, window, args.json, threshold)


def quarantine(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from test_gate import history_pipeline as pipeline

    return pipeline.suggest_quarantine(
        args.history,
        args.branch,
        args.lane,
        parse_positive(args.window, "--window", "runs"),
        parse_positive(args.days, "--days", "days"),
    )
