"""The diagnosis on a large suite: thousands of tests that each take some milliseconds, and
victims far from their polluters, one for each kind of state a test leaves behind (the
environment, a registry in an application module, a logger, the working directory, a signal
handler). How many pytest runs name each polluter, and what the whole diagnosis costs
against the main run; detect-test-pollution on the first victim, in the same run.

    python benchmarks/od_large.py [--modules 100] [--per-module 30] [--ms 10] [--before REF]

Writes the "polluter search on a large suite" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from results_file import write_section

HERE = Path(__file__).resolve().parent

APP = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]
        testpaths = ["tests"]
    """,
    "app/__init__.py": "",
    "app/billing.py": """
        import os

        def mode():
            return os.environ.get("BILLING_MODE", "lenient")
    """,
    "app/registry.py": """
        HANDLERS = {}

        def register(name, handler):
            HANDLERS[name] = handler

        def available():
            return sorted(HANDLERS)
    """,
    "app/audit.py": """
        import logging

        log = logging.getLogger("app.audit")

        def record(event):
            log.info("audit: %s", event)
    """,
    "app/config.py": """
        def read():
            with open("data/config.txt") as handle:
                return handle.read().strip()
    """,
    "app/shutdown.py": """
        import signal

        def graceful():
            return signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL
    """,
    "data/config.txt": "ok\n",
}


@dataclass(frozen=True)
class Pair:
    kind: str
    polluter: str  # the body of the polluting test
    victim: str  # the body of the victim
    imports: str


PAIRS = (
    Pair(
        "environment",
        'os.environ["BILLING_MODE"] = "strict"',
        'assert billing.mode() == "lenient"',
        "import os\nfrom app import billing",
    ),
    Pair(
        "application registry",
        'registry.register("csv", lambda rows: ",".join(rows))',
        "assert registry.available() == []",
        "from app import registry",
    ),
    Pair(
        "logger",
        'logging.getLogger("app").setLevel(logging.ERROR)',
        "with caplog.at_level(logging.INFO):\n        audit.record('login')\n"
        "    assert [r.getMessage() for r in caplog.records] == ['audit: login']",
        "import logging\nfrom app import audit",
    ),
    Pair(
        "working directory",
        "os.chdir(tmp_path)",
        'assert config.read() == "ok"',
        "import os\nfrom app import config",
    ),
    Pair(
        "signal handler",
        "signal.signal(signal.SIGUSR2, lambda *args: None)",
        "assert shutdown.graceful()",
        "import signal\nfrom app import shutdown",
    ),
)


def module_name(index: int) -> str:
    return f"tests/test_m{index:03d}.py"


def write(
    root: Path, modules: int, per_module: int, ms: int, slots: dict[str, int]
) -> dict[str, tuple[str, str]]:
    """The project; `slots`: the module each pair's polluter and victim live in. Returns each
    kind's (polluter id, victim id)."""
    files = {name: textwrap.dedent(text).lstrip("\n") for name, text in APP.items()}
    extra: dict[int, list[str]] = {}
    ids = {}
    for pair in PAIRS:
        p_mod, v_mod = slots[f"{pair.kind}:p"], slots[f"{pair.kind}:v"]
        p_name = f"test_leaves_{pair.kind.replace(' ', '_')}"
        v_name = f"test_needs_clean_{pair.kind.replace(' ', '_')}"
        fixture_p = "tmp_path" if "tmp_path" in pair.polluter else ""
        fixture_v = "caplog" if "caplog" in pair.victim else ""
        extra.setdefault(p_mod, []).append(
            f"{pair.imports}\n\ndef {p_name}({fixture_p}):\n    {pair.polluter}\n"
        )
        extra.setdefault(v_mod, []).append(
            f"{pair.imports}\n\ndef {v_name}({fixture_v}):\n    {pair.victim}\n"
        )
        ids[pair.kind] = (f"{module_name(p_mod)}::{p_name}", f"{module_name(v_mod)}::{v_name}")
    for index in range(modules):
        body = ["import time\n"]
        body += [
            f"def test_{index:03d}_{n:03d}():\n    time.sleep({ms / 1000})\n"
            for n in range(per_module)
        ]
        body += extra.get(index, [])
        files[module_name(index)] = "\n".join(body)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return ids


def module_order(root: Path, seed: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
         "--random-order-bucket=module", f"--random-order-seed={seed}"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    order: list[str] = []
    for line in done.stdout.splitlines():
        if "::" in line:
            module = line.split("::")[0]
            if not order or order[-1] != module:
                order.append(module)
    return order


def choose(root: Path, modules: int, far: float) -> tuple[int, dict[str, int]]:
    """A seed, and modules for each pair, such that each polluter runs before its victim,
    at least `far` of the suite apart."""
    for seed in range(1, 50):
        order = module_order(root, seed)
        if len(order) < modules:
            continue
        slots: dict[str, int] = {}
        gap = int(far * modules)
        for number, pair in enumerate(PAIRS):
            early = int(order[number].removeprefix("tests/test_m").removesuffix(".py"))
            late = int(order[-1 - number].removeprefix("tests/test_m").removesuffix(".py"))
            if order.index(module_name(late)) - order.index(module_name(early)) < gap:
                break
            slots[f"{pair.kind}:p"], slots[f"{pair.kind}:v"] = early, late
        else:
            return seed, slots
    raise RuntimeError("no seed puts every polluter far before its victim")


def gate_run(gate: str, python: str, root: Path, seed: int, out: Path) -> dict[str, object]:
    result = out / "result.json"
    result.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env["PYTEST_ADDOPTS"] = "-p no:cacheprovider -p no:hypothesispytest"
    subprocess.run(
        [gate, "run", str(root), "--python", python, "--seed", str(seed), "--github", "false",
         "--result-file", str(result), "--summary-file", str(out / "summary.md")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    data: dict[str, object] = json.loads(result.read_text()) if result.exists() else {}
    return data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", type=int, default=100)
    parser.add_argument("--per-module", type=int, default=30)
    parser.add_argument("--ms", type=int, default=10)
    parser.add_argument("--far", type=float, default=0.5)
    parser.add_argument("--before", default="", help="a test-gate executable to compare with")
    parser.add_argument("--before-python", default="", help="the interpreter it runs tests in")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tg-od-large-") as name:
        root = Path(name) / "project"
        write(
            root,
            args.modules,
            args.per_module,
            args.ms,
            {f"{p.kind}:{s}": 0 for p in PAIRS for s in "pv"},
        )
        seed, slots = choose(root, args.modules, args.far)
        ids = write(root, args.modules, args.per_module, args.ms, slots)
        runs = {}
        gate = str(Path(sys.executable).parent / "test-gate")
        configs = [("now", gate, sys.executable)]
        if args.before:
            configs.insert(0, ("before", args.before, args.before_python or sys.executable))
        for label, exe, python in configs:
            out = Path(name) / label
            out.mkdir()
            started = time.monotonic()
            runs[label] = gate_run(exe, python, root, seed, out)
            runs[label]["elapsed"] = time.monotonic() - started
        text = render(runs, ids, seed, args)
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "polluter-search-large", text)
    return 0


def render(
    runs: dict[str, dict[str, object]],
    ids: dict[str, tuple[str, str]],
    seed: int,
    args: argparse.Namespace,
) -> str:
    tests = args.modules * args.per_module + 2 * len(PAIRS)
    lines = [
        "## Polluter search on a large suite",
        "",
        f"Reproduce: `python benchmarks/od_large.py --modules {args.modules} --per-module "
        f"{args.per_module} --ms {args.ms}`. {tests:,} tests of {args.ms} ms each in "
        f"{args.modules} modules, seed {seed} (module buckets); five victims, each at least "
        f"{args.far:.0%} of the suite after its polluter, one for each kind of state.",
        "",
        "| state | polluter | victim | " + " | ".join(f"runs {k} | named {k}" for k in runs) + " |",
        "|---|---|---|" + "---:|---|" * len(runs),
    ]
    for kind, (polluter, victim) in ids.items():
        cells = []
        for data in runs.values():
            entries = [e for e in data.get("order_dependent", []) if e["victim"] == victim]  # type: ignore[attr-defined]
            if entries:
                entry = entries[0]
                right = "✅" if entry["polluters"] == [polluter] else f"❌ {entry['polluters']}"
                state = entry.get("polluted_state") or []
                named = f"{right} `{state[0]['key']}`" if state else right
                cells += [str(entry["runs"]), named]
            else:
                cells += ["—", "❌ not found"]
        lines.append(f"| {kind} | `{polluter}` | `{victim}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| | main run s | diagnosis runs | diagnosis s | share of the main run |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, data in runs.items():
        main = float(data.get("wall_time") or 0.0)  # type: ignore[arg-type]
        diagnosis = data.get("diagnosis") or {}
        seconds = float(diagnosis.get("seconds") or 0.0)  # type: ignore[attr-defined]
        share = f"{seconds / main:.1%}" if main else "n/a"
        lines.append(
            f"| {label} | {main:.1f} | {diagnosis.get('runs')} | {seconds:.1f} | {share} |"
        )  # type: ignore[attr-defined]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
