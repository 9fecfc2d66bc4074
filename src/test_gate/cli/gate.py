"""`gate` and `merge`: the commands that read files other runs wrote."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from test_gate import pipeline
from test_gate.cli import options
from test_gate.settings import (
    GateSettings,
    MergeSettings,
    UsageError,
    cell,
    expected_cells,
    merge_paths,
    parse_bool,
    parse_count,
    report_file,
)


def add_gate(sub: argparse._SubParsersAction[options.Parser]) -> None:
    gate = sub.add_parser("gate", help="gate existing pytest-json-report files")
    gate.add_argument("reports", nargs="+", help="JSON report files")
    options.cell_option(gate)
    options.policy_options(gate)
    options.history_options(gate)


def add_merge(sub: argparse._SubParsersAction[options.Parser]) -> None:
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
    options.policy_options(merge)
    options.history_options(merge)


def gate_settings(args: argparse.Namespace) -> GateSettings:
    policy, outputs = options.policy(args), options.outputs(args)  # the options, then the files
    fail_on_gate = parse_bool(args.fail_on_gate, "--fail-on-gate")
    return GateSettings(
        reports=tuple(report_file(p) for p in args.reports),
        policy=policy,
        outputs=outputs,
        fail_on_gate=fail_on_gate,
        cell=cell(args.cell),
        history=options.history(args),
    )


def merge_settings(args: argparse.Namespace) -> MergeSettings:
    policy, outputs = options.policy(args), options.outputs(args)
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
        history=options.history(args),
    )


def gate(args: argparse.Namespace, extra: Sequence[str]) -> int:
    return pipeline.gate(gate_settings(args))


def merge(args: argparse.Namespace, extra: Sequence[str]) -> int:
    return pipeline.merge(merge_settings(args))
