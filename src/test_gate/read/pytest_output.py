"""Why a pytest run ended as it did, from what the gate saw of the process: the first reasons
of a verdict name the root cause (a conftest that does not import, an internal error, a stop),
not its consequences (no report, tests that never ran)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Sequence

from test_gate.read.records import STOPPED_EARLY
from test_gate.read.values import text

_CONFTEST = re.compile(r"ImportError while loading conftest '(?P<path>[^']+)'")
_ERROR_LINE = re.compile(r"^E\s+(?P<error>[\w.]*(?:Error|Exception|Exit|Warning)\b.*)$", re.M)
_INTERNAL = re.compile(r"^INTERNALERROR>\s+(?P<error>[\w.]*(?:Error|Exception|Warning)\b.*)$", re.M)
_INTERNAL_FILE = re.compile(r'^INTERNALERROR>\s+File "(?P<file>[^"]+)"', re.M)
_USAGE = re.compile(r"^(?:ERROR: usage: .*\n)?.*?error: (?P<error>.+)$", re.M)
_NOT_FOUND = re.compile(r"^ERROR: (?P<error>(?:file or directory not found|not found): .+)$", re.M)
_TIMEOUT_BANNER = re.compile(r"^\++ Timeout \++$", re.M)
# pytest's line as it stops a session early: "stopping after 1 failures", "KeyboardInterrupt",
# "_pytest.outcomes.Exit: ..." (a test called pytest.exit), "Interrupted: 1 error during
# collection" (said by the collection errors themselves)
_STOP_BANNER = re.compile(r"^!{3,} (?P<text>.+?) !{3,}$", re.M)
# a warning that a filter turned into an error ends a traceback as an exception does
_EXCEPTION = re.compile(r"^[\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b.*$")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+', re.M)
_PACKAGE = re.compile(r"(?:site|dist)-packages[\\/](?P<package>[\w.-]+)[\\/]")
_STACK_FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)', re.M
)
_STDLIB = re.compile(r"^<|[\\/](?:lib[\\/]python\d[\d.]*t?|Lib)[\\/]")
_BANNER = re.compile(r"^=+ .* =+$")  # pytest's section lines and its summary
# pytest's last line of a session that ran: "===== 3 passed, 1 skipped in 0.09s ====="
_SUMMARY = re.compile(r"^=+ .*\bin [\d.]+s\b.* =+$", re.M)
MAX_DETAIL = 300
# the options test-gate gives pytest, by the plugin that adds them
OPTION_PLUGINS = (
    ("--test-gate", "pytest-test-gate"),
    ("--json-report", "pytest-json-report"),
    ("--random-order", "pytest-random-order"),
    ("--reruns", "pytest-rerunfailures"),
    ("--timeout", "pytest-timeout"),
)
MAX_MESSAGE_LINES = 8  # lines of an exception's message at the end of pytest's output
PYTEST_EXIT_MEANINGS = {  # what pytest's exit codes mean, in words
    0: "all tests passed",
    1: "tests failed",
    2: "the run was interrupted",
    3: "pytest hit an internal error",
    4: "pytest was called with bad arguments",
    5: "no tests were collected",
    6: "warnings were turned into errors",
}


def _running(tests: Sequence[str], at: str = "") -> str:
    if not tests and at:
        return f"no test was running; pytest was at {at}"
    if not tests:
        return "no test was running (it stopped between tests, or before the first)"
    shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
    where = f", at {at}" if at else ""
    return f"{shown} {'was' if len(tests) == 1 else 'were'} running{where}"


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _where(files: Sequence[str]) -> str:
    """Where a traceback ended, named as a person looks for it: the innermost frame outside
    the standard library, as its installed package, or as its file (a conftest of the
    project's raised it)."""
    for file in reversed(files):
        package = _PACKAGE.search(file)
        if package:
            return f" in {package['package']}"
        if not _STDLIB.search(file):
            return f" in {file}"
    return ""


def _unloaded(error: str) -> str:
    """The plugins whose options test-gate gave and pytest did not know: they are not loaded
    in that pytest. Named first, before the long list of options that says so."""
    if not error.startswith("unrecognized arguments:"):
        return ""
    words = error.split(":", 1)[1].split()
    names = [name for prefix, name in OPTION_PLUGINS if any(w.startswith(prefix) for w in words)]
    if not names:
        return ""
    return (
        f" that test-gate gives {', '.join(names)}, which this pytest has not loaded (a "
        "`-p no:NAME` in the pytest arguments or in addopts turns a plugin off)"
    )


def from_output(tail: str, began: bool = True) -> str:
    """The error pytest printed before it gave up, in one line; "" when it printed none.
    `began`: pytest-test-gate's record was started (pytest got as far as configuring it)."""
    conftest = _CONFTEST.search(tail)
    if conftest:
        errors = _ERROR_LINE.findall(tail[conftest.end() :])
        error = errors[-1] if errors else "an import error"
        return f"conftest {conftest['path']} could not be imported: {error}"[:MAX_DETAIL]
    internal = _INTERNAL.findall(tail)
    if internal:
        where = _where(_INTERNAL_FILE.findall(tail))
        return f"pytest hit an internal error{where}: {internal[-1]}"[:MAX_DETAIL]
    if "ERROR: usage:" in tail:
        usage = _USAGE.search(tail[tail.index("ERROR: usage:") :])
        if usage:
            unloaded = _unloaded(usage["error"])
            return f"pytest rejected its arguments{unloaded}: {usage['error']}"[:MAX_DETAIL]
    found = _NOT_FOUND.search(tail)
    if found:
        return f"pytest: {found['error']}"[:MAX_DETAIL]
    return _crash(tail, began)


def _crash(tail: str, began: bool) -> str:
    """A Python traceback that ends pytest's output: pytest or a plugin crashed after its
    last report line (a test's own traceback is followed by pytest's summary), or before
    the session began (a warning filter that cannot be read, a plugin that cannot load).
    Its exception's message may go on over lines of its own (pluggy's validation errors)."""
    if "Traceback (most recent call last):" not in tail:
        return ""
    block = tail[tail.rindex("Traceback (most recent call last):") :]
    lines = block.rstrip().splitlines()
    heads = [i for i, line in enumerate(lines) if _EXCEPTION.match(line)]
    if not heads:
        return ""
    rest = lines[heads[-1] :]
    if len(rest) > MAX_MESSAGE_LINES or any(_BANNER.match(line) for line in rest):
        return ""  # pytest went on after it: a test's own output, not the end of pytest
    message = " ".join(line.strip() for line in rest if line.strip())
    where = _where(_FRAME.findall(block))
    if not began:
        return f"pytest crashed{where} before its session began: {message}"[:MAX_DETAIL]
    return (f"pytest crashed{where} after the tests ran, so its report may be missing: {message}")[
        :MAX_DETAIL
    ]


def _last_line(tail: str) -> str:
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return f"; its last line: {lines[-1]}" if lines else "; it printed nothing"


def name_the_stop(problems: Sequence[str], tail: str, running: Sequence[str]) -> tuple[str, ...]:
    """The reason that says fewer tests ran than were selected, with pytest's own words for
    why in place of the guess (-x, --maxfail, a crash or an interrupt): "stopping after 1
    failures", "KeyboardInterrupt", "_pytest.outcomes.Exit: ..." (a test called pytest.exit),
    and the test that was running. Only that reason changes: a line a test printed cannot
    make a reason of its own."""
    found = [b for b in _STOP_BANNER.findall(text(tail)) if not b.startswith("Interrupted:")]
    if not found:
        return tuple(problems)
    during = f"; {_running(running)}" if running else ""
    guess = f"({STOPPED_EARLY})"
    named = f"(pytest stopped the session: {found[-1][:MAX_DETAIL]}{during})"
    return tuple(p[: -len(guess)] + named if p.endswith(guess) else p for p in problems)


def stopped_at(stacks: str, root: str) -> str:
    """Where pytest's main thread was in the project's own code (outside the standard library
    and installed packages) as it was stopped, from the stacks pytest-test-gate dumped: a test
    module that hangs as it is imported, a session fixture's teardown. "" when not known."""
    _, found, after = stacks.partition("Current thread")
    if not found:
        return ""
    block = after.split("\n\n", 1)[0]  # the other threads follow, a blank line between
    for frame in _STACK_FRAME.finditer(block):
        file = frame["file"]
        if _STDLIB.search(file) or _PACKAGE.search(file):
            continue
        if root:
            prefix = root.rstrip("/\\") + os.sep
            file = file[len(prefix) :] if file.startswith(prefix) else file
        return f"{file}:{frame['line']} in {frame['function']}"
    return ""


def root_causes(
    *,
    exit_code: int | None,
    stopped: str,
    seconds: float,
    tail: str,
    running: Sequence[str],
    finished: bool,
    timeout: float | None = None,
    began: bool = True,
    at: str = "",
) -> tuple[str, ...]:
    """The reasons that come first: why the session ended as it did. Empty when it ended
    as pytest sessions do. `began`: pytest-test-gate's record is there; a pytest that ended
    before it started one wrote no record and no report, and those are its consequences
    (unless pytest's own summary shows the session ran: then the record was removed)."""
    tail = text(tail)
    if stopped == "timeout":
        limit = f" (--timeout {timeout:g} s)" if timeout else ""
        return (
            f"pytest did not finish within {seconds:.0f} s{limit} and was stopped: "
            f"{_running(running, at)}",
        )
    if stopped:
        return (
            f"the run was cancelled ({stopped}) after {seconds:.0f} s: {_running(running, at)}",
        )
    causes = []
    if _TIMEOUT_BANNER.search(tail) and not finished:
        causes.append(
            f"a test ran over the per-test time limit and pytest-timeout ended the run: "
            f"{_running(running)}"
        )
    explained = from_output(tail, began)
    if explained:
        causes.append(explained)
    if exit_code is not None and exit_code < 0:
        causes.append(
            f"pytest was killed by {_signal_name(exit_code)} (the machine ran out of memory, "
            f"or a test killed it): {_running(running)}"
        )
    elif not began and not causes and _SUMMARY.search(tail):
        causes.append(
            "pytest ran its session, and pytest-test-gate's record is gone: a test removed it, "
            "or test-gate's working folder (as a test that empties the temp directory does)"
        )
    elif not began and not causes and exit_code is not None:
        causes.append(
            f"pytest ended before its session began (before pytest-test-gate started its "
            f"record), with exit code {exit_code}{_last_line(tail)}"[:MAX_DETAIL]
        )
    elif not finished and not causes and exit_code not in (None, 2, 3, 4, 5):
        causes.append(
            f"the pytest process ended before its session did (a test called os._exit, or the "
            f"process crashed), with exit code {exit_code}: {_running(running)}"
        )
    return tuple(causes)
