"""What the gate costs on top of pytest, as ratios against bare pytest on the same suite.

    python benchmarks/overhead.py [--sizes 50,500,2000] [--repeats 5] [--out benchmarks/RESULTS.md]

For each size a synthetic suite is written (modules of 25 tests: mostly passing, a few skipped,
one parametrized), then timed, median of `--repeats` runs, in four ways:
  bare      python -m pytest -q -p no:randomly
  plugins   the same with the three pinned plugins active (random order, reruns, JSON report)
  gate      test-gate run (plugins + test-gate's plugin + reading, deciding, rendering)
  gate-gh   test-gate run --github true (also job summary, outputs and annotations files)
Run it in the dev venv (`.venv/bin/python benchmarks/overhead.py`).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from results_file import write_section

MODULE = """
import pytest

@pytest.mark.parametrize("n", range(5))
def test_param(n):
    assert n * n >= 0

{functions}

@pytest.mark.skip(reason="benchmark skip")
def test_skipped():
    pass
"""


def write_suite(root: Path, tests: int) -> None:
    per_module = 25
    for index in range(max(1, tests // per_module)):
        functions = "\n".join(
            f"def test_plain_{j}():\n    assert sum(range({j})) >= 0\n" for j in range(19)
        )
        (root / f"test_mod_{index:03d}.py").write_text(MODULE.format(functions=functions))


def timed(argv: list[str], cwd: Path, env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500,2000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "RESULTS.md"))
    args = parser.parse_args()
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env["PYTEST_ADDOPTS"] = "-p no:hypothesispytest -p no:cacheprovider"
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_suite(root, size)
            out = root.parent / f"{root.name}-out"
            bare = [
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:random_order",
                "-p",
                "no:rerunfailures",
                "-p",
                "no:pytest_jsonreport",
            ]
            plugins = [
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:randomly",
                "--random-order-seed=1",
                "--reruns=2",
                "--json-report",
                f"--json-report-file={out}.json",
            ]
            gate = [
                python,
                "-m",
                "test_gate",
                "run",
                ".",
                "--python",
                python,
                "--seed",
                "1",
                "--github",
                "false",
                "--result-file",
                f"{out}-r.json",
                "--summary-file",
                f"{out}-s.md",
                "--",
                "-q",
            ]
            gh_env = dict(
                env,
                GITHUB_OUTPUT=f"{out}-o",
                GITHUB_STEP_SUMMARY=f"{out}-ss",
                GITHUB_WORKSPACE=str(root),
            )
            t_bare = timed(bare, root, env, args.repeats)
            t_plugins = timed(plugins, root, env, args.repeats)
            t_gate = timed(gate, root, env, args.repeats)
            t_gh = timed([*gate[:-2], "--github", "true", "--", "-q"], root, gh_env, args.repeats)
            tests = len(list(root.glob("test_*.py"))) * 25
            rows.append((tests, t_bare, t_plugins, t_gate, t_gh))
            print(
                f"{tests} tests: bare {t_bare:.2f}s plugins {t_plugins:.2f}s "
                f"gate {t_gate:.2f}s gate-gh {t_gh:.2f}s",
                flush=True,
            )
    lines = [
        "## The gate's overhead against bare pytest",
        "",
        "Median of "
        f"{args.repeats} runs per cell, ratios to bare pytest on the same synthetic suite "
        "(modules of 25 tests: 19 plain, 5 parametrized, 1 skipped).",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/overhead.py --sizes {args.sizes} "
        f"--repeats {args.repeats}`. Python {platform.python_version()}, "
        f"{platform.system()}, {os.cpu_count()} cores.",
        "",
        "| tests | plugins / bare | test-gate run / bare | test-gate run, GitHub outputs / bare "
        "| bare (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for tests, t_bare, t_plugins, t_gate, t_gh in rows:
        lines.append(
            f"| {tests} | {t_plugins / t_bare:.2f} | {t_gate / t_bare:.2f} | {t_gh / t_bare:.2f} "
            f"| {t_bare:.2f} |"
        )
    lines += [
        "",
        "*plugins*: pytest with the three pinned plugins (random order, reruns, JSON report). "
        "*test-gate run*: plugins plus test-gate's own plugin, the interpreter check, reading "
        "the report, the verdict and every output file.",
        "",
    ]
    write_section(Path(args.out), "overhead", "\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
