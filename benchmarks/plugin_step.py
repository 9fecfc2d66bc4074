"""How long the action's plugin step takes: `test-gate install-plugins` into the tests'
interpreter, cold (a fresh virtualenv with pytest and nothing else) and warm (every pin met).

    .venv/bin/python benchmarks/plugin_step.py [--rounds 5]

Side by side in each round, interleaved: *before*, pip given pytest-test-gate's source tree
(as the action did until 0.6: pip builds a wheel through an isolated hatchling environment);
*now*, `test-gate install-plugins`, which hands pip a wheel it makes from the tree; *warm*,
the same command once everything is in place. Each cold configuration gets its own fresh
virtualenv (made before the clock starts). pip's cache is warm, as on a runner that caches
pip's directory; the figures are the step's wall time and the CPU time of its process tree,
medians of the rounds.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "src")]

from measure import median_and_range  # noqa: E402
from results_file import write_section  # noqa: E402

from test_gate.run.plugins import PLUGINS_FILE, SOURCE_TREE, requirements  # noqa: E402

GATE = Path(sys.executable).parent / "test-gate"
PYTEST = "pytest==9.2.0"


def fresh(where: Path) -> str:
    venv.create(where, with_pip=True)
    python = str(where / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", PYTEST], check=True
    )
    return python


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def before_argv(python: str, scratch: Path) -> list[str]:
    hold = scratch / "hold.txt"
    hold.write_text(PYTEST + "\n")
    pins = [str(p) for p in requirements(PLUGINS_FILE.read_text(encoding="utf-8"))]
    return [
        python, "-m", "pip", "install", "--disable-pip-version-check", *pins,
        str(SOURCE_TREE), "--constraint", str(hold),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"before": [], "now": [], "warm": []}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for round_ in range(args.rounds):
            for name in ("before", "now"):
                python = fresh(scratch / f"{name}-{round_}")
                argv = (
                    before_argv(python, scratch)
                    if name == "before"
                    else [str(GATE), "install-plugins", f"--python={python}"]
                )
                times[name].append(timed(argv))
                if name == "now":
                    again = [str(GATE), "install-plugins", f"--python={python}"]
                    times["warm"].append(timed(again))
    labels = {
        "before": "cold, before: pip builds pytest-test-gate from its tree",
        "now": "cold, now: `test-gate install-plugins` (a wheel made here)",
        "warm": "warm: every pin met, nothing installed",
    }
    rows = [
        f"| {labels[name]} | {median_and_range([w for w, _ in values])} | "
        f"{statistics.median(c for _, c in values):.2f} s |"
        for name, values in times.items()
    ]
    text = "\n".join(
        [
            "## The action's plugin step",
            "",
            f"Reproduce: `.venv/bin/python benchmarks/plugin_step.py --rounds {args.rounds}`. "
            "The command the step runs, into a fresh virtualenv holding only pytest (cold) and "
            "again once it is done (warm); pip's cache warm; interleaved rounds, medians.",
            "",
            "| configuration | wall, median | wall, range | CPU of the process tree |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )
    write_section(Path(args.out), "plugin-step", text)
    print(text)


if __name__ == "__main__":
    main()
