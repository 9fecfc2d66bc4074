"""The three plugins and test-gate under pytest-xdist: wall time and CPU time of the process
tree against bare pytest on the same workers, interleaved rounds (an order of its own each
round), medians.

    python benchmarks/xdist.py [--sizes 2000] [--rounds 5] [--workers 2]

pytest-rerunfailures under pytest-xdist asks the controller for each test's rerun count over
a TCP socket, twice a test; with Nagle's algorithm on, the second message waits for a delayed
acknowledgement of the first (up to 40 ms). pytest-test-gate turns the algorithm off on that
socket (pytest_test_gate/rerun_socket.py). The waiting is not CPU time: this benchmark gives
both. Configurations, all with `-n WORKERS`, on overhead.py's suite and environment:
  bare      python -m pytest
  plugins   pytest-random-order, pytest-rerunfailures and pytest-json-report, as a user runs them
  record    the same with pytest-test-gate's record, as test-gate run gives it
  gate      test-gate run
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import wall_and_cpu
from overhead import configurations, installed_sources, pytest_env, write_suite
from results_file import section_parser, write_unless

NAMES = ("bare", "plugins", "record", "gate")
Rounds = dict[str, list[tuple[float, float]]]  # a configuration's (wall, CPU) seconds a round


def measure(size: int, rounds: int, workers: int) -> tuple[int, Rounds]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        tests = write_suite(root, size)
        env = pytest_env(installed_sources(Path(tmp)))
        # by its entry point's name: pytest-random-order gives the workers their seed only
        # when a plugin of that name is there
        xdist = ["-p", "xdist", "-n", str(workers)]
        everything = configurations(sys.executable, Path(tmp) / "out")
        configs = {name: [*everything[name], *xdist] for name in NAMES}
        times: Rounds = {name: [] for name in NAMES}
        for index in range(rounds):
            order = list(NAMES)
            random.Random(index).shuffle(order)
            for name in order:
                times[name].append(wall_and_cpu(configs[name], root, env))
        return tests, times


def main() -> int:
    parser = section_parser(__doc__, "2000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = [measure(int(s), args.rounds, args.workers) for s in args.sizes.split(",")]
    lines = [
        "## Under pytest-xdist",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/xdist.py --sizes {args.sizes} --rounds "
        f"{args.rounds} --workers {args.workers}`. Python {platform.python_version()}, "
        f"{platform.system()}, {os.cpu_count()} cores. overhead.py's suite and environment, "
        f"every configuration with `-n {args.workers}`; {args.rounds} interleaved rounds, "
        "medians. Wall time and CPU time (user + system) of the process tree, each as a ratio "
        "to bare pytest with the same workers.",
        "",
        "| tests | bare wall | bare CPU | "
        + " | ".join(f"{n} wall / bare | {n} CPU / bare" for n in NAMES[1:])
        + " |",
        "|---:|---:|---:|" + "---:|---:|" * (len(NAMES) - 1),
    ]
    for tests, times in rows:
        wall = {n: statistics.median(w for w, _ in v) for n, v in times.items()}
        used = {n: statistics.median(c for _, c in v) for n, v in times.items()}
        cells = " | ".join(
            f"{wall[n] / wall['bare']:.2f}x | {used[n] / used['bare']:.2f}x" for n in NAMES[1:]
        )
        lines.append(f"| {tests} | {wall['bare']:.2f} s | {used['bare']:.2f} s | {cells} |")
    lines += [
        "",
        "*plugins*: the three pinned plugins as a user runs them: pytest-rerunfailures' "
        "status socket keeps Nagle's algorithm on, and each test waits on it. *record* and "
        "*gate*: pytest-test-gate turns the algorithm off on that socket "
        "(`rerun_socket.py`), in the controller and in every worker.",
    ]
    write_unless(args, "xdist", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
