"""What the state watch costs while another process keeps the temp directory busy.

The watch reads the temp directory's mtime after each test, and lists the directory when it
moved, to name the files a test made or removed. A process beside the run that makes and
removes files there (another job on a shared CI machine) moves that mtime during nearly every
test, and every listing then names nothing. This benchmark runs overhead.py's suite with a
private temp directory of `--entries` entries (TMPDIR), once quiet and once with a process
that makes and removes a file in it every `--every-ms` milliseconds, and gives the state
watch's part (record minus record-nostate) in bare pytest's CPU time, side by side.

    python benchmarks/busy_temp.py [--sizes 2000] [--entries 2000] [--rounds 5]
        [--before DIR]   # also the busy run with another pytest-test-gate source (an older one)
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu
from overhead import PLUGIN_SOURCE, configurations, installed_sources, pytest_env, write_suite
from results_file import section_parser, write_unless

CHURN = (
    "import os, sys, tempfile, time\n"
    "folder, pause = sys.argv[1], float(sys.argv[2]) / 1000\n"
    "while True:\n"
    "    handle, name = tempfile.mkstemp(dir=folder)\n"
    "    os.close(handle)\n"
    "    os.remove(name)\n"
    "    time.sleep(pause)\n"
)
NAMES = ("bare", "record-nostate", "record")


def measure(args: argparse.Namespace, busy: bool, plugin_src: str = "") -> dict[str, float]:
    size, entries, rounds = int(args.sizes), args.entries, args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        root, temp, out = Path(tmp) / "suite", Path(tmp) / "temp", Path(tmp) / "out"
        root.mkdir()
        temp.mkdir()
        for number in range(entries):
            (temp / f"entry-{number}").touch()
        write_suite(root, size)
        # an older pytest-test-gate source, installed as this one is (compiled); it does not
        # know --test-gate-digest-only, so neither measurement asks for it: the state watch's
        # cost is record minus record-nostate, the same save in both
        plugin = Path(plugin_src) if plugin_src else PLUGIN_SOURCE
        env = dict(pytest_env(installed_sources(Path(tmp), plugin)), TMPDIR=str(temp))
        configs = configurations(sys.executable, out, digest_only=False)
        churn = None
        if busy:
            churn = subprocess.Popen([sys.executable, "-c", CHURN, str(temp), str(args.every_ms)])
        try:
            times: dict[str, list[float]] = {name: [] for name in NAMES}
            for _ in range(rounds):
                for name in NAMES:
                    times[name].append(cpu(configs[name], root, env))
        finally:
            if churn is not None:
                churn.kill()
                churn.wait()
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = section_parser(__doc__, "2000")
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every-ms", type=float, default=1.0)
    parser.add_argument("--before", default="")
    parser.add_argument("--before-label", default="pytest-test-gate before")
    args = parser.parse_args()
    rows = {"quiet": measure(args, False), "busy": measure(args, True)}
    if args.before:
        rows[f"busy, {args.before_label}"] = measure(args, True, args.before)
    for label, medians in rows.items():
        print(label, ", ".join(f"{k} {v:.2f}s" for k, v in medians.items()))
    lines = [
        "## The state watch with a busy temp directory",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/busy_temp.py --sizes {args.sizes} --entries "
        f"{args.entries} --rounds {args.rounds}"
        + (f" --before DIR --before-label '{args.before_label}'" if args.before else "")
        + f"`. Python {platform.python_version()}, "
        f"{platform.system()}. overhead.py's suite of {args.sizes} tests and its configurations, "
        f"with a temp directory (TMPDIR) of {args.entries} entries; *busy*: a process beside "
        f"the run makes and removes a file in it every {args.every_ms:g} ms (and with "
        "`--before DIR`, the same with the pytest-test-gate source in DIR). CPU time of the "
        f"pytest process tree, medians of {args.rounds} interleaved rounds.",
        "",
        "| temp directory | bare (CPU s) | record-nostate / bare | record / bare | "
        "the state watch |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, m in rows.items():
        watch = (m["record"] - m["record-nostate"]) / m["bare"]
        lines.append(
            f"| {label} | {m['bare']:.2f} | {m['record-nostate'] / m['bare']:.2f}x | "
            f"{m['record'] / m['bare']:.2f}x | {watch:+.3f}x |"
        )
    lines.append("")
    write_unless(args, "busy-temp", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
