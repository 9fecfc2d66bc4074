"""The interpreter that runs the tests: which one, whether it works, what it has installed."""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from test_gate.settings import UsageError

# the modules a run imports inside pytest, and the distributions (on PyPI) that hold them
DISTRIBUTIONS = {
    "pytest": "pytest",
    "pytest_jsonreport": "pytest-json-report",
    "random_order": "pytest-random-order",
    "pytest_rerunfailures": "pytest-rerunfailures",
    "pytest_test_gate": "pytest-test-gate",
    "pytest_timeout": "pytest-timeout",
}
# all but pytest-timeout, which only --test-timeout needs
REQUIRED_MODULES = tuple(m for m in DISTRIBUTIONS if m != "pytest_timeout")


def default_python() -> str:
    """The interpreter that runs the tests, when none is given. test-gate installed into the
    project's own virtualenv runs its tests with that virtualenv's Python, activated or not;
    otherwise `python` on PATH, as a user would call it (the action's setup-python)."""
    in_venv = sys.prefix != sys.base_prefix
    if in_venv and importlib.util.find_spec("pytest") is not None:
        return sys.executable
    for name in ("python", "python3"):
        found = shutil.which(name)
        if found:
            return found
    return sys.executable


def probe(python: str, code: str, cwd: Path | None = None, *args: str) -> str:
    """Run a snippet in the test interpreter; a bad interpreter is bad input, in one line."""
    if Path(python).is_dir():
        raise UsageError(
            f"--python: {python!r} is a directory; give the interpreter in it "
            "(bin/python, or Scripts\\python.exe on Windows)"
        )
    try:
        done = subprocess.run(
            [python, "-c", code, *args], cwd=cwd, capture_output=True, text=True, check=False
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


def has_module(python: str, module: str, cwd: Path) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        done = subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


_ENVIRONMENT = """
import importlib.metadata as m, json, os, platform, sys
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return None
names = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
info = sys.implementation.version
implementation = f"{info.major}.{info.minor}.{info.micro}"
if info.releaselevel != "final":
    implementation += info.releaselevel[0] + str(info.serial)
print(json.dumps({
    "versions": {n: version(n) for n in names},
    "markers": {
        "implementation_name": sys.implementation.name,
        "implementation_version": implementation,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
}))
"""


def environment(python: str, names: Sequence[str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The installed version of each distribution (None when absent) and the PEP 508 marker
    environment of the test interpreter: markers are evaluated for it, not for the gate."""
    data = json.loads(probe(python, _ENVIRONMENT, None, json.dumps(list(names))))
    return data["versions"], data["markers"]


def check_plugins(python: str, cwd: Path, plugin_version: str, extra: Sequence[str] = ()) -> str:
    """Fail early, with the fix, when the test interpreter lacks pytest or the plugins, or has
    a pytest-test-gate that writes another record than this test-gate reads. Returns the
    interpreter's Python version."""
    # the version is the plugin's own constant (its protocol module imports nothing): asking
    # importlib.metadata walks every distribution on sys.path, most of this check's cost
    code = (
        "import importlib.util, sys\n"
        "print(sys.version.split()[0])\n"
        f"missing = [n for n in {(*REQUIRED_MODULES, *extra)!r}"
        " if importlib.util.find_spec(n) is None]\n"
        "print(' '.join(missing))\n"
        "if 'pytest_test_gate' not in missing:\n"
        "    try:\n"
        "        from pytest_test_gate.protocol import __version__\n"
        "        print(__version__)\n"
        "    except Exception:\n"
        "        print('unknown')\n"
    )
    version, *lines = probe(python, code, cwd).splitlines() or [""]
    missing = lines[0].split() if lines else list(REQUIRED_MODULES)
    command = f"test-gate install-plugins --python {shlex.quote(python)}"
    fix = f"install the pinned plugins with `{command}`"
    if missing:
        names = ", ".join(DISTRIBUTIONS.get(m, m) for m in missing)
        raise UsageError(f"--python: {python} lacks {names}; {fix}")
    found = lines[1].strip() if len(lines) > 1 else "unknown"
    if found != plugin_version:
        raise UsageError(
            f"--python: {python} has pytest-test-gate {found}, and this test-gate needs "
            f"{plugin_version}; {fix}"
        )
    return version
