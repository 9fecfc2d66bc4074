"""Polluter search: test-gate's diagnosis against detect-test-pollution, on the same cases.

    python benchmarks/od_bench.py [--out benchmarks/RESULTS.md] [--sizes 6,48]

Each case of `od_cases.py` is written with a few filler tests (and again with many), run once
through `test-gate run` at a seed that shows the failure, and given to
`detect-test-pollution --failing-test VICTIM --tests tests`. pytest processes are counted by a
tiny plugin both tools load through PYTEST_ADDOPTS (test-gate's main run is not counted: it is
the CI run that happened anyway); wall time is measured around each search.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import od_cases
from results_file import write_section

COUNTER = """
import os

def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        with open(os.environ["OD_BENCH_COUNT"], "a") as handle:
            handle.write("run\\n")
"""


@dataclass
class Outcome:
    runs: int
    seconds: float
    found: tuple[str, ...]
    note: str = ""


def _env(count_file: Path, plugin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(plugin_dir), env.get("PYTHONPATH")) if p)
    # neither tool needs hypothesis's pytest plugin here; it costs ~1 s per process
    env["PYTEST_ADDOPTS"] = "-p od_bench_counter -p no:hypothesispytest"
    env["OD_BENCH_COUNT"] = str(count_file)
    return env


def _count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def run_test_gate(root: Path, case: od_cases.Case, seed: int, env: dict[str, str]) -> Outcome:
    count = Path(env["OD_BENCH_COUNT"])
    count.unlink(missing_ok=True)
    result_file = root.parent / f"{root.name}-result.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "test_gate",
            "run",
            str(root),
            "--seed",
            str(seed),
            "--python",
            sys.executable,
            "--github",
            "false",
            "--result-file",
            str(result_file),
            "--summary-file",
            str(root.parent / f"{root.name}-summary.md"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    entries = [e for e in result.get("order_dependent", []) if e["victim"] == case.victim]
    if not entries:
        return Outcome(_count(count) - 1, 0.0, (), "not found: " + done.stdout[-300:])
    entry = entries[0]
    found = tuple(entry["polluters"] or entry["setters"])
    runs = _count(count) - 1
    if runs != entry["runs"]:
        raise RuntimeError(f"{case.name}: counted {runs} runs, test-gate reports {entry['runs']}")
    return Outcome(runs, entry["seconds"], found)


def run_dtp(root: Path, case: od_cases.Case, env: dict[str, str]) -> Outcome:
    count = Path(env["OD_BENCH_COUNT"])
    count.unlink(missing_ok=True)
    exe = shutil.which("detect-test-pollution") or str(
        Path(sys.executable).parent / "detect-test-pollution"
    )
    started = time.monotonic()
    done = subprocess.run(
        [exe, "--failing-test", case.victim, "--tests", "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    match = re.search(r"the polluting test is: (\S+)", done.stdout)
    found = (match.group(1),) if match else ()
    note = ""
    if not match:
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        note = lines[-1] if lines else f"exit code {done.returncode}"
    return Outcome(_count(count), round(seconds, 3), found, note)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parent / "RESULTS.md"))
    parser.add_argument("--sizes", default="6,48", help="filler tests per case (comma list)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plugin_dir = work / "plugin"
        plugin_dir.mkdir()
        (plugin_dir / "od_bench_counter.py").write_text(COUNTER)
        env = _env(work / "count.txt", plugin_dir)
        for size in sizes:
            fillers = (2, 3) if size == 6 else (max(1, size // 6), 6)
            for case in od_cases.CASES:
                root = case.write(work / f"{case.name}-{size}", fillers)
                seed = case.seed if fillers == case.fillers else od_cases.find_seed(case, fillers)
                total = od_cases.collected_order(root, seed)
                tg = run_test_gate(root, case, seed, env)
                dtp = run_dtp(root, case, env)
                before = total.index(case.victim)
                n = before if case.kind == "polluted" else len(total) - before - 1
                rows.append((case, len(total), n, seed, tg, dtp))
                print(case.name, len(total), "tg", tg.runs, tg.found, "dtp", dtp.runs, dtp.found)
    lines = [
        "## Polluter search: test-gate vs detect-test-pollution",
        "",
        "Same cases (`benchmarks/od_cases.py`), same machine, same pytest. *runs* = pytest "
        "processes started by the search (counted by a plugin both tools load); *n* = tests "
        "searched (those that ran before the victim; for a state-setter, those after it). "
        "test-gate's main run is not counted: it is the CI run that already happened. "
        "detect-test-pollution starts from the failing test id and discovers the suite itself.",
        "",
        f"Reproduce: `python benchmarks/od_bench.py --sizes {args.sizes}` (in the dev venv). "
        f"Python {platform.python_version()}, {platform.system()}.",
        "",
        "| case | tests | n | test-gate runs | dtp runs | runs dtp/tg | test-gate s | dtp s "
        "| time dtp/tg | test-gate found | dtp found |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for case, total, n, _seed, tg, dtp in rows:
        ok_tg = "✅" if set(tg.found) == set(case.culprits) else f"❌ {tg.note}"
        ok_dtp = "✅" if set(dtp.found) == set(case.culprits) else f"❌ {dtp.note[:80]}"
        both = set(tg.found) == set(dtp.found) == set(case.culprits)
        runs_ratio = _ratio(dtp.runs, tg.runs) if both else "—"
        time_ratio = _ratio(dtp.seconds, tg.seconds) if both else "—"
        lines.append(
            f"| {case.name} | {total} | {n} | {tg.runs} | {dtp.runs} | {runs_ratio} "
            f"| {tg.seconds:.2f} | {dtp.seconds:.2f} | {time_ratio} | {ok_tg} | {ok_dtp} |"
        )
    lines += [
        "",
        "Cases: " + "; ".join(f"**{c.name}**: {c.pattern}" for c in od_cases.CASES) + ".",
        "",
        "Ratios are given only where both tools found the answer; where detect-test-pollution "
        "did not, its runs are those it spent before it stopped.",
        "",
        "detect-test-pollution looks for one polluter: two tests that pollute only together "
        "end in its `AssertionError`, and a victim that fails alone (it needs a state-setter) "
        "is rejected at its first step. test-gate narrows to the minimal set, and searches the "
        "tests that ran after such a victim for the setter.",
        "",
    ]
    write_section(Path(args.out), "polluter-search", "\n".join(lines))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
