"""The record of every attempt: what the JSON report loses.

pytest-json-report keeps only the last attempt of a test and calls a flaky one ``rerun``. This
part logs every report of every attempt, in execution order, with collection errors, deselected
items, the random-order seed, the run id that proves the record is fresh, and the options pytest
parsed. The record goes into the JSON report under ``test_gate`` (and into a file of its own
with ``--test-gate-record``). Other parts add sections through the
``pytest_test_gate_sections`` hook.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import platform
import re
import sys
import time
from typing import Any

import pytest

from pytest_test_gate.fork import ForkedStream, Stream, silence, watch_forks
from pytest_test_gate.protocol import (
    MAX_TEXT,
    PASSED,
    PHASES,
    PLAIN_KEYS,
    REPORT_KEY,
    SCHEMA,
    SECTION_STATE,
    SECTION_WATCH_NOTES,
)
from pytest_test_gate.state import NOTES_WORKER_KEY, STATE_WORKER_KEY
from pytest_test_gate.unrun import UnrunRecorder


def _text(value: object) -> str:
    text = str(value) if value is not None else ""
    if len(text) > MAX_TEXT:
        cut = len(text) - MAX_TEXT
        text = text[:MAX_TEXT] + f"\n[... cut by test-gate: {cut} more characters]"
    return text


def _crash_message(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, reason)
        return _text(longrepr[2])
    crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
    if crash:
        return _text(crash)
    lines = [line for line in str(longrepr).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("E "):
            return _text(line[1:].strip())
    return _text(lines[-1]) if lines else ""


def _crash_location(report: Any) -> list[Any]:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "path", None):
        return [str(crash.path), getattr(crash, "lineno", None)]
    return []


def option_kinds(config: Any) -> dict[str, list[str]]:
    """Every option this pytest accepts (plugins and conftest options included), by whether
    it takes a value: what test-gate needs to tell an option's value from a test path."""
    kinds: dict[str, list[str]] = {"takes_value": [], "optional_value": [], "flags": []}
    try:  # argparse, as pytest built it: `optparser` since pytest 9, `_getparser()` before
        parser = config._parser
        built = getattr(parser, "optparser", None) or parser._getparser()
        actions = built._actions
    except Exception:  # a pytest that builds its parser otherwise: test-gate falls back
        return kinds
    for action in actions:
        nargs = getattr(action, "nargs", None)
        kind = "flags" if nargs == 0 else "optional_value" if nargs == "?" else "takes_value"
        kinds[kind].extend(s for s in action.option_strings if s.startswith("-"))
    return {key: sorted(set(names)) for key, names in kinds.items()}


# the distributions whose versions say how a run was made
REPORTED = (
    "pytest-json-report",
    "pytest-random-order",
    "pytest-rerunfailures",
    "pytest-timeout",
    "pytest-xdist",
    "pytest-test-gate",
)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each of `names` there is, from the `NAME-VERSION.dist-info`
    directories on sys.path, the first found of each as importlib.metadata finds it. Each
    directory is listed once: importlib.metadata searches the whole path for each name, about
    1.5 ms a name in a virtualenv of 150 entries. A name not found so (an egg, a zip) is
    asked of importlib.metadata."""
    wanted = {_normalized(n): n for n in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            children = os.listdir(entry or ".")
        except OSError:  # not a directory: a zip, or gone
            continue
        for child in children:
            if child.endswith(".dist-info"):
                name, _, version = child[: -len(".dist-info")].partition("-")
                key = wanted.get(_normalized(name))
                if key is not None and version and key not in found:
                    found[key] = version
    for name in names:
        if name not in found:
            try:
                found[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
    return {name: found[name] for name in names if name in found}


def environment() -> dict[str, str]:
    """Python, pytest, the plugins that shape a run, and the operating system."""
    found = {"python": platform.python_version(), "pytest": pytest.__version__}
    found.update(_versions(REPORTED))
    found["os"] = f"{platform.system()} {platform.release()}".strip()
    return found


_STRING = json.encoder.encode_basestring_ascii  # json.dumps of a str, in C, without a call tree
# bound as the plugin loads: a test that replaces json.dumps (and leaves it so) cannot break
# the record of the tests after it
_DUMPS = json.dumps


def _number(value: Any) -> str | None:
    """A finite float or an int as JSON, or None where json.dumps must decide."""
    if type(value) is float and value - value == 0.0:
        return repr(value)
    if type(value) is int:
        return str(value)
    return None


def _location_json(location: Any) -> str | None:
    """A report's (path, line) as JSON, or None where json.dumps must decide."""
    if len(location) != 2 or type(location[0]) is not str:
        return None
    line = "null" if location[1] is None else _number(location[1])
    return None if line is None else f"[{_STRING(location[0])}, {line}]"


def _plain(entry: dict[str, Any]) -> bool:
    """A phase that passed and says nothing else (protocol.PLAIN_KEYS): most phases of most
    tests, and what a row of the record is made of."""
    return entry["outcome"] == "passed" and entry.keys() == PLAIN_KEYS and entry["when"] in PHASES


# a phase that plainly passed, as a row holds it: (when, seconds)
Phase = tuple[str, Any]
# a row of the record as the recorder holds it until the record is written: (test id,
# location, (phase, ...)), the phases of one test that plainly passed in a row
Row = tuple[str, tuple[Any, ...], tuple[Phase, ...]]
# a phase that plainly passed, held to be written with its test's end: (when, seconds, location)
Held = tuple[str, Any, tuple[Any, ...]]


def keep_passed(
    reports: list[dict[str, Any] | Row], nodeid: str, location: tuple[Any, ...], phase: Phase
) -> None:
    """A phase that plainly passed added to `reports`: to the row `reports` ends with when that
    row is its test's, or as a row of its own. A passing test is one entry instead of three:
    most of the record's size and of the time test-gate takes to read it.

    A row is a tuple of tuples, made a dict only when the record is written (`entries`): the
    garbage collector stops tracking a tuple of strings and numbers at its first look, so the
    rows never count toward the full collections pytest makes as its tests run, as rows kept
    as dicts did until one of those collections (pytest's own are about a fifth of its time)."""
    last = reports[-1] if reports else None
    if type(last) is tuple and last[0] == nodeid and last[1] == location:
        reports[-1] = (nodeid, location, (*last[2], phase))
    else:
        reports.append((nodeid, location, (phase,)))


def keep(reports: list[dict[str, Any] | Row], entry: dict[str, Any], plain: bool) -> None:
    """`entry` added to `reports`, compact: in a row if it plainly passed (`plain`)."""
    if plain:
        phase = (entry["when"], entry["duration"])
        keep_passed(reports, entry["nodeid"], entry["location"], phase)
    else:
        reports.append(entry)


def _passed_entry(nodeid: str, when: str, seconds: Any, location: Any) -> dict[str, Any]:
    """A phase that plainly passed as the phase report the record file holds: the five keys
    of protocol.PLAIN_KEYS, in the order every report has them."""
    return {
        "nodeid": nodeid,
        "when": when,
        "outcome": "passed",
        "duration": seconds,
        "location": location,
    }


def entries(reports: list[dict[str, Any] | Row]) -> list[dict[str, Any]]:
    """The record's "reports" list: each row as the JSON object protocol.PASSED describes."""
    return [
        e if isinstance(e, dict) else {"nodeid": e[0], "location": e[1], PASSED: e[2]}
        for e in reports
    ]


def compact(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Full phase reports made compact, as the recorder keeps them as they come, and with
    lists where it keeps tuples: as the record reads once saved as JSON."""
    out: list[dict[str, Any] | Row] = []
    for entry in reports:
        keep(out, entry, _plain(entry))
    return [
        {**e, PASSED: [list(p) for p in e[PASSED]]} if "when" not in e and PASSED in e else e
        for e in entries(out)
    ]


class Recorder:
    """Keeps the record, and with `record_file` also writes it as it goes: one JSON line per
    event, flushed as each test starts and when its setup ends, so that a run that is killed,
    hangs or crashes still leaves everything up to that test, the test it was in and its
    setup included.

    A call or teardown that plainly passed is written with its test's end, in one line,
    compact: if the run dies before that end, the test is one that was running, and those
    phases would not change what the gate makes of it (an attempt with no teardown never
    finished). Every other phase report is written at once.

    `in_memory` False: the record file is the whole record, and no report is kept to carry
    it (--test-gate-digest-only), so the rows are not also held in memory for the report's
    section: three calls a test fewer, and no row a test kept to the end."""

    def __init__(
        self,
        config: Any,
        run_id: str,
        record_file: str = "",
        chosen: dict[str, dict[str, Any]] | None = None,
        unrun: UnrunRecorder | None = None,
        in_memory: bool = True,
    ) -> None:
        self.config = config
        self.in_memory = in_memory or not record_file
        self.unrun = unrun  # told what each test did: what never ran is what it was not told
        self.chosen = chosen or {}
        self.started = time.time()
        self.run_id = run_id
        self.reports: list[dict[str, Any] | Row] = []
        self.collect_errors: list[dict[str, Any]] = []
        self.deselected: list[str] = []
        self.collected = 0  # as pytest counts it: before deselection
        self.selected: int | None = None
        self.stream: Stream | None = None
        self.passed: dict[str, list[Held]] = {}  # phases to write with their test's end
        self.state: list[dict[str, Any]] = []  # tests that left process-global state changed
        self.watch_notes: list[str] = []  # what the state watch says of itself
        # the test running: its id, its id as JSON, its location, and its location as JSON
        self.current: tuple[str, str, tuple[Any, ...], str | None] = ("", "", (), None)
        self.record_file = record_file
        self.pid = os.getpid()
        if record_file:
            # appended to, so that a line a forked child appends is never written over
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
            handle = os.open(record_file, flags, 0o666)
            self.stream = open(handle, "w", encoding="utf-8")  # noqa: SIM115
            self._write("start", self.header, flush=True)
            watch_forks(self, Recorder._forked)

    def _forked(self) -> None:
        """In a child a test forked: see fork.py."""
        stream = self.stream
        if stream is None or isinstance(stream, ForkedStream):
            return
        silence(stream)
        self.stream = ForkedStream(self.record_file, self.pid, self.current[0])

    def _write(self, event: str, data: dict[str, Any], *, flush: bool = False) -> None:
        """One event a line. The file is flushed as each test starts and when its setup ended
        (and at collection): a run that dies in a test has every event before it on disk,
        the test it was in and its setup; two writes a test instead of one a line."""
        if self.stream is not None:
            self.stream.write(_DUMPS({"event": event, **data}) + "\n")
            if flush:
                self.stream.flush()

    @functools.cached_property
    def header(self) -> dict[str, Any]:
        """Made once: the versions of the distributions are looked up on disk."""
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "started": self.started,
            "pytest_version": pytest.__version__,
            "rootdir": str(self.config.rootpath),
            "args": [str(a) for a in self.config.invocation_params.args],
            "file_or_dir": [str(a) for a in self.config.option.file_or_dir or []],
            "options": option_kinds(self.config),
            "chosen": self.chosen,
            "environment": environment(),
        }

    def _counts(self) -> dict[str, Any]:
        return {
            "collected": self.collected,
            "selected": self.selected,
            "deselected": self.deselected,
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            error = {
                "nodeid": report.nodeid,
                "message": _crash_message(report),
                "longrepr": _text(report.longrepr),
            }
            self.collect_errors.append(error)
            self._write("collect_error", error, flush=True)

    def pytest_deselected(self, items: Any) -> None:
        self.deselected.extend(item.nodeid for item in items)

    def pytest_collection_finish(self, session: Any) -> None:
        self.selected = len(session.items)
        self.collected = self.selected + len(self.deselected)
        self._write("collected", self._counts(), flush=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Any) -> None:
        # under pytest-xdist the controller collects nothing; each worker reports its items
        # (after its own deselection)
        self.selected = max(self.selected or 0, len(ids))
        self.collected = max(self.collected, len(ids))
        self._write("collected", self._counts(), flush=True)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        # pytest-rerunfailures logs an attempt's reports only when it ends: this is what
        # names the test a hanging run is in
        if self.stream is None:
            return
        # the lines of a plainly passing test are built as text around its id and its
        # location, each encoded once here: json.dumps of each event costs as much as the
        # rest of the record together
        where = (location[0], location[1]) if location and len(location) >= 2 else ()
        self.current = (nodeid, _STRING(nodeid), where, _location_json(where))
        self.stream.write(f'{{"event": "test_start", "nodeid": {self.current[1]}}}\n')
        self.stream.flush()

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        if self.stream is None:
            return
        passed = self.passed.pop(nodeid, [])
        line = self._end_line(nodeid, passed)
        if line is not None:
            self.stream.write(line)
            return
        end: dict[str, Any] = {"nodeid": nodeid}
        if passed:
            end["location"] = passed[0][2]
            end[PASSED] = [[when, seconds] for when, seconds, _ in passed]
        self._write("test_end", end)

    def _end_line(self, nodeid: str, passed: list[Held]) -> str | None:
        """A test's end as text, or None where json.dumps must build it."""
        test, id_json, where, where_json = self.current
        if test != nodeid:
            return None
        if not passed:
            return f'{{"event": "test_end", "nodeid": {id_json}}}\n'
        seconds = [_number(p[1]) for p in passed]
        if where_json is None or passed[0][2] != where or None in seconds:
            return None
        rows = ", ".join(f'["{p[0]}", {n}]' for p, n in zip(passed, seconds, strict=True))
        return (
            f'{{"event": "test_end", "nodeid": {id_json}, "location": {where_json}, '
            f'"{PASSED}": [{rows}]}}\n'
        )

    def _setup_line(self, nodeid: str, duration: Any, location: tuple[Any, ...]) -> str | None:
        """A setup that plainly passed, as text, or None where json.dumps must build it."""
        test, id_json, where, where_json = self.current
        seconds = _number(duration)
        if test != nodeid or where_json is None or location != where or seconds is None:
            return None
        return (
            f'{{"event": "report", "nodeid": {id_json}, "when": "setup", '
            f'"outcome": "passed", "duration": {seconds}, "location": {where_json}}}\n'
        )

    def state_changed(self, nodeid: str, changes: list[dict[str, Any]], worker: str = "") -> None:
        """A test left process-global state changed (the state watch says what)."""
        entry: dict[str, Any] = {"nodeid": nodeid, "changes": changes}
        if worker:
            entry["worker"] = worker
        self.state.append(entry)
        self._write("state", entry)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Under pytest-xdist each worker watched its own tests: what they changed comes with
        the worker's end."""
        found = (getattr(node, "workeroutput", None) or {}).get(STATE_WORKER_KEY)
        worker = str(getattr(getattr(node, "gateway", None), "id", "") or "")
        for entry in found if isinstance(found, list) else []:
            if isinstance(entry, dict):
                self.state_changed(
                    str(entry.get("nodeid")), list(entry.get("changes") or []), worker
                )
        notes = (getattr(node, "workeroutput", None) or {}).get(NOTES_WORKER_KEY)
        for note in notes if isinstance(notes, list) else []:
            self.watch_notes.append(f"worker {worker}: {note}")

    def _write_passed(self, nodeid: str) -> None:
        """The passed phases held back, before a report that must follow them."""
        for when, seconds, location in self.passed.pop(nodeid, []):
            self._write("report", _passed_entry(nodeid, when, seconds, location))

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Most phases pass and say nothing else: read from the report's own attributes,
        they are kept and written without a dict of their own (`_passed`); every other
        report is read the long way (`_report`)."""
        fields = vars(report)
        when, location = fields.get("when"), fields.get("location")
        if (
            type(report) is pytest.TestReport
            and fields.get("outcome") == "passed"
            and when in PHASES
            and type(location) is tuple
            and len(location) >= 2
            and "wasxfail" not in fields
            and "node" not in fields  # pytest-xdist's: each worker is its own process
            and fields.get("context") is None
        ):
            seconds = fields.get("duration", 0.0)
            self._passed(report.nodeid, when, seconds, (location[0], location[1]))
        else:
            self._report(report)

    def _passed(self, nodeid: str, when: str, seconds: Any, location: tuple[Any, ...]) -> None:
        """A phase that plainly passed (protocol.PLAIN_KEYS)."""
        if self.in_memory:
            keep_passed(self.reports, nodeid, location, (when, seconds))
        if when == "call" and self.unrun is not None:
            self.unrun.ran(nodeid)
        if self.stream is None:
            return
        if when != "setup":
            self.passed.setdefault(nodeid, []).append((when, seconds, location))
            return
        line = self._setup_line(nodeid, seconds, location) if nodeid not in self.passed else None
        if line is None:
            self._write_passed(nodeid)
            # a setup is on disk before the call runs: a test that ends the process in its
            # call still shows it began, and how its setup went
            self._write("report", _passed_entry(nodeid, when, seconds, location), flush=True)
        else:
            self.stream.write(line)
            self.stream.flush()

    def _report(self, report: Any) -> None:
        """Any phase report, read attribute by attribute."""
        if self.unrun is not None:
            self.unrun.saw(report)
        nodeid, when, outcome = report.nodeid, report.when, report.outcome
        location: Any = report.location if getattr(report, "location", None) else ()
        entry: dict[str, Any] = {
            "nodeid": nodeid,
            "when": when,
            "outcome": outcome,
            "duration": getattr(report, "duration", 0.0),
            "location": (location[0], location[1]) if len(location) >= 2 else (),
        }
        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
        if worker:  # pytest-xdist: each worker is its own process with its own order
            entry["worker"] = str(worker)
        if hasattr(report, "wasxfail"):
            entry["wasxfail"] = _text(report.wasxfail)
        if getattr(report, "context", None) is not None or type(report).__name__ == "SubtestReport":
            entry["subtest"] = True
        if outcome != "passed":
            entry["message"] = _crash_message(report)
            entry["crash"] = _crash_location(report)
            if outcome != "skipped":
                entry["longrepr"] = _text(report.longrepr)
        # the five keys every entry has (PLAIN_KEYS) and no other: what `_plain` asks, cheaper
        if len(entry) == len(PLAIN_KEYS) and outcome == "passed" and when in PHASES:
            self._passed(nodeid, when, entry["duration"], entry["location"])
            return
        if self.in_memory:
            self.reports.append(entry)
        if self.stream is not None:
            self._write_passed(nodeid)
            self._write("report", entry, flush=when == "setup")

    def _ending(self) -> dict[str, Any]:
        seed = getattr(self.config.option, "random_order_seed", None)
        sections: dict[str, Any] = {}
        for part in self.config.hook.pytest_test_gate_sections(config=self.config):
            sections.update(part or {})
        return {
            "finished": time.time(),
            "random_order_seed": str(seed) if seed is not None else None,
            SECTION_WATCH_NOTES: self.watch_notes,
            **sections,
        }

    def data(self) -> dict[str, Any]:
        """The whole record as one object (the JSON report's section)."""
        return {
            **self.header,
            **self._counts(),
            "collect_errors": self.collect_errors,
            "reports": entries(self.reports),
            SECTION_STATE: self.state,
            **self._ending(),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        if self.in_memory:  # else the report is not kept: its digest has no section
            json_report[REPORT_KEY] = self.data()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> Any:
        yield  # after every other plugin: pytest-xdist's workers have reported by then
        if self.stream is not None:
            for nodeid in list(self.passed):  # tests that never ended
                self._write_passed(nodeid)
            self._write(
                "finish", {**self._counts(), **self._ending(), "exit_status": int(exitstatus)}
            )
            self.stream.close()
            self.stream = None
