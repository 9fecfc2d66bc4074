"""What test-gate costs on top of pytest: CPU time of the whole process tree, as ratios to bare
pytest on the same suite, measured side by side (the configurations interleaved in each
round, in an order of its own each round; medians over the rounds).

    python benchmarks/overhead.py [--sizes 10000] [--rounds 7] [--out benchmarks/RESULTS.md]

Configurations, each on the same synthetic suite (modules of 25 tests: 19 plain, 5
parametrized, 1 skipped), with no installed plugin loaded unless named, and bytecode as in the
action's run step (`installed_sources`): every run compiles the test modules, and the modules
of test-gate's own source that the action's setup step did not import; pytest-test-gate is
compiled, as pip installs it:
  bare        python -m pytest -q
  junitxml    the same with --junitxml (what the peers' reporters read)
  json-report the same with pytest-json-report, with test-gate's omit options
  plugins     pytest-random-order, pytest-rerunfailures and pytest-json-report
  record-nostate  the same as record, with the state watch turned off (--test-gate-no-state)
  record      the plugins and pytest-test-gate, with exactly the options test-gate run gives
              pytest outside GitHub Actions: the whole of what runs inside pytest, the record,
              the state watch and the report's digest included (the report itself is not
              kept, so not written)
  gate        test-gate run (the plugins, pytest-test-gate's record, the verdict, every file)
  gate-gh     test-gate run --github true (also the job summary, outputs and annotations)
"""

from __future__ import annotations

import compileall
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu, median_interval
from results_file import section_parser, write_unless

MODULE = """
import pytest
{fixtures}
@pytest.mark.parametrize("n", range(5))
def test_param(n{asked}):
    assert n * n >= 0

{functions}

@pytest.mark.skip(reason="benchmark skip")
def test_skipped():
    pass
"""
OMIT = ["--json-report-omit", "log", "streams", "warnings", "keywords"]


def write_suite(root: Path, tests: int, fixtures: int = 0) -> int:
    """`fixtures`: each test but the skipped one asks for that many fixtures of its module
    (each a setup of its own, as a test asking for `tmp_path` and `monkeypatch` has)."""
    per_module = 25
    modules = max(1, tests // per_module)
    defined = "".join(f"\n@pytest.fixture\ndef fx{i}():\n    return {i}\n" for i in range(fixtures))
    names = [f"fx{i}" for i in range(fixtures)]
    functions = "\n".join(
        f"def test_plain_{j}({', '.join(names)}):\n    assert sum(range({j})) >= 0\n"
        for j in range(19)
    )
    asked = "".join(f", {name}" for name in names)
    text = MODULE.format(fixtures=defined, asked=asked, functions=functions)
    for index in range(modules):
        (root / f"test_mod_{index:04d}.py").write_text(text)
    return modules * per_module


def configurations(python: str, out: Path, digest_only: bool = True) -> dict[str, list[str]]:
    """`digest_only` False: the record configurations save the whole report, as a
    pytest-test-gate older than --test-gate-digest-only did (busy_temp.py's --before)."""
    pytest = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    report = ["--json-report", f"--json-report-file={out}-report.json", *OMIT]
    gate = [
        python, "-m", "test_gate", "run", ".", "--python", python, "--seed", "1",
        "--diagnose", "false", "--result-file", f"{out}-result.json",
        "--summary-file", f"{out}-summary.md",
    ]  # fmt: skip
    plugins = [
        *("-p", "random_order.plugin", "-p", "pytest_rerunfailures"),
        *("-p", "pytest_jsonreport.plugin", "--random-order-seed=1", "--reruns=2"),
    ]
    record = [
        *("-p", "pytest_test_gate.plugin", "--test-gate", "--test-gate-run-id=bench"),
        f"--test-gate-record={out}-record.jsonl",
        f"--test-gate-stacks={out}-stacks.txt",
        *("-p", "no:randomly", "--random-order-bucket=module"),
        *("--json-report", "--json-report-file=none", f"--test-gate-report={out}-tg.json"),
        # outside GitHub Actions and with no --report-file, no one keeps the report
        *(["--test-gate-digest-only"] if digest_only else []),
        *OMIT,
    ]
    return {
        "bare": pytest,
        "junitxml": [*pytest, f"--junitxml={out}-junit.xml"],
        "json-report": [*pytest, "-p", "pytest_jsonreport.plugin", *report],
        "plugins": [*pytest, *plugins, *report],
        "record-nostate": [*pytest, *plugins, *record, "--test-gate-no-state"],
        "record": [*pytest, *plugins, *record],
        "gate": [*gate, "--github", "false", "--", "-q", "-p", "no:cacheprovider"],
        "gate-gh": [*gate, "--github", "true", "--", "-q", "-p", "no:cacheprovider"],
    }


ROOT = Path(__file__).resolve().parent.parent


PLUGIN_SOURCE = ROOT / "pytest-test-gate" / "src"


def installed_sources(into: Path, plugin_source: Path = PLUGIN_SOURCE) -> str:
    """Both distributions' sources as a job's run step imports them, as a PYTHONPATH (before
    the editable installs): test-gate's copied without bytecode, then `test-gate --version`
    run on the copy as the action's setup step runs it (which compiles the modules it
    imports, most of a run's; the run step compiles the rest), and pytest-test-gate's copied
    and compiled (`test-gate install-plugins` installs it with pip, which compiles it).
    Whatever bytecode the working tree holds, every run measures the same thing.
    `plugin_source`: the folder that holds the pytest_test_gate package (another
    version's, for busy_temp.py)."""
    skip = shutil.ignore_patterns("__pycache__")
    gate, plugin = into / "gate-src", into / "plugin-src"
    shutil.copytree(ROOT / "src" / "test_gate", gate / "test_gate", ignore=skip)
    shutil.copytree(plugin_source / "pytest_test_gate", plugin / "pytest_test_gate", ignore=skip)
    compileall.compile_dir(plugin, quiet=1)
    # the setup step's import, with this checkout's pytest-test-gate (the editable install)
    # beside it: `plugin_source` may be an older one, which this test-gate does not import
    setup = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "test_gate", "--version"],
        env=dict(setup, PYTHONPATH=str(gate)),
        check=True,
        capture_output=True,
    )
    return os.pathsep.join([str(gate), str(plugin)])


def pytest_env(sources: str = "") -> dict[str, str]:
    """The environment every configuration runs in: no GitHub variables, no installed plugin
    loaded unless named, no PYTEST_ADDOPTS, no bytecode written (the test modules compile in
    every run), and `sources` (`installed_sources`) first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    if sources:
        env["PYTHONPATH"] = sources
    return env


HOOK = Path(__file__).resolve().parent / "process_cpu"  # its sitecustomize (see there)
ALL = ["bare", "junitxml", "json-report", "plugins", "record-nostate", "record", "gate", "gate-gh"]
GATES = ("gate", "gate-gh")  # the configurations that run test-gate's own processes


def own_cpu(folder: Path) -> float:
    """CPU seconds of the run's Python processes other than pytest, each measured in itself
    (process_cpu/sitecustomize.py): test-gate's process and the interpreter check it starts."""
    total = 0.0
    for entry in folder.iterdir():
        seconds, _, ran = entry.read_text(encoding="utf-8").strip().partition(" ")
        if Path(ran).parent.name != "pytest":
            total += float(seconds)
        entry.unlink()
    return total


Rounds = dict[str, list[float]]  # a configuration's CPU seconds, one a round, in round order


def measure(size: int, rounds: int, python: str, names: list[str]) -> tuple[int, Rounds, Rounds]:
    """Every configuration named, once a round, and test-gate's own processes' part of the
    gate configurations' runs."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        tests = write_suite(root, size)
        out = Path(tmp) / "out"
        processes = Path(tmp) / "processes"
        processes.mkdir()
        env = pytest_env(os.pathsep.join([str(HOOK), installed_sources(Path(tmp))]))
        env["BENCH_CPU_DIR"] = str(processes)
        gh_env = dict(
            env,
            GITHUB_ACTIONS="true",
            GITHUB_OUTPUT=f"{out}-o",
            GITHUB_STEP_SUMMARY=f"{out}-ss",
            GITHUB_WORKSPACE=str(root),
        )
        everything = configurations(python, out)
        configs = {name: everything[name] for name in names}
        times: Rounds = {name: [] for name in configs}
        own: Rounds = {name: [] for name in configs if name in GATES}
        for index in range(rounds):
            # each round in an order of its own (seeded, the same every run of the benchmark):
            # none always runs first, or right after the same other one
            order = list(configs)
            random.Random(index).shuffle(order)
            for name in order:
                argv = configs[name]
                for path in (Path(f"{out}-o"), Path(f"{out}-ss")):
                    path.write_text("")
                times[name].append(cpu(argv, root, gh_env if name == "gate-gh" else env))
                seconds = own_cpu(processes)  # read and removed after every run
                if name in own:
                    own[name].append(seconds)
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"{tests} tests: " + ", ".join(f"{k} {v:.2f}s" for k, v in medians.items()))
        return tests, times, own


def median_cell(ratios: list[float]) -> str:
    """A table cell: the median of one ratio a round, and its 95% interval
    (measure.median_interval)."""
    interval = median_interval(ratios)
    around = f" ({interval[0]:+.3f}x to {interval[1]:+.3f}x)" if interval else ""
    return f"{statistics.median(ratios):+.3f}x{around}"


def paired(upper: list[float], lower: list[float], bare: list[float]) -> str:
    """What `upper` adds over `lower`, round by round in that round's bare pytest."""
    return median_cell([(u - low) / b for u, low, b in zip(upper, lower, bare, strict=True)])


def main() -> int:
    parser = section_parser(__doc__, "10000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--configs",
        default=",".join(ALL),
        help="the configurations to run, comma-separated (bare is always run)",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.configs.split(",")) - set(ALL))
    if unknown:
        parser.error(f"--configs: unknown {', '.join(unknown)} (known: {', '.join(ALL)})")
    chosen = ["bare", *(n for n in ALL if n != "bare" and n in args.configs.split(","))]
    rows = [measure(int(s), args.rounds, sys.executable, chosen) for s in args.sizes.split(",")]
    names = chosen[1:]
    configs_note = "" if chosen == ALL else f" --configs {','.join(names)}"
    lines = [
        "## The gate's overhead against bare pytest",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/overhead.py --sizes {args.sizes} "
        f"--rounds {args.rounds}{configs_note}`. Python {platform.python_version()}, "
        f"{platform.system()}, {os.cpu_count()} cores. CPU time (user + system) of the "
        f"whole process tree, over {args.rounds} rounds; in each round every configuration "
        "runs once, in an order of its own (seeded). "
        "Bytecode as in the action's run step: the test modules compile in every run; "
        "test-gate runs from its checkout, where the setup step's `test-gate --version` "
        "compiled the modules it imports (most of a run's), and every run compiles the rest; "
        "pytest-test-gate is compiled (pip installs it so). Synthetic suite: modules of 25 "
        "tests (19 plain, 5 parametrized, 1 skipped).",
        "",
        "Medians of each configuration:",
        "",
        "| tests | bare (CPU s) | " + " | ".join(f"{n} / bare" for n in names) + " |",
        "|---:|---:|" + "---:|" * len(names),
    ]
    for tests, times, _ in rows:
        medians = {name: statistics.median(values) for name, values in times.items()}
        ratios = " | ".join(f"{medians[n] / medians['bare']:.2f}x" for n in names)
        lines.append(f"| {tests} | {medians['bare']:.2f} | {ratios} |")
    # what each layer adds on top of the one below it, round by round: a slow minute of the
    # machine slows every configuration of that round, and falls out of the difference
    layers = [
        ("pytest-json-report (the product's report)", "json-report", "bare"),
        ("pytest-random-order and pytest-rerunfailures", "plugins", "json-report"),
        ("pytest-test-gate's record, without the state watch", "record-nostate", "plugins"),
        ("the state watch (what each test leaves behind)", "record", "record-nostate"),
        ("test-gate's own process (read, decide, write), as gate - record", "gate", "record"),
        ("**test-gate's part over the three plugins** (gate - plugins)", "gate", "plugins"),
        ("the same in GitHub mode (gate-gh - plugins)", "gate-gh", "plugins"),
    ]
    lines += [
        "",
        "What each layer adds, in bare pytest's CPU time: the median over the rounds of the "
        "difference within a round, divided by that round's bare pytest, and the 95% interval "
        "of that median (order statistics: the interval holds the true median with at least "
        "95% probability, whatever the distribution):",
        "",
        "| layer | " + " | ".join(f"{tests} tests" for tests, _, _ in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for label, upper, lower in layers:
        if upper in chosen and lower in chosen:
            cells = " | ".join(paired(t[upper], t[lower], t["bare"]) for _, t, _ in rows)
            lines.append(f"| {label} | {cells} |")
    for name in GATES:
        if name in chosen:
            cells = " | ".join(
                median_cell([o / b for o, b in zip(own[name], t["bare"], strict=True)])
                for _, t, own in rows
            )
            lines.append(
                f"| test-gate's own processes in {name}, each measured in itself | {cells} |"
            )
    lines += [
        "",
        "*junitxml*: bare pytest writing a JUnit XML file, what the peers' reporters read. "
        "*json-report*: pytest-json-report alone, with test-gate's omit options. *plugins*: the "
        "three pinned plugins (random order, reruns, JSON report). *record*: the plugins and "
        "pytest-test-gate, with the options `test-gate run` gives pytest outside GitHub "
        "Actions (the record as it goes, the report's digest; the report, which no one keeps, "
        "is not written): all that runs inside pytest, so *gate* minus *record* is test-gate's "
        "own process. *gate*: `test-gate run` "
        "(the plugins, pytest-test-gate's record, the interpreter check, reading, the verdict "
        "and every output file). *gate-gh*: the same in GitHub mode (job summary, step "
        "outputs, annotations, and the report, which a step output names). "
        "*Each measured in itself*: the CPU time test-gate's process and the interpreter check "
        "it starts give for themselves as they exit (benchmarks/process_cpu), apart from the "
        "pytest process they run: the one layer that is not the difference of two runs.",
        "",
    ]
    write_unless(args, "overhead", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
