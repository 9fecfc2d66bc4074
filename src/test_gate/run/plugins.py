"""The plugins a run needs in the test interpreter, and installing them there.

The three third-party plugins are pinned in `pytest_plugins.txt`; pytest-test-gate is the
version of this test-gate, from its source tree when test-gate runs from one (a checkout, the
action), else from the package index.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from pytest_test_gate.protocol import __version__ as PLUGIN_VERSION

from test_gate.run import plugin_wheel
from test_gate.run.interpreter import environment

PLUGINS_FILE = Path(__file__).with_name("pytest_plugins.txt")
PLUGIN_DISTRIBUTION = "pytest-test-gate"
# the plugin's source, beside test-gate's in a checkout: <repo>/src/test_gate/run/plugins.py
SOURCE_TREE = Path(__file__).resolve().parents[3] / PLUGIN_DISTRIBUTION


def requirements(text: str) -> list[Requirement]:
    """The requirement lines of a pip requirements file (comments and blank lines aside)."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            found.append(Requirement(line))
        except InvalidRequirement as exc:
            raise ValueError(f"{PLUGINS_FILE.name}: {line!r} is not a requirement: {exc}") from None
    return found


def plugin_source(given: str | None = None) -> str:
    """Where pytest-test-gate is installed from: a directory given, the source tree beside
    this test-gate, or the index at exactly this version."""
    if given:
        return given
    if (SOURCE_TREE / "pyproject.toml").is_file():
        return str(SOURCE_TREE)
    return f"{PLUGIN_DISTRIBUTION}=={PLUGIN_VERSION}"


@dataclass(frozen=True)
class Plan:
    """What install-plugins does: nothing when every pin is met, else one install command."""

    wanted: tuple[str, ...]  # the pins that apply to this interpreter (met: the version found)
    missing: tuple[str, ...]  # the install arguments of those not met
    hold: str  # "pytest==X": a constraint, or "" when pytest is not installed
    fresh: tuple[str, ...] = ()  # the entries of `wanted` that are installed now


def plan(
    pins: list[Requirement],
    versions: Mapping[str, str | None],
    markers: Mapping[str, str],
    source: str,
) -> Plan:
    """Pure: which pins apply (markers, for the test interpreter) and which are not met."""
    wanted: list[str] = []
    missing: list[str] = []
    fresh: list[str] = []
    for pin in pins:
        if pin.marker is not None and not pin.marker.evaluate(dict(markers)):
            continue
        have = versions.get(pin.name)
        if have is None or not pin.specifier.contains(have, prereleases=True):
            missing.append(str(pin))
            wanted.append(str(pin))
            fresh.append(str(pin))
        else:
            wanted.append(f"{pin.name}=={have}")
    wanted.append(f"{PLUGIN_DISTRIBUTION}=={PLUGIN_VERSION}")
    if versions.get(PLUGIN_DISTRIBUTION) != PLUGIN_VERSION:
        missing.append(source)
        fresh.append(wanted[-1])
    pytest_version = versions.get("pytest")
    return Plan(
        tuple(wanted),
        tuple(missing),
        f"pytest=={pytest_version}" if pytest_version else "",
        tuple(fresh),
    )


def install_plugins(python: str, source: str | None = None, verbose: bool = False) -> int:
    """Install what is missing into the interpreter that runs the tests.

    Nothing is installed when every pin is met: a prepared (or offline) test environment stays
    as it is. Otherwise the interpreter's own pip is used, so the plugins land where its pytest
    imports from; uv stands in only when it has no pip. pytest-test-gate from a source tree
    goes in as a wheel made here, with no build. pip's log is shown when it fails or when
    asked; else one line for each package.
    """
    pins = requirements(PLUGINS_FILE.read_text(encoding="utf-8"))
    versions, markers = environment(
        python, [*(p.name for p in pins), PLUGIN_DISTRIBUTION, "pytest"]
    )
    todo = plan(pins, versions, markers, plugin_source(source))
    if not todo.missing:
        listed = ", ".join(todo.wanted)
        print(f"test-gate: {python} already has the pinned plugins ({listed})", flush=True)
        return 0
    has_pip = (
        subprocess.call(
            [python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        == 0
    )
    uv = shutil.which("uv")
    with tempfile.TemporaryDirectory(prefix="test-gate-") as scratch:
        hold: list[str] = []
        if todo.hold:
            constraints = Path(scratch) / "hold-pytest.txt"
            constraints.write_text(todo.hold + "\n", encoding="utf-8")
            hold = ["--constraint", str(constraints)]
        if has_pip or not uv:
            argv = [python, "-m", "pip", "install", "--disable-pip-version-check"]
        else:
            argv = [uv, "pip", "install", "--python", python]
        argv += [*(_prebuilt(m, Path(scratch)) for m in todo.missing), *hold]
        if verbose:
            print("+ " + shlex.join(argv), flush=True)
            return subprocess.call(argv)
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            log = done.stdout.decode("utf-8", "backslashreplace")
            print(f"+ {shlex.join(argv)}\n{log}", end="", file=sys.stderr, flush=True)
            print(f"test-gate: installing the plugins into {python} failed", file=sys.stderr)
            return done.returncode
    for line in todo.wanted:
        print(f"test-gate: {'installed' if line in todo.fresh else 'kept'} {line}", flush=True)
    return 0


def _prebuilt(argument: str, scratch: Path) -> str:
    """A source tree of pytest-test-gate becomes a wheel made here; anything else stays."""
    if not Path(argument).is_dir():
        return argument
    wheel = plugin_wheel.build(Path(argument), scratch)
    return str(wheel) if wheel is not None else argument
