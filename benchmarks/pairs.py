"""What one layer adds, measured on two configurations that run at the same time, one a core.

overhead.py runs the configurations one after another: a minute in which the machine is slow
slows one of them and not the other, and on a shared VM a 10-second run's CPU time moves by
10% to 30% within minutes. Here the two configurations of a pair start together, each pinned
to a core of its own (`taskset`), so that whatever slows the machine slows both; the cores
are swapped every round, so that a faster core favours neither. Each round gives one ratio
(CPU time of the second's process tree over the first's); the table has the median ratio
over the rounds and its 95% interval (measure.median_interval), and, in bare pytest's CPU
time, what the second adds over the first: (ratio - 1) x (plugins / bare), the last from the
pair bare:plugins. The pair plugins:plugins says how far the method itself wanders.

    python benchmarks/pairs.py [--sizes 10000] [--rounds 10] [--pairs A:B,...] [--out FILE]

The configurations, the suite, the environment and the bytecode are overhead.py's. Each
configuration of a pair runs on a copy of the suite of its own, and writes into a folder of
its own. Needs two cores.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import median_interval
from overhead import ALL, configurations, installed_sources, pytest_env, write_suite
from results_file import section_parser, write_unless

SCALE = ("bare", "plugins")  # the pair that turns a ratio over plugins into bare's units
PAIRS = [
    SCALE,
    ("plugins", "plugins"),
    ("plugins", "record-nostate"),
    ("record-nostate", "record"),
    ("plugins", "record"),
    ("plugins", "gate"),
]
LABELS = {
    SCALE: "the three plugins over bare pytest",
    ("plugins", "plugins"): "the method itself (the same configuration twice)",
    ("plugins", "record-nostate"): "pytest-test-gate's record, without the state watch",
    ("record-nostate", "record"): "the state watch",
    ("plugins", "record"): "all of pytest-test-gate inside pytest",
    ("plugins", "gate"): "**test-gate's part over the three plugins** (gate - plugins)",
}


def together(runs: list[tuple[list[str], Path, dict[str, str], int]]) -> list[float]:
    """Each (argv, cwd, env, core) started at once, pinned to its core: the CPU seconds of
    each one's process tree (the process and every child it waited for), in order."""
    started = [
        subprocess.Popen(
            ["taskset", "-c", str(core), *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for argv, cwd, env, core in runs
    ]
    seconds = []
    for process in started:
        _, status, usage = os.wait4(process.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{process.args[3:7]} exited {code}")
        seconds.append(usage.ru_utime + usage.ru_stime)
    return seconds


Pair = tuple[str, str]  # (first, second): two configurations of overhead.py


def measure(size: int, rounds: int, pairs: list[Pair]) -> dict[Pair, list[float]]:
    """One ratio a round for each pair: CPU of the second over CPU of the first."""
    ratios: dict[Pair, list[float]] = {pair: [] for pair in pairs}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = pytest_env(installed_sources(base))
        suites = []
        for side in (0, 1):
            suite = base / f"suite-{side}"
            suite.mkdir()
            tests = write_suite(suite, size)
            suites.append(suite)
        for index in range(rounds):
            cores = (0, 1) if index % 2 == 0 else (1, 0)
            for pair in pairs:
                runs = []
                for side, name in enumerate(pair):
                    out = base / f"out-{side}"
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    argv = configurations(sys.executable, out / "run")[name]
                    runs.append((argv, suites[side], env, cores[side]))
                first, second = together(runs)
                ratios[pair].append(second / first)
                print(f"{tests} tests, round {index + 1}: {pair[1]} / {pair[0]} = "
                      f"{second / first:.4f}", flush=True)  # fmt: skip
    return ratios


def main() -> int:
    parser = section_parser(__doc__, "10000")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--pairs",
        default=",".join(f"{a}:{b}" for a, b in PAIRS),
        help=f"the pairs to run, FIRST:SECOND comma-separated ({SCALE[0]}:{SCALE[1]} always "
        f"runs); configurations: {', '.join(ALL)}",
    )
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2 or shutil.which("taskset") is None:
        parser.error("needs two cores and taskset (util-linux)")
    pairs: list[Pair] = [SCALE]
    for text in args.pairs.split(","):
        first, _, second = text.partition(":")
        if first not in ALL or second not in ALL:
            parser.error(f"--pairs: {text!r} is not FIRST:SECOND of {', '.join(ALL)}")
        if (first, second) not in pairs:
            pairs.append((first, second))
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [measure(size, args.rounds, pairs) for size in sizes]
    lines = [
        "## What each layer adds, measured two at a time",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/pairs.py --sizes {args.sizes} --rounds "
        f"{args.rounds}`. Python {platform.python_version()}, {platform.system()}, "
        f"{os.cpu_count()} cores. overhead.py's suite, configurations and bytecode. The two "
        "configurations of a pair run at the same time, each pinned to a core of its own "
        "(swapped every round), so that a slow minute of the machine slows both; one ratio "
        "a round (CPU time of the second's process tree over the first's). Cells: the median "
        "ratio and its 95% interval (order statistics), then what the second adds in bare "
        "pytest's CPU time, (ratio - 1) x the median of plugins / bare.",
        "",
        "| second over first | " + " | ".join(f"{size} tests" for size in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for pair in pairs:
        cells = []
        for ratios in results:
            scale = statistics.median(ratios[SCALE])
            median = statistics.median(ratios[pair])
            interval = median_interval(ratios[pair])
            around = f" ({interval[0]:.3f} to {interval[1]:.3f})" if interval else ""
            added = "" if pair == SCALE else f"; {(median - 1) * scale:+.3f}x"
            cells.append(f"{median:.3f}{around}{added}")
        label = LABELS.get(pair, f"{pair[1]} over {pair[0]}")
        lines.append(f"| {label} ({pair[1]} / {pair[0]}) | " + " | ".join(cells) + " |")
    lines.append("")
    write_unless(args, "pairs", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
