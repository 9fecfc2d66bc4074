"""What each layer of a gated run costs, in instructions executed: the same figure every run.

On a shared machine the CPU time of one configuration wanders by 10% from run to run
(benchmarks/overhead.py takes medians of interleaved rounds, and its ratios still move by
about 0.05x). The instructions a process executes, counted by valgrind's cachegrind, do not
move: each layer's part is told apart to a thousandth of bare pytest. Instructions are not
time (a cache miss costs more than an add), so overhead.py's CPU medians stay the figure of
record; this one says which layer the time goes to, and whether a change paid.

    python benchmarks/instructions.py [--sizes 10000] [--jobs 2] [--no-write]

The configurations are overhead.py's, on its suite, with its environment and bytecode. pytest
runs under cachegrind with its children. test-gate's own part is the `test-gate run` process
under cachegrind, with the interpreter check it starts, and pytest, its child, run natively:
pytest's progress then reaches test-gate's output thread as fast as it would outside valgrind.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import configurations, installed_sources, pytest_env, write_suite
from results_file import section_parser, write_unless

PYTEST_LAYERS = ["bare", "json-report", "plugins", "record-nostate", "record"]


def instructions(argv: list[str], cwd: Path, env: dict[str, str], out: Path, pytest: bool) -> int:
    """Instructions of `argv`'s process and the children it starts; with `pytest` False,
    pytest's process (a child run with `-m pytest`) is left out and runs natively."""
    out.mkdir(parents=True)
    skip = [] if pytest else ["--trace-children-skip-by-arg=pytest"]
    valgrind = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes", *skip,
        f"--cachegrind-out-file={out}/cg.%p",
    ]  # fmt: skip
    done = subprocess.run([*valgrind, *argv], cwd=cwd, env=env, capture_output=True, check=False)
    files = list(out.glob("cg.*"))
    if not files:
        raise SystemExit(f"valgrind counted nothing for {argv[:4]}: {done.stderr[-500:]!r}")
    total = 0
    for file in files:
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("summary:"):
                total += int(line.split()[1])
    return total


def measure(size: int, jobs: int, fixtures: int = 0) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        write_suite(root, size, fixtures)
        out = Path(tmp) / "out"
        # overhead.py's environment and bytecode, and the same hash seed in every process
        env = dict(pytest_env(installed_sources(Path(tmp))), PYTHONHASHSEED="0")
        # a temp directory of its own: another process writing in the machine's (a test run
        # beside it) would make the state watch look at it, and the count move
        temp = Path(tmp) / "temp"
        temp.mkdir()
        env["TMPDIR"] = str(temp)
        configs = configurations(sys.executable, out)
        runs = [(name, configs[name], True) for name in PYTEST_LAYERS]
        runs.append(("test-gate", configs["gate"], False))
        with ThreadPoolExecutor(jobs) as pool:
            counts = pool.map(
                lambda run: instructions(run[1], root, env, Path(tmp) / f"cg-{run[0]}", run[2]),
                runs,
            )
            found = {name: count for (name, _, _), count in zip(runs, counts, strict=True)}
    print(f"{size} tests: " + ", ".join(f"{k} {v / 1e9:.2f} G" for k, v in found.items()))
    return found


def main() -> int:
    parser = section_parser(__doc__, "10000")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--fixtures",
        type=int,
        default=0,
        help="each test asks for this many fixtures (a section of its own in RESULTS.md)",
    )
    args = parser.parse_args()
    rows = [(int(s), measure(int(s), args.jobs, args.fixtures)) for s in args.sizes.split(",")]
    layers = [
        ("pytest-json-report", "json-report", "bare"),
        ("pytest-random-order and pytest-rerunfailures", "plugins", "json-report"),
        ("pytest-test-gate's record, without the state watch", "record-nostate", "plugins"),
        ("the state watch", "record", "record-nostate"),
    ]
    asked = f" --fixtures {args.fixtures}" if args.fixtures else ""
    lines = [
        "## Instructions: what each layer costs, the same every run"
        + (f", with {args.fixtures} fixtures a test" if args.fixtures else ""),
        "",
        f"Reproduce: `.venv/bin/python benchmarks/instructions.py --sizes {args.sizes}{asked}`. "
        f"Python {platform.python_version()}, valgrind's cachegrind. overhead.py's suite "
        "and configurations; instructions executed by the process tree, in bare pytest's "
        "(G = 10^9). test-gate's own process is counted with the interpreter check it starts, "
        "and with pytest run natively, and a temp directory of its own. Not time: "
        "overhead.py's CPU medians are that; this says where it goes.",
        "",
        "| layer | " + " | ".join(f"{size} tests" for size, _ in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for label, name, base in layers:
        cells = [f"{(f[name] - f[base]) / f['bare']:+.3f}x" for _, f in rows]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    own = [f"+{f['test-gate'] / f['bare']:.3f}x" for _, f in rows]
    lines.append("| test-gate's own process (the interpreter check, read, decide, write) | ")
    lines[-1] += " | ".join(own) + " |"
    total = [f"{(f['record'] - f['plugins'] + f['test-gate']) / f['bare']:+.3f}x" for _, f in rows]
    lines.append("| **test-gate's part over the three plugins** | " + " | ".join(total) + " |")
    bare = [f"{f['bare'] / 1e9:.1f} G" for _, f in rows]
    lines.append("| (bare pytest) | " + " | ".join(bare) + " |")
    section = f"instructions-fixtures-{args.fixtures}" if args.fixtures else "instructions"
    write_unless(args, section, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
