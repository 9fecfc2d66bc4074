"""The diagnosis on real order-dependent failures of PyPI projects' own suites, side by side
with detect-test-pollution (and, with --before, with an earlier test-gate) in the same run.

    python benchmarks/od_real.py [--cases six,logzero,...] [--before c8a5cda] [--no-write]

Each project's sdist is downloaded from PyPI and installed (editable) into a virtual
environment of this script's own, with pytest, the project's test dependencies and the
plugins `test-gate install-plugins` pins. Its suite runs once through `test-gate run` with
a seed under which it shows order-dependent failures; every victim's diagnosis is read from
the result file: pytest runs, seconds, the share of the main run, the named polluter (or
setter) and the named state. detect-test-pollution is given the first victim. With
`--before REF`, a test-gate checked out at REF (a git worktree, its own venvs) runs the same
suite at the same seed first. Writes the "polluter search on real suites" section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from results_file import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASE = ["pytest==9.2.0", "detect-test-pollution==1.2.0"]


@dataclass(frozen=True)
class RealCase:
    name: str
    sdist: str  # name==version
    seed: int
    deps: tuple[str, ...] = ()
    bucket: str = "module"
    pytest_args: tuple[str, ...] = ()
    timeout: int = 600
    note: str = ""  # what the order dependence is


CASES = (
    RealCase("six", "six==1.17.0", 1, bucket="global", note="sys.modules gains html.parser"),
    RealCase("logzero", "logzero==1.7.0", 1, note="a handler left on the logzero logger"),
    RealCase(
        "freezegun",
        "freezegun==1.5.1",
        7,
        deps=("python-dateutil",),
        timeout=300,
        note="freezegun.api reloaded by a test",
    ),
    RealCase(
        "packaging",
        "packaging==26.4",
        1,
        deps=("pretend", "tomli_w", "hypothesis"),
        pytest_args=("-m", "not property"),
        note="a cached glibc version (functools cache)",
    ),
    RealCase(
        "arrow",
        "arrow==1.4.0",
        1,
        deps=("python-dateutil", "pytz", "simplejson", "dateparser", "pytest-mock", "pytest-cov"),
        note="a Locale subclass registered in arrow.locales._locale_map",
    ),
    RealCase(
        "semver",
        "semver==3.1.2",
        1,
        note="doctests need doctest_namespace, filled by an autouse conftest fixture",
    ),
    RealCase(
        "pyparsing",
        "pyparsing==3.3.3",
        3,
        deps=("railroad-diagrams", "jinja2", "matplotlib"),
        note="packrat left enabled on ParserElement",
    ),
)


@dataclass
class Measured:
    main_seconds: float = 0.0
    victims: list[dict[str, object]] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0
    error: str = ""


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def fetch(case: RealCase, cache: Path) -> Path:
    """The sdist, downloaded once, unpacked into the cache."""
    name, version = case.sdist.split("==")
    unpacked = cache / f"{name}-{version}"
    if unpacked.is_dir():
        return unpacked
    got = _run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
         ":all:", "--dest", str(cache), case.sdist]
    )  # fmt: skip
    if got.returncode != 0:
        raise RuntimeError(f"{case.sdist}: pip download failed: {got.stderr[-300:]}")
    archive = next(
        p for p in cache.iterdir() if p.name.lower().startswith(name.lower()) and p.suffix == ".gz"
    )
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    wanted = f"{name}-{version}".lower()
    return next(p for p in cache.iterdir() if p.is_dir() and p.name.lower() == wanted)


def environment(where: Path, gate: Path, cases: list[RealCase], sources: dict[str, Path]) -> Path:
    """A venv with pytest, every case's dependencies, the pinned plugins and the projects."""
    python = where / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(where)])
        deps = sorted({d for c in cases for d in c.deps})
        _run([str(python), "-m", "pip", "install", "--quiet", *BASE, *deps])
        done = _run([str(gate), "install-plugins", "--python", str(python)])
        if done.returncode != 0:
            raise RuntimeError(f"install-plugins failed: {done.stdout[-500:]}{done.stderr[-500:]}")
        for case in cases:
            _install(python, sources[case.name])
    return python


def _install(python: Path, source: Path) -> None:
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(source)])


def measure(gate: Path, python: Path, case: RealCase, source: Path, out: Path) -> Measured:
    result = out / f"{case.name}.json"
    result.unlink(missing_ok=True)
    argv = [
        str(gate), "run", str(source), "--python", str(python), "--seed", str(case.seed),
        "--bucket", case.bucket, "--github", "false", "--timeout", str(case.timeout),
        "--result-file", str(result), "--summary-file", str(out / f"{case.name}.md"),
        "--", "-p", "no:cacheprovider", *case.pytest_args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    _run(argv, env=env)
    if not result.exists():
        return Measured(error="no result file")
    data = json.loads(result.read_text())
    victims: list[dict[str, object]] = []
    for entry in data.get("order_dependent") or []:
        victims.append(
            {
                "victim": entry["victim"],
                "runs": entry["runs"],
                "seconds": entry["seconds"],
                "culprits": entry["polluters"] or entry["setters"],
                "kind": entry["kind"],
                "state": [
                    f"{s['key']} {s['now']}" if not s.get("was") else f"{s['key']} = {s['now']}"
                    for s in entry.get("polluted_state", [])[:2]
                ],
            }
        )
    diagnosis = data.get("diagnosis") or {}
    return Measured(
        main_seconds=float(data.get("wall_time") or 0.0),
        victims=victims,
        runs=int(diagnosis.get("runs") or 0),
        seconds=float(diagnosis.get("seconds") or 0.0),
    )


def dtp(python: Path, case: RealCase, source: Path, victim: str) -> tuple[int, float, str]:
    """detect-test-pollution on the first victim: its runs (counted by the pytest processes
    it starts), its seconds, its answer."""
    count = source / ".dtp-count"
    count.unlink(missing_ok=True)
    plugin = source / "dtp_count_plugin.py"
    plugin.write_text(
        "import os\n\ndef pytest_configure(config):\n"
        "    with open(os.environ['DTP_COUNT'], 'a') as f:\n        f.write('x\\n')\n"
    )
    env = {
        **os.environ,
        "DTP_COUNT": str(count),
        "PYTHONPATH": str(source),
        "PYTEST_ADDOPTS": "-p dtp_count_plugin -p no:randomly -p no:random_order",
    }
    exe = python.parent / "detect-test-pollution"
    tests = "tests" if (source / "tests").is_dir() else "."
    started = time.monotonic()
    done = _run(
        [str(exe), "--failing-test", victim, "--tests", tests], cwd=source, env=env, timeout=1800
    )
    seconds = time.monotonic() - started
    plugin.unlink(missing_ok=True)
    runs = len(count.read_text().splitlines()) if count.exists() else 0
    found = re.search(r"the polluting test is: (\S+)", done.stdout)
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    answer = found.group(1) if found else ("❌ " + (lines[-1][:70] if lines else "no answer"))
    return runs, seconds, answer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    parser.add_argument("--before", default="", help="a git ref of test-gate to compare with")
    parser.add_argument("--work", default="", help="keep downloads and venvs here")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    chosen = [c for c in CASES if c.name in args.cases.split(",")]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tg-od-real-"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "sdists"
    cache.mkdir(exist_ok=True)
    sources = {c.name: fetch(c, cache) for c in chosen}
    gate = Path(sys.executable).parent / "test-gate"
    python = environment(work / "venv-now", gate, chosen, sources)
    _install(python, REPO / "pytest-test-gate")
    before_gate = before_python = None
    if args.before:
        tree = work / f"test-gate-{args.before}"
        if not tree.exists():
            _run(["git", "-C", str(REPO), "worktree", "add", "-f", str(tree), args.before])
        gate_env = work / f"gate-{args.before}"
        if not (gate_env / "bin" / "test-gate").exists():
            _run([sys.executable, "-m", "venv", str(gate_env)])
            _install(gate_env / "bin" / "python", tree / "pytest-test-gate")
            _install(gate_env / "bin" / "python", tree)
            _run(
                [
                    str(gate_env / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "-e",
                    str(tree),
                ]
            )
        before_gate = gate_env / "bin" / "test-gate"
        before_python = environment(work / f"venv-{args.before}", before_gate, chosen, sources)
        _install(before_python, tree / "pytest-test-gate")
    rows = []
    for case in chosen:
        out = work / "out" / case.name
        out.mkdir(parents=True, exist_ok=True)
        old = None
        if before_gate is not None and before_python is not None:
            (out / "before").mkdir(exist_ok=True)
            old = measure(before_gate, before_python, case, sources[case.name], out / "before")
        now = measure(gate, python, case, sources[case.name], out)
        first = str(now.victims[0]["victim"]) if now.victims else ""
        other = dtp(python, case, sources[case.name], first) if first else (0, 0.0, "no victim")
        rows.append((case, old, now, other))
        runs = [v["runs"] for v in now.victims]
        print(
            case.name, "before", old.runs if old else "-", "now", runs, "dtp", other[0], flush=True
        )
    text = render(rows, args)
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "polluter-search-real", text)
    return 0


Row = tuple[RealCase, Measured | None, Measured, tuple[int, float, str]]


def _victim_row(case: RealCase, old: Measured | None, now: Measured, victim: dict[str, Any]) -> str:
    before = {str(v["victim"]): v for v in (old.victims if old else [])}
    name = str(victim["victim"])
    was = before.get(name, {}).get("runs", "not found") if old else "—"
    culprits = ", ".join(f"`{c}`" for c in victim["culprits"])
    state = "; ".join(f"`{s}`" for s in victim["state"]) or "—"
    return (
        f"| {case.name} | {case.seed} | `{name}` | {was} | {victim['runs']} | "
        f"{float(victim['seconds']):.1f} | {culprits} | {state} |"
    )


def render(rows: list[Row], args: argparse.Namespace) -> str:
    before = f" --before {args.before}" if args.before else ""
    lines = [
        "## Polluter search on real suites",
        "",
        f"Reproduce: `python benchmarks/od_real.py{before}` (downloads the sdists from PyPI). "
        "Each suite runs once through `test-gate run` at the seed given; *runs* and *s* are "
        "the diagnosis's pytest runs and seconds for each victim (before: the same suite, seed "
        "and machine with test-gate at the ref given).",
        "",
        "| suite | seed | victim | runs before | runs now | s now | polluter (or setter) "
        "now | state named |",
        "|---|---:|---|---:|---:|---:|---|---|",
    ]
    for case, old, now, _ in rows:
        for victim in now.victims:
            lines.append(_victim_row(case, old, now, victim))
        if not now.victims:
            lines.append(f"| {case.name} | {case.seed} | {now.error or 'none found'} | | | | | |")
    lines += [
        "",
        "The whole diagnosis against the main run, and detect-test-pollution on the first "
        "victim (it searches in collection order, from the failing test id):",
        "",
        "| suite | main run s | diagnosis runs before | now | diagnosis s now | share of the "
        "main run | dtp runs | dtp s | dtp answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case, old, now, (dtp_runs, dtp_s, dtp_answer) in rows:
        share = f"{now.seconds / now.main_seconds:.0%}" if now.main_seconds else "n/a"
        lines.append(
            f"| {case.name} | {now.main_seconds:.1f} | {old.runs if old else '—'} | {now.runs} "
            f"| {now.seconds:.1f} | {share} | {dtp_runs} | {dtp_s:.1f} | {dtp_answer} |"
        )
    lines += ["", "Cases: " + "; ".join(f"**{c.name}** {c.sdist}: {c.note}" for c, *_ in rows)]
    return "\n".join(lines) + "."


if __name__ == "__main__":
    raise SystemExit(main())
