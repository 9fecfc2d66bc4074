"""Where pytest-test-gate's time goes inside pytest: each of its hooks timed where it runs.

overhead.py and pairs.py measure a layer as the difference of two runs; this measures the
layer's own code in itself, as overhead.py measures test-gate's own processes: a plugin
loaded only here (hook_timer/) wraps every hook method of pytest-test-gate's parts with a
clock, in the `record` configuration of overhead.py (the options `test-gate run` gives
pytest). What the difference of two runs holds and this does not is the indirect part:
pluggy calling the hooks, the garbage collector's work on what the hooks allocate, and the
caches they share with pytest.

    python benchmarks/hooks.py [--sizes 10000] [--rounds 5] [--out benchmarks/RESULTS.md]

Each round runs bare pytest, then the record configuration with the clocks; the table has
the medians over the rounds, in microseconds a test and in bare pytest's CPU time; and the
floor of a crash-safe record (hook_timer/test_gate_minimal_record.py: the same three lines
and two flushed writes a test, and nothing else), timed the same way.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu
from overhead import configurations, installed_sources, pytest_env, write_suite
from results_file import section_parser, write_unless

TIMER = Path(__file__).resolve().parent / "hook_timer"
FLOOR = (
    "the floor of the record: a test's start and setup flushed, its end written, nothing "
    "else (hook_timer/test_gate_minimal_record.py, in the plugins configuration)"
)


def measure(size: int, rounds: int) -> tuple[int, list[float], dict[str, list[float]]]:
    """Bare pytest's CPU seconds a round, and each hook's seconds a round: pytest-test-gate's
    in the record configuration, and (keys "MinimalRecord.*") those of the plugins
    configuration with hook_timer/test_gate_minimal_record.py, the floor of a crash-safe
    record, timed by the same clocks."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        tests = write_suite(root, size)
        sources = installed_sources(Path(tmp))
        env = pytest_env(sources)
        timed_env = pytest_env(os.pathsep.join([str(TIMER), sources]))
        times = Path(tmp) / "times.json"
        timed_env["HOOK_TIMES_FILE"] = str(times)
        configs = configurations(sys.executable, Path(tmp) / "out")
        timed_env["MINIMAL_RECORD_FILE"] = str(Path(tmp) / "minimal.jsonl")
        timer = ["-p", "test_gate_hook_timer"]
        floor = [*configs["plugins"], *timer, "-p", "test_gate_minimal_record"]
        bare: list[float] = []
        hooks: dict[str, list[float]] = {}
        for index in range(rounds):
            bare.append(cpu(configs["bare"], root, env))
            found = {}
            for argv in ([*configs["record"], *timer], floor):
                cpu(argv, root, timed_env)
                found.update(json.loads(times.read_text()))
            for key, (nanoseconds, _) in found.items():
                hooks.setdefault(key, [0.0] * index).append(nanoseconds / 1e9)
            for values in hooks.values():
                values.extend([0.0] * (index + 1 - len(values)))
            print(f"{tests} tests, round {index + 1}: bare {bare[-1]:.2f} s", flush=True)
        return tests, bare, hooks


def main() -> int:
    parser = section_parser(__doc__, "10000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lines = [
        "## pytest-test-gate's hooks, each timed where it runs",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/hooks.py --sizes {args.sizes} --rounds "
        f"{args.rounds}`. Python {platform.python_version()}, {platform.system()}. "
        "overhead.py's suite, and its record configuration (what `test-gate run` runs inside "
        "pytest) with a clock around each hook of pytest-test-gate's parts (a hook wrapper: "
        "its two halves). Medians over the rounds; in microseconds a test, and in bare "
        "pytest's CPU time (bare run in the same round). Not in these figures: pluggy's "
        "calls of the hooks, the garbage collector's work on what they allocate, and the "
        "caches they share with pytest (pairs.py measures all of it together). A clock "
        "adds about 0.25 µs to a plain hook's call and 0.9 µs to a wrapper's (part of it "
        "inside what it times): at most about 2 µs of a test's figure.",
        "",
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        tests, bare, hooks = measure(size, args.rounds)
        base = statistics.median(bare)
        lines += [
            f"{tests} tests, bare pytest {base:.2f} s of CPU:",
            "",
            "| hook | µs a test | in bare pytest's time |",
            "|---|---:|---:|",
        ]
        ours = {k: v for k, v in hooks.items() if not k.startswith("MinimalRecord.")}
        medians = {key: statistics.median(values) for key, values in ours.items()}
        for key, seconds in sorted(medians.items(), key=lambda item: -item[1]):
            if seconds * 1e6 / tests >= 0.05:
                lines.append(f"| {key} | {seconds * 1e6 / tests:.1f} | {seconds / base:+.4f}x |")
        for label, part in (
            ("**all**", ours),
            (FLOOR, {k: hooks[k] for k in hooks if k not in ours}),
        ):
            total = statistics.median([sum(r) for r in zip(*part.values(), strict=True)])
            lines.append(f"| {label} | {total * 1e6 / tests:.1f} | {total / base:+.4f}x |")
        lines.append("")
    write_unless(args, "hooks", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
