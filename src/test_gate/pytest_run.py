"""Run pytest with the gate's plugins: build the command, guard the output, keep the exit code."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from test_gate.settings import UsageError

PLUGIN_DIR = Path(__file__).parent / "pytest_plugin"
PLUGIN_MODULE = "tgate_recorder"
RUN_ID_ENV = "TEST_GATE_RUN_ID"
REQUIRED_MODULES = ("pytest", "pytest_jsonreport", "random_order", "pytest_rerunfailures")


def default_python() -> str:
    """The interpreter that runs the tests: `python` on PATH, as a user would call it."""
    for name in ("python", "python3"):
        found = shutil.which(name)
        if found:
            return found
    return sys.executable


def order_args(seed: int) -> list[str]:
    """The options that fix the order of a run: pytest-random-order with this seed."""
    return ["-p", "no:randomly", "--random-order-bucket=module", f"--random-order-seed={seed}"]


AUTOLOAD_OFF = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
RUN_PLUGINS = ("pytest_jsonreport.plugin", "random_order.plugin", "pytest_rerunfailures")


def explicit_plugins(env: Mapping[str, str], modules: Sequence[str] = RUN_PLUGINS) -> list[str]:
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD set pytest loads no installed plugin: name ours.
    (Naming them otherwise would register them twice.)"""
    if not env.get(AUTOLOAD_OFF):
        return []
    return [word for module in modules for word in ("-p", module)]


def pytest_argv(
    python: str,
    user_args: Sequence[str],
    seed: int,
    reruns: int,
    report_file: Path,
    load: Sequence[str] = (),
) -> list[str]:
    """Our options come after the user's, so a user's --json-report-file cannot win."""
    return [
        python,
        "-m",
        "pytest",
        *user_args,
        *load,
        "-p",
        PLUGIN_MODULE,
        *order_args(seed),
        f"--reruns={reruns}",
        "--json-report",
        f"--json-report-file={report_file}",
        # nargs="+" in pytest-json-report: one word per key ("a,b" would be one unknown key)
        "--json-report-omit",
        "log",
        "streams",
        "warnings",
        "keywords",
    ]


def reproduce_command(path: Path, user_args: Sequence[str], seed: int, reruns: int) -> str:
    """The command a developer pastes to get this exact order again, without test-gate."""
    argv = ["python", "-m", "pytest", *user_args, *order_args(seed), f"--reruns={reruns}"]
    command = shlex.join(argv)
    if path.resolve() != Path.cwd().resolve():
        command = f"cd {shlex.quote(str(path))} && {command}"
    return command


def _probe(python: str, code: str, cwd: Path | None = None) -> str:
    """Run a snippet in the test interpreter; a bad interpreter is bad input, in one line."""
    try:
        done = subprocess.run(
            [python, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise UsageError(
            f"--python: {python!r} cannot be run ({exc.strerror}); give a Python interpreter"
        ) from None
    if done.returncode != 0:
        raise UsageError(
            f"--python: {python!r} is not a working Python interpreter "
            f"(exit code {done.returncode}); give a Python interpreter"
        )
    return done.stdout


def check_plugins(python: str, cwd: Path) -> None:
    """Fail early, with the fix, when the test interpreter lacks pytest or the plugins."""
    probe = (
        "import importlib.util, sys\n"
        f"missing = [m for m in {REQUIRED_MODULES!r} if importlib.util.find_spec(m) is None]\n"
        "print(' '.join(missing))\n"
    )
    missing = _probe(python, probe, cwd).split()
    if missing:
        raise UsageError(
            f"--python: {python} lacks {', '.join(missing)}; install the pinned plugins with "
            f"`test-gate install-plugins --python {shlex.quote(python)}`"
        )


@dataclass(frozen=True)
class PytestRun:
    exit_code: int
    report_file: Path
    run_id: str
    seed: int
    started: float
    duration: float
    command: str  # the one that reproduces this run


def run_pytest(
    *,
    path: Path,
    python: str,
    user_args: Sequence[str],
    seed: int,
    reruns: int,
    report_file: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> PytestRun:
    """Run pytest once, its output streaming live. A stale report is deleted first.
    `timeout`: stop pytest after this many seconds (subprocess.TimeoutExpired is raised)."""
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.unlink(missing_ok=True)
    run_id = secrets.token_hex(16)
    child_env = dict(os.environ if env is None else env)
    child_env[RUN_ID_ENV] = run_id
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PLUGIN_DIR), child_env.get("PYTHONPATH", "")) if p
    )
    argv = pytest_argv(
        python, user_args, seed, reruns, report_file.resolve(), explicit_plugins(child_env)
    )
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.time()
    exit_code = subprocess.call(argv, cwd=path, env=child_env, timeout=timeout)
    return PytestRun(
        exit_code=exit_code,
        report_file=report_file,
        run_id=run_id,
        seed=seed,
        started=started,
        duration=time.time() - started,
        command=reproduce_command(path, user_args, seed, reruns),
    )


def draw_seed() -> int:
    return secrets.randbelow(10**6)


_FALLBACK = re.compile(r"^#\s*if (pytest|python)\s*<\s*([\d.]+)\s*:\s*(\S+)==(\S+)\s*$")


def release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: '8.1.0rc1' -> (8, 1, 0)."""
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def pinned(requirements: Path, found: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """`name==version` lines of the requirements file -> {name: version}.

    A comment `# if pytest < X: name==version` (or `python < X`) replaces a pin when the test
    environment's pytest (or Python) is older than X: installing the plugins never upgrades
    that pytest, and works on the Python the tests run on.
    """
    pins: dict[str, str] = {}
    fallbacks: list[tuple[str, tuple[int, ...], str, str]] = []
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        fallback = _FALLBACK.match(raw.strip())
        if fallback:
            fallbacks.append((fallback[1], release(fallback[2]), fallback[3], fallback[4]))
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"{requirements}: {line!r} is not pinned with ==")
        pins[name.strip()] = version.strip()
    for what, below, name, version in fallbacks:
        have = (found or {}).get(what)
        if have and release(have) < below and name in pins:
            pins[name] = version
    return pins


def installed_versions(python: str, names: Sequence[str]) -> dict[str, str | None]:
    """The version of each distribution in the test interpreter (None when absent), and of
    its Python under the key "python"."""
    probe = (
        "import importlib.metadata as m, json\n"
        "def v(n):\n"
        "    try:\n"
        "        return m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "import platform\n"
        f"found = {{n: v(n) for n in {list(names)!r}}}\n"
        "found['python'] = platform.python_version()\n"
        "print(json.dumps(found))\n"
    )
    found: dict[str, str | None] = json.loads(_probe(python, probe))
    return found


def install_plugins(python: str, requirements: Path) -> int:
    """Install the pinned plugins into the interpreter that runs the tests.

    Nothing is installed when the pinned versions are already there: a prepared (or offline)
    test environment stays as it is. Otherwise the interpreter's own pip is used, so the
    plugins land where its pytest imports from; uv stands in only when it has no pip.
    """
    names = list(pinned(requirements))
    found = installed_versions(python, [*names, "pytest"])
    pins = pinned(requirements, found)
    if all(found[name] == version for name, version in pins.items()):
        listed = ", ".join(f"{name}=={version}" for name, version in pins.items())
        print(f"test-gate: {python} already has the pinned plugins ({listed})", flush=True)
        return 0
    has_pip = (
        subprocess.call(
            [python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        == 0
    )
    requirement_args = [f"{name}=={version}" for name, version in pins.items()]
    uv = shutil.which("uv")
    if has_pip or not uv:
        argv = [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            *requirement_args,
        ]
    else:
        argv = [uv, "pip", "install", "--python", python, *requirement_args]
    print("+ " + shlex.join(argv), flush=True)
    return subprocess.call(argv)
