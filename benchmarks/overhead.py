"""What test-gate costs on top of pytest: CPU time of the whole process tree, as ratios to bare
pytest on the same suite, measured side by side (the configurations interleaved in each
round, in an order of its own each round; medians over the rounds).

    python benchmarks/overhead.py [--sizes 10000] [--rounds 7] [--out benchmarks/RESULTS.md]

Configurations, each on the same synthetic suite (modules of 25 tests: 19 plain, 5
parametrized, 1 skipped), with no installed plugin loaded unless named, and bytecode as in CI
(`installed_sources`): every run compiles the test modules and test-gate's own source, as the
action's first run in a job does; pytest-test-gate is compiled, as pip installs it:
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
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import cpu
from results_file import section_parser, write_unless

MODULE = """
import pytest

@pytest.mark.parametrize("n", range(5))
def test_param(n):
    assert n * n >= 0

{functions}

@pytest.mark.skip(reason="benchmark skip")
def test_skipped():
    pass
"""
OMIT = ["--json-report-omit", "log", "streams", "warnings", "keywords"]


def write_suite(root: Path, tests: int) -> int:
    per_module = 25
    modules = max(1, tests // per_module)
    functions = "\n".join(
        f"def test_plain_{j}():\n    assert sum(range({j})) >= 0\n" for j in range(19)
    )
    for index in range(modules):
        (root / f"test_mod_{index:04d}.py").write_text(MODULE.format(functions=functions))
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
    """Both distributions' sources as a job imports them, as a PYTHONPATH (before the
    editable installs): test-gate's copied without bytecode (the action runs it from its
    checkout, and its first run in a job compiles it), pytest-test-gate's copied and compiled
    (`test-gate install-plugins` installs it with pip, which compiles it). Whatever bytecode
    the working tree holds, every run measures the same thing. `plugin_source`: the folder
    that holds the pytest_test_gate package (another version's, for busy_temp.py)."""
    skip = shutil.ignore_patterns("__pycache__")
    gate, plugin = into / "gate-src", into / "plugin-src"
    shutil.copytree(ROOT / "src" / "test_gate", gate / "test_gate", ignore=skip)
    shutil.copytree(plugin_source / "pytest_test_gate", plugin / "pytest_test_gate", ignore=skip)
    compileall.compile_dir(plugin, quiet=1)
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


def measure(size: int, rounds: int, python: str) -> tuple[int, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "suite"
        root.mkdir()
        tests = write_suite(root, size)
        out = Path(tmp) / "out"
        env = pytest_env(installed_sources(Path(tmp)))
        gh_env = dict(
            env,
            GITHUB_ACTIONS="true",
            GITHUB_OUTPUT=f"{out}-o",
            GITHUB_STEP_SUMMARY=f"{out}-ss",
            GITHUB_WORKSPACE=str(root),
        )
        configs = configurations(python, out)
        times: dict[str, list[float]] = {name: [] for name in configs}
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
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"{tests} tests: " + ", ".join(f"{k} {v:.2f}s" for k, v in medians.items()))
        return tests, medians


def main() -> int:
    parser = section_parser(__doc__, "10000")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rows = [measure(int(s), args.rounds, sys.executable) for s in args.sizes.split(",")]
    names = ["junitxml", "json-report", "plugins", "record-nostate", "record", "gate", "gate-gh"]
    lines = [
        "## The gate's overhead against bare pytest",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/overhead.py --sizes {args.sizes} "
        f"--rounds {args.rounds}`. Python {platform.python_version()}, {platform.system()}, "
        f"{os.cpu_count()} cores. CPU time (user + system) of the whole process tree, medians "
        f"of {args.rounds} rounds; in each round every configuration runs once, in an order "
        "of its own (seeded). "
        "Bytecode as in CI: the test modules and test-gate's own source compile in every run "
        "(the action runs test-gate from its checkout), pytest-test-gate is compiled (pip "
        "installs it so). Synthetic suite: modules of 25 tests (19 plain, 5 parametrized, "
        "1 skipped).",
        "",
        "| tests | bare (CPU s) | " + " | ".join(f"{n} / bare" for n in names) + " |",
        "|---:|---:|" + "---:|" * len(names),
    ]
    for tests, medians in rows:
        ratios = " | ".join(f"{medians[n] / medians['bare']:.2f}x" for n in names)
        lines.append(f"| {tests} | {medians['bare']:.2f} | {ratios} |")
    # the floor and what each layer adds on top of the one below it, from the same medians
    layers = [
        ("pytest-json-report (the product's report)", "json-report", "bare"),
        ("pytest-random-order and pytest-rerunfailures", "plugins", "json-report"),
        ("pytest-test-gate's record, without the state watch", "record-nostate", "plugins"),
        ("the state watch (what each test leaves behind)", "record", "record-nostate"),
        ("test-gate's own process (read, decide, write)", "gate", "record"),
    ]
    lines += [
        "",
        "What each layer adds, in bare pytest's CPU time (the same medians):",
        "",
        "| layer | " + " | ".join(f"{tests} tests" for tests, _ in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for label, upper, lower in layers:
        added = " | ".join(
            f"{(m[upper] - m[lower]) / m['bare']:+.2f}x ({m[upper] - m[lower]:+.2f} s)"
            for _, m in rows
        )
        lines.append(f"| {label} | {added} |")
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
        "outputs, annotations, and the report, which a step output names).",
        "",
    ]
    write_unless(args, "overhead", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
