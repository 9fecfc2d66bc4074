"""The merge at scale: a real suite of N tests run as 3 shards through `test-gate run`, then
`test-gate merge` over the 3 result files, against a bare `json.load` of the same files, side
by side (interleaved rounds, medians). CPU time and peak memory of each process.

    python benchmarks/merge.py --tests 150000 --rounds 5

writes the "merge" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from measure import cpu, peak_mib
from results_file import write_section

HERE = Path(__file__).resolve().parent
PER_FILE = 100
LOAD = textwrap.dedent(
    """
    import json, sys
    for name in sys.argv[1:]:
        with open(name, "rb") as handle:
            json.load(handle)
    """
)


def make_suite(root: Path, tests: int) -> None:
    for index in range(tests // PER_FILE):
        (root / f"test_f{index:05}.py").write_text(
            "import pytest\n\n"
            f"@pytest.mark.parametrize('n', range({PER_FILE}))\n"
            "def test_it(n):\n    pass\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tg-merge-bench-") as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        make_suite(root, args.tests)
        results = Path(tmp) / "results"
        env = {**os.environ, "PYTEST_ADDOPTS": "-p no:cacheprovider"}
        for k in (1, 2, 3):
            (results / f"shard-{k}").mkdir(parents=True)
            done = subprocess.run(
                [
                    sys.executable, "-m", "test_gate", "run", str(root), "--shard", f"{k}/3",
                    "--seed", "1", "--github", "false", "--diagnose", "false",
                    "--python", sys.executable,
                    "--result-file", str(results / f"shard-{k}" / "result.json"),
                ],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"shard {k}/3 failed:\n{done.stdout[-3000:]}")
        files = sorted(str(p) for p in results.rglob("*.json"))
        size = sum(Path(f).stat().st_size for f in files)
        merge = [
            sys.executable, "-m", "test_gate", "merge", str(results), "--github", "false",
            "--result-file", str(Path(tmp) / "merged.json"),
            "--summary-file", str(Path(tmp) / "merged.md"),
        ]  # fmt: skip
        load = [sys.executable, "-c", LOAD, *files]
        times: dict[str, list[float]] = {"merge": [], "load": []}
        for _ in range(args.rounds):  # interleaved
            times["load"].append(cpu(load, ok=(0, 1)))
            times["merge"].append(cpu(merge, ok=(0, 1)))
        peaks = {"merge": peak_mib(merge), "load": peak_mib(load)}
        merged = json.loads((Path(tmp) / "merged.json").read_text())
        summary = (Path(tmp) / "merged.md").stat().st_size
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = [
        f"| bare `json.load` of the 3 files | {medians['load']:.2f} | 1.00x | {peaks['load']:.0f} "
        "| 1.00x |",
        f"| `test-gate merge` | {medians['merge']:.2f} | {medians['merge'] / medians['load']:.2f}x "
        f"| {peaks['merge']:.0f} | {peaks['merge'] / peaks['load']:.2f}x |",
    ]
    text = textwrap.dedent(
        f"""
        ## The merge at scale

        `python benchmarks/merge.py --tests {args.tests} --rounds {args.rounds}`: a real suite of
        {args.tests:,} trivial tests ({PER_FILE} a file), run as 3 shards through `test-gate run`
        ({args.tests // 3:,} tests a shard; the 3 result files hold {size / 2**20:.1f} MiB), then
        `test-gate merge` over the folder, against a bare `json.load` of the same 3 files in one
        process. CPU time (user + system) of each process, medians of {args.rounds} interleaved
        rounds; peak resident memory measured alone.

        | | CPU s (median) | ratio | peak MiB | ratio |
        |---|---:|---:|---:|---:|
        {rows[0]}
        {rows[1]}

        The merged verdict: {merged["verdict"]}, {merged["counts"]["passed"]:,} passed; the
        summary is {summary / 1024:.0f} KiB, within GitHub's 1 MiB.
        """
    ).strip()
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "merge", text)


if __name__ == "__main__":
    main()
