"""The `test-gate history` and `test-gate quarantine suggest` commands' output: the trend,
the flakiest tests and the newest failures of a store, as text or JSON, and proposed
quarantine entries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal

from test_gate.analyse.history import Failing, TestFlips
from test_gate.analyse.stability import met_threshold
from test_gate.analyse.verdict import format_threshold, percent_text
from test_gate.read.history import PastRun
from test_gate.render.escape import one_line
from test_gate.render.history import FLIPS_LEGEND, _flips_data, _name


def report(
    branch: str,
    lane: str,
    runs: Sequence[PastRun],
    flakiest: Sequence[TestFlips],
    failing: Sequence[Failing],
    as_json: bool,
    threshold: Decimal = Decimal(98),
) -> str:
    streak = 0
    for run in reversed(runs):
        if not met_threshold(run.pass_rate, threshold):
            break
        streak += 1
    if as_json:
        data = {
            "branch": branch,
            "lane": lane,
            "runs": [
                {
                    "id": r.id,
                    "time": r.time,
                    "commit": r.commit,
                    "verdict": r.verdict,
                    "pass_rate": r.pass_rate,
                    "passed": r.passed,
                    "failed": r.failed,
                    "flaky": r.flaky,
                    "tests": r.tests,
                    "wall_time": r.wall_time,
                }
                for r in runs
            ],
            "stable": {"threshold": format_threshold(threshold), "streak": streak},
            "flakiest": [_flips_data(f) for f in flakiest],
            "failing": [
                {
                    "nodeid": f.key[1],
                    "cell": f.key[0] or None,
                    "since_run": f.since.id,
                    "since_time": f.since.time,
                    "since_commit": f.since.commit,
                    "runs": f.runs,
                }
                for f in failing
            ],
        }
        return json.dumps(data, indent=2) + "\n"
    lines = [
        f"history of branch {one_line(branch, 100)}, {one_line(lane, 100)}: {len(runs)} run(s)"
    ]
    lines.append("")
    lines.append("trend (oldest first):")
    for run in runs:
        rate = f"{run.pass_rate:6.2f}%" if run.pass_rate is not None else "   n/a "
        wall = f"{run.wall_time:8.1f} s" if run.wall_time is not None else "     n/a  "
        lines.append(
            f"  #{run.id:<6} {one_line(run.time, 25):<25} {one_line(run.commit[:8], 8):<8} "
            f"{run.verdict:<4} {rate} "
            f"flaky {run.flaky:<4} failed {run.failed:<5} {wall}"
        )
    lines.append(
        f"stable: the newest {streak} run(s) in a row at {format_threshold(threshold)}% or more "
        "(--require-stable N asks for N, this run included)"
    )
    lines.append("")
    lines.append("flakiest tests:" if flakiest else "flakiest tests: none in the window")
    if flakiest:
        lines.append(FLIPS_LEGEND)
    for flips in flakiest:
        lines.append(
            f"  {one_line(_name(flips.key), 200)}: flaky in {flips.flaky} of {flips.runs} runs, "
            f"flip rate {percent_text(flips.flip_rate)}"
        )
    lines.append("")
    lines.append("failing in the newest run:" if failing else "failing in the newest run: none")
    for fail in failing:
        lines.append(
            f"  {one_line(_name(fail.key), 200)}: since run #{fail.since.id} "
            f"({one_line(fail.since.time, 25)}, {one_line(fail.since.commit[:8]) or 'no commit'}), "
            f"{fail.runs} run(s) in a row"
        )
    return "\n".join(lines) + "\n"


def suggestions(flakiest: Sequence[TestFlips], runs: int, expires: dt.date) -> str:
    """Quarantine entries for the flaky tests, as TOML to paste and complete: the owner is
    left empty on purpose, and an empty owner is refused until somebody takes the test."""
    if not flakiest:
        return f"# no test was flaky in the last {runs} run(s): nothing to quarantine\n"
    blocks = [f"# the flakiest tests of the last {runs} run(s); fill in each owner"]
    for flips in flakiest:
        if not flips.flaky:
            continue
        blocks.append(
            "\n".join(
                [
                    "[[test]]",
                    f"id = {json.dumps(flips.key[1])}",
                    f'reason = "flaky in {flips.flaky} of {flips.runs} runs, flip rate '
                    f'{percent_text(flips.flip_rate)}"',
                    'owner = ""',
                    f"expires = {expires.isoformat()}",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"
