"""The history store after 1,000 runs of a 2,000-test suite: its size, the cost of appending a
run, and `test-gate gate` with `--history` against the same gate without it and a bare
`json.load` of the report, side by side (interleaved rounds, medians of CPU time).

    python benchmarks/history.py --tests 2000 --runs 1000 --rounds 7

The report is a real pytest run of the suite (20 of its tests fail, so the gate looks up their
past); the 1,000 runs are appended by the store's own code, with outcomes drawn from a seeded
generator (1% of the tests failing, 0.5% flaky, a run in ten with a broken test). Writes the
"history" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from measure import cpu, peak_mib
from results_file import write_section
from stored_run import stored_run

from test_gate.publish.history import record_run
from test_gate.read.history_runs import RunEntry

HERE = Path(__file__).resolve().parent
PER_FILE = 100
LOAD = "import json, sys\nwith open(sys.argv[1], 'rb') as f:\n    json.load(f)\n"


def make_suite(root: Path, tests: int) -> None:
    for index in range(tests // PER_FILE):
        (root / f"test_f{index:04}.py").write_text(
            "import os\nimport pytest\n\n"
            f"@pytest.mark.parametrize('n', range({PER_FILE}))\n"
            "def test_it(n):\n    assert not (n == 0 and os.environ.get('BREAK'))\n"
        )


def entry(ids: list[str], n: int, draw: random.Random) -> RunEntry:
    broken = draw.randrange(len(ids)) if n % 10 == 0 else -1
    tests, failed, flaky = [], 0, 0
    for index, nodeid in enumerate(ids):
        roll = draw.random()
        if index == broken or roll < 0.01:
            tests.append(("", nodeid, "failed", 3, 12, None))
            failed += 1
        elif roll < 0.015:
            tests.append(("", nodeid, "passed", 2, 9, "flaky"))
            flaky += 1
        else:
            tests.append(("", nodeid, "passed", 1, 3, None))
    run = stored_run(
        run_key=f"{n}.1",
        time=f"2026-{1 + n // 100 % 12:02d}-01T00:00:00+00:00",
        commit_sha=f"{n:040x}",
        lane="py3.11-linux",
        cell="py3.11-linux",
        verdict="fail" if failed else "pass",
        pass_rate=100.0 * (len(ids) - failed) / len(ids),
        passed=len(ids) - failed,
        failed=failed,
        flaky=flaky,
        collected=len(ids),
        wall_time=4.2,
    )
    return RunEntry(run, tests)


def fill(path: Path, ids: list[str], runs: int, keep: int) -> list[float]:
    """The runs appended one transaction each; the CPU seconds of each append."""
    draw = random.Random(7)
    spent = []
    for n in range(runs):
        made = entry(ids, n, draw)
        started = time.process_time()
        record_run(path, made, keep)
        spent.append(time.process_time() - started)
    return spent


def churn(tmp: Path, tests: int, kept: int = 200, timed: int = 5) -> tuple[float, float]:
    """A store of `kept` runs whose test ids all change from run to run (random parametrize
    ids, or a mass rename): each further append drops the oldest run and the names only it
    held. The CPU seconds of the median and the slowest of `timed` such appends."""
    path = tmp / "churn.db"
    draw = random.Random(11)
    spent = []
    for n in range(kept + timed):
        ids = [f"tests/test_m{i // 100}.py::test_it[{n}-{i}]" for i in range(tests)]
        made = entry(ids, n, draw)
        started = time.process_time()
        record_run(path, made, kept)
        if n >= kept:
            spent.append(time.process_time() - started)
    return statistics.median(spent), max(spent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--churn-tests", type=int, default=10000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tg-history-bench-") as name:
        tmp = Path(name)
        churned = churn(tmp, args.churn_tests)
        suite = tmp / "suite"
        suite.mkdir()
        make_suite(suite, args.tests)
        report = tmp / "report.json"
        env = {**os.environ, "PYTEST_ADDOPTS": "-p no:cacheprovider", "BREAK": "1"}
        subprocess.run(
            [
                sys.executable, "-m", "test_gate", "run", str(suite), "--seed", "1",
                "--github", "false", "--diagnose", "false", "--python", sys.executable,
                "--report-file", str(report), "--result-file", str(tmp / "run.json"),
            ],
            capture_output=True, env=env, check=False,
        )  # fmt: skip
        ids = [row[0] for row in json.loads((tmp / "run.json").read_text())["tests"]]
        bounded, unbounded = tmp / "bounded.db", tmp / "unbounded.db"
        appends = fill(bounded, ids, args.runs, keep=200)
        fill(unbounded, ids, args.runs, keep=args.runs)
        sizes = {"bounded": bounded.stat().st_size, "unbounded": unbounded.stat().st_size}
        work = tmp / "work.db"
        base = [
            sys.executable, "-m", "test_gate", "gate", str(report), "--github", "false",
            "--cell", "py3.11-linux", "--branch", "main",
            "--result-file", str(tmp / "r.json"), "--summary-file", str(tmp / "s.md"),
        ]  # fmt: skip
        with_history = [*base, "--history", str(work), "--fail-on", "new"]
        load = [sys.executable, "-c", LOAD, str(report)]
        site = tmp / "site"
        dashboard = [
            sys.executable, "-m", "test_gate", "history", str(bounded), "--window", "200",
            "--html", str(site),
        ]  # fmt: skip
        times: dict[str, list[float]] = {"load": [], "gate": [], "history": [], "dashboard": []}
        for _ in range(args.rounds):  # interleaved; the store is the same at every round
            shutil.copy(bounded, work)
            times["load"].append(cpu(load))
            times["gate"].append(cpu(base, ok=(0, 1)))
            times["history"].append(cpu(with_history, ok=(0, 1)))
            times["dashboard"].append(cpu(dashboard))
        page = (site / "index.html").stat().st_size
        shutil.copy(bounded, work)
        peaks = {"gate": peak_mib(base), "history": peak_mib(with_history)}
        shutil.copy(bounded, work)
        subprocess.run(with_history, capture_output=True, check=False)
        result = json.loads((tmp / "r.json").read_text())
    med = {k: statistics.median(v) for k, v in times.items()}

    def row(name: str, key: str) -> str:
        ratio = med[key] / med["load"]
        return f"| {name} | {med[key]:.3f} | {ratio:.2f}x | {peaks[key]:.0f} |"

    classes: dict[str, int] = {}
    for failure in result["history"]["failures"]:
        classes[failure["class"]] = classes.get(failure["class"], 0) + 1
    text = textwrap.dedent(
        f"""
        ## The history after {args.runs:,} runs

        `python benchmarks/history.py --tests {args.tests} --runs {args.runs} --rounds
        {args.rounds}`: a real report of a {args.tests:,}-test suite ({PER_FILE} a file, 20 of
        them failing), and a store filled with {args.runs:,} runs of it by the store's own code
        (seeded outcomes: 1% failing, 0.5% flaky). CPU time of each process, medians of
        {args.rounds} interleaved rounds; the gate with `--history` reads the window and the
        failures' past, and appends its run, each round on the same store.

        | store after {args.runs:,} runs | size |
        |---|---:|
        | `--keep-runs 200` (the default): 200 runs kept | {sizes["bounded"] / 2**20:.2f} MiB |
        | `--keep-runs {args.runs}`: every run kept | {sizes["unbounded"] / 2**20:.2f} MiB |

        | | CPU s (median) | ratio | peak MiB |
        |---|---:|---:|---:|
        | bare `json.load` of the report | {med["load"]:.3f} | 1.00x | |
        {row("`test-gate gate`", "gate")}
        {row("`test-gate gate --history` (200 runs kept)", "history")}

        The history adds {med["history"] - med["gate"]:+.3f} s CPU to the gate
        ({med["history"] / med["gate"]:.2f}x). Appending one run of {args.tests:,} tests:
        {statistics.median(appends) * 1000:.1f} ms CPU (median of {args.runs:,}; the slowest,
        with the pruning, {max(appends) * 1000:.1f} ms). The gated run's failures:
        {", ".join(f"{n} {c}" for c, n in sorted(classes.items()))}; flaky rate
        {result["history"]["flaky_rate"]}% over {result["history"]["window"]} runs.

        Appending to a store of 200 runs of {args.churn_tests:,} tests whose ids all change
        from run to run (random parametrize ids, a mass rename), so that every append drops
        the oldest run and the {args.churn_tests:,} names only it held:
        {churned[0] * 1000:.0f} ms CPU (median of 5 appends; the slowest {churned[1] * 1000:.0f}
        ms). Goal: at most 1 s.

        The dashboard of the 200 runs kept (`test-gate history FILE --window 200 --html DIR`,
        {args.tests:,} tests a run): {med["dashboard"]:.2f} s CPU to build (median of
        {args.rounds}), a page of {page / 2**20:.2f} MiB. Goals: at most 2 s and 2 MiB.
        """
    ).strip()
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "history", text)


if __name__ == "__main__":
    main()
