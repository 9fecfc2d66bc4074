"""How long the action's "Set up the gate" step takes, under act (host mode, offline).

    python benchmarks/setup.py [--rounds 5] [--out benchmarks/RESULTS.md]

Each round runs the end-to-end workflow `pass.yml` (the action used twice in one job) once with
pip and once with uv on PATH, interleaved, and reads act's own step timings: the first use is
cold (nothing installed yet), the second warm (it reuses what the first installed). The gate's
two pinned dependencies come from a local folder, as in the end-to-end tests. Run it in the dev
venv (`.venv/bin/python benchmarks/setup.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests"), str(REPO / "tests" / "e2e")]

from measure import median_and_range  # noqa: E402
from results_file import write_section  # noqa: E402
from test_action import fill_wheelhouse, run_act  # noqa: E402

STEP = "Set up the gate"


def setup_seconds(durations: dict[str, float], use: str) -> float:
    return next(v for k, v in durations.items() if k.startswith(f"{use}/setup ") and STEP in k)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    uv = str(Path(sys.executable).parent / "uv")
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        house = fill_wheelhouse(Path(scratch) / "house")
        for round_ in range(args.rounds):
            for name, installer in (("pip", None), ("uv", uv)):
                run = run_act(Path(scratch) / f"{name}-{round_}", "pass.yml", house, uv=installer)
                durations = run.durations()
                times.setdefault(f"{name}, cold", []).append(setup_seconds(durations, "first"))
                times.setdefault(f"{name}, warm", []).append(setup_seconds(durations, "second"))
    rows = [f"| {name} | {median_and_range(values)} |" for name, values in times.items()]
    text = "\n".join(
        [
            "## The action's setup step",
            "",
            f"Reproduce: `.venv/bin/python benchmarks/setup.py --rounds {args.rounds}`. act in "
            "host mode, offline; the step's time as act reports it; median and range of "
            f"{args.rounds} interleaved rounds.",
            "",
            "| installer, use | median | range |",
            "|---|---:|---:|",
            *rows,
            "",
            "Before (the previous landing's figures, measured the same way with its venv build, "
            "not re-measured here): pip 3.5-5.0 s from a local wheelhouse and 9.6-10.9 s from "
            "PyPI, uv 1.2-1.4 s; 14 packages, 57 MB in the venv. Now: no venv; test-gate runs "
            "from the action's source and installs 2 packages (actions-toolkit without its "
            "dependencies, packaging), pinned and hashed.",
        ]
    )
    write_section(Path(args.out), "setup", text)
    print(text)


if __name__ == "__main__":
    main()
