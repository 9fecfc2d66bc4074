"""What the action's run step adds over `test-gate run` itself: the step's own script (bash,
action/gate.py and the gate's pinned dependencies beside the source) against the command line,
on the same small suite, CPU time of the process tree, medians of interleaved rounds.

    python benchmarks/run_step.py [--tests 100] [--rounds 9]

writes the "run-step" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu
from results_file import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    with tempfile.TemporaryDirectory(prefix="tg-step-") as tmp:
        root = Path(tmp)
        suite = root / "suite"
        suite.mkdir()
        (suite / "test_many.py").write_text(
            f"import pytest\n\n@pytest.mark.parametrize('n', range({args.tests}))\n"
            "def test_it(n):\n    pass\n"
        )
        lib = root / "lib"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                "--require-hashes", "--target", str(lib),
                "-r", str(REPO / "action" / "requirements.txt"),
            ],
            check=True,
        )  # fmt: skip
        (root / "summary").write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        env.update(
            PYTHONDONTWRITEBYTECODE="1",
            GITHUB_ACTIONS="true",
            GITHUB_OUTPUT=str(root / "output"),
            GITHUB_STEP_SUMMARY=str(root / "summary"),
            GITHUB_WORKSPACE=str(suite),
            RUNNER_TEMP=str(root),
        )
        step_env = dict(
            env,
            GITHUB_ACTION_PATH=str(REPO),
            GATE_PYTHON=sys.executable,
            GATE_LIB=str(lib),
            **{"INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()},
        )
        step_env.update(INPUT_PYTHON=sys.executable, INPUT_SEED="1", INPUT_WORKING_DIRECTORY=".")
        run_step = ["bash", "-c", step["run"]]
        cli = [
            sys.executable, "-m", "test_gate", "run", ".", "--python", sys.executable,
            "--seed", "1", "--timeout", inputs["timeout"], "--github", "true",
        ]  # fmt: skip
        times: dict[str, list[float]] = {"cli": [], "step": []}
        for _ in range(args.rounds):
            times["cli"].append(cpu(cli, suite, env))
            times["step"].append(cpu(run_step, suite, step_env))
    medians = {k: statistics.median(v) for k, v in times.items()}
    added = medians["step"] - medians["cli"]
    text = textwrap.dedent(
        f"""
        ## The action's run step against `test-gate run`

        `python benchmarks/run_step.py --tests {args.tests} --rounds {args.rounds}`: the run
        step's own script from action.yml (bash, `action/gate.py`, the gate's pinned
        dependencies from their folder, every input through `env:`) against
        `python -m test_gate run --github true` with the same settings, on a suite of
        {args.tests} tests. CPU time of the process tree, medians of {args.rounds} interleaved
        rounds, cold bytecode.

        | | CPU s (median) |
        |---|---:|
        | `test-gate run` | {medians["cli"]:.3f} |
        | the action's run step | {medians["step"]:.3f} |
        | the step adds | {added:+.3f} |
        """
    ).strip()
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "run-step", text)


if __name__ == "__main__":
    main()
