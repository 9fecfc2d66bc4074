"""Two benchmarks on real reports of large suites:

1. `test-gate gate` on a report of N tests against a bare `json.load` of the same file: CPU
   time of each process (medians of interleaved rounds) and peak resident memory.
2. Scaling: each stage of run, gate and merge timed on its own (CPU time, in process) at two
   sizes, 10x apart in tests and files: a stage that is linear takes about 10x.

    python benchmarks/scale.py [--sizes 10000:100,100000:1000] [--rounds 5]

writes the "gate-load" and "scaling" sections of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu, peak_mib
from results_file import write_section

HERE = Path(__file__).resolve().parent
LOAD = "import json, sys\nwith open(sys.argv[1], 'rb') as f:\n    json.load(f)\n"


def make_suite(root: Path, tests: int, files: int) -> None:
    root.mkdir(parents=True)
    per = tests // files
    for index in range(files):
        (root / f"test_f{index:05}.py").write_text(
            f"import pytest\n\n@pytest.mark.parametrize('n', range({per}))\n"
            "def test_it(n):\n    pass\n"
        )


def real_run(root: Path, out: Path) -> tuple[Path, Path, float]:
    """pytest as `test-gate run` starts it: the report, the record, pytest's CPU seconds."""
    from test_gate.run.pytest_command import Asked, explicit_plugins, pytest_argv

    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    report, record = out / "report.json", out / "record.jsonl"
    argv = pytest_argv(
        sys.executable,
        ["-q", "-p", "no:cacheprovider"],
        Asked(1, 2),
        report,
        "bench",
        explicit_plugins(env),
        record_file=record,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=root, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return report, record, cpu


def plain_run(root: Path, out: Path) -> Path:
    """pytest with pytest-json-report alone, as the seed plan's own path has it (`pytest
    --json-report`, then a gate on the report): no pytest-test-gate record in it."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    report = out / "plain-report.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "pytest_jsonreport.plugin", "--json-report", f"--json-report-file={report}"],
        cwd=root, env=env, capture_output=True, check=False,
    )  # fmt: skip
    return report


def timed(stage: Callable[[], Any]) -> tuple[Any, float]:
    started = time.process_time()
    value = stage()
    return value, time.process_time() - started


def stages(root: Path, out: Path) -> dict[str, float]:
    """Each stage of `run`, `gate` and `merge`, in process, CPU seconds."""
    from dataclasses import replace

    from test_gate.analyse.merge import merge_jobs
    from test_gate.analyse.result import Files, analyse
    from test_gate.analyse.verdict import Policy
    from test_gate.pipeline import read_reports
    from test_gate.read import attribution
    from test_gate.read.files import gc_paused
    from test_gate.read.record import load_record
    from test_gate.read.report import load_json
    from test_gate.read.results import read_result
    from test_gate.read.run_files import read_run_files
    from test_gate.render import annotations, result_json, summary, terminal

    report, record, pytest_cpu = real_run(root, out)
    times = {"run: pytest (the process tree)": pytest_cpu}
    with gc_paused():
        _, times["run: read the record"] = timed(lambda: load_record(record))
        _, times["run: read the report"] = timed(lambda: load_json(report))
        run, times["run: read both, cross-checked"] = timed(
            lambda: read_run_files(report, record, "bench")
        )
    run, times["run: attribute ignored files"] = timed(lambda: attribution.attribute(run))
    files = Files(out / "result.json", out / "summary.md", report)
    result, times["analyse (verdict)"] = timed(
        lambda: analyse(run, Policy(), files, seed=1, cell="bench")
    )
    with gc_paused():  # as the pipelines publish
        text, times["render: result file"] = timed(lambda: result_json.render(result))
        _, times["render: summary"] = timed(lambda: summary.render(result))
        _, times["render: terminal"] = timed(lambda: terminal.render(result))
        _, times["render: annotations"] = timed(lambda: annotations.render(result))
        _, times["publish: write the result"] = timed(lambda: files.result.write_text(text))
    _, times["gate: read a report (no record file)"] = timed(lambda: read_reports([report]))
    (out / "other.json").write_text(text.replace('"cell": "bench"', '"cell": "other"', 1))
    with gc_paused():
        jobs, times["merge: read 2 results"] = timed(
            lambda: [read_result(files.result), read_result(out / "other.json")]
        )
    with gc_paused():
        (merged, facts), times["merge: check and put together"] = timed(lambda: merge_jobs(jobs))
    merged_result, times["merge: analyse"] = timed(
        lambda: analyse(merged, Policy(), replace(files), merge=facts)
    )
    with gc_paused():
        _, times["merge: render the result file"] = timed(lambda: result_json.render(merged_result))
    return times


def gate_against_load(report: Path, out: Path, rounds: int) -> dict[str, tuple[float, float]]:
    gate = [
        sys.executable, "-m", "test_gate", "gate", str(report), "--github", "false",
        "--result-file", str(out / "gate-result.json"), "--summary-file", str(out / "gate.md"),
    ]  # fmt: skip
    load = [sys.executable, "-c", LOAD, str(report)]
    times: dict[str, list[float]] = {"load": [], "gate": []}
    for _ in range(rounds):
        times["load"].append(cpu(load, ok=None))
        times["gate"].append(cpu(gate, ok=None))
    return {
        name: (statistics.median(values), peak_mib(load if name == "load" else gate))
        for name, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000:100,100000:1000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split(":")) for size in args.sizes.split(",")]
    columns: list[dict[str, float]] = []
    load_rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tg-scale-") as tmp:
        for tests, files in sizes:
            root, out = Path(tmp) / f"suite-{tests}", Path(tmp) / f"out-{tests}"
            make_suite(root, tests, files)
            out.mkdir()
            columns.append(stages(root, out))
            for kind, report in (
                ("with the record", out / "report.json"),
                ("plain pytest-json-report", plain_run(root, out)),
            ):
                found = gate_against_load(report, out, args.rounds)
                (load_cpu, load_mib), (gate_cpu, gate_mib) = found["load"], found["gate"]
                load_rows.append(
                    f"| {tests:,} | {kind} | {report.stat().st_size / 2**20:.0f} MiB | "
                    f"{load_cpu:.2f} | {gate_cpu:.2f} | {gate_cpu / load_cpu:.2f}x | "
                    f"{load_mib:.0f} | {gate_mib:.0f} | {gate_mib / load_mib:.2f}x |"
                )
                print(load_rows[-1], flush=True)
    command = f"`python benchmarks/scale.py --sizes {args.sizes} --rounds {args.rounds}`"
    gate_text = "\n".join(
        [
            "## `test-gate gate` against a bare `json.load`",
            "",
            f"{command}: the report of a real run of N trivial tests, judged by `test-gate "
            "gate` (reading, the verdict, the result file and the summary) against a bare "
            "`json.load` of the same file, each in its own process: the report `test-gate "
            "run` has pytest write (pytest-json-report with pytest-test-gate's record in it), "
            "and a plain pytest-json-report report (`pytest --json-report`, no record). CPU "
            f"time, medians of {args.rounds} interleaved rounds; peak resident memory "
            "measured alone.",
            "",
            "| tests | report | size | `json.load` CPU s | `gate` CPU s | ratio | `json.load` "
            "MiB | `gate` MiB | ratio |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
            *load_rows,
        ]
    )
    head = " | ".join(f"{t:,} tests, {f:,} files" for t, f in sizes)
    rows = []
    for stage in columns[0]:
        values = [c[stage] for c in columns]
        growth = f"{values[-1] / values[0]:.1f}x" if values[0] > 0.0005 else "n/a"
        rows.append(f"| {stage} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {growth} |")
    scale_text = textwrap.dedent(
        f"""
        ## Scaling: every stage, at two sizes

        {command}: each stage of `run`, `gate` and `merge` on the same real run, timed on its
        own (CPU seconds, in process; pytest's own line is its process tree). The sizes are 10x
        apart in tests and in files: a linear stage grows about 10x.

        | stage | {head} | growth |
        |---|{"---:|" * len(sizes)}---:|
        """
    ).strip()
    scale_text += "\n" + "\n".join(rows)
    print(gate_text, scale_text, sep="\n\n")
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "gate-load", gate_text)
        write_section(HERE / "RESULTS.md", "scaling", scale_text)


if __name__ == "__main__":
    main()
