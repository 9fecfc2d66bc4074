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
import platform
import time
from typing import IO, Any

import pytest

from pytest_test_gate.protocol import (
    MAX_TEXT,
    PASSED,
    PHASES,
    PLAIN_KEYS,
    REPORT_KEY,
    SCHEMA,
    SECTION_STATE,
)
from pytest_test_gate.state import STATE_WORKER_KEY


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


def environment() -> dict[str, str]:
    """Python, pytest, the plugins that shape a run, and the operating system."""
    found = {"python": platform.python_version(), "pytest": pytest.__version__}
    for name in REPORTED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    found["os"] = f"{platform.system()} {platform.release()}".strip()
    return found


_STRING = json.encoder.encode_basestring_ascii  # json.dumps of a str, in C, without a call tree


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


def keep(
    reports: list[dict[str, Any]], row: dict[str, Any] | None, entry: dict[str, Any], plain: bool
) -> dict[str, Any] | None:
    """`entry` added to `reports`, compact: phases that plainly passed (`plain`) in a row, of
    one test, are one entry, which `row` is when the last entry is one. A passing test is one
    entry instead of three: most of the record's size and of the time test-gate takes to read
    it. Returns the row `reports` ends with, or None.

    A row holds tuples, not lists: once the garbage collector has seen a row it stops
    tracking it, and a run of 10,000 tests then has 50,000 fewer objects for each of its full
    collections to walk (pytest's own collections are about a fifth of its time)."""
    if not plain:
        reports.append(entry)
        return None
    same = row is not None and row["nodeid"] == entry["nodeid"]
    if same and row is not None and row["location"] == entry["location"]:
        row[PASSED] = (*row[PASSED], (entry["when"], entry["duration"]))
        return row
    row = {
        "nodeid": entry["nodeid"],
        "location": entry["location"],
        PASSED: ((entry["when"], entry["duration"]),),
    }
    reports.append(row)
    return row


def compact(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Full phase reports made compact, as the recorder keeps them as they come, and with
    lists where it keeps tuples: as the record reads once saved as JSON."""
    out: list[dict[str, Any]] = []
    row = None
    for entry in reports:
        row = keep(out, row, entry, _plain(entry))
    return [
        {**e, PASSED: [list(p) for p in e[PASSED]]} if "when" not in e and PASSED in e else e
        for e in out
    ]


class Recorder:
    """Keeps the record, and with `record_file` also writes it as it goes: one JSON line per
    event, flushed as each test starts and when its setup ends, so that a run that is killed,
    hangs or crashes still leaves everything up to that test, the test it was in and its
    setup included.

    A call or teardown that plainly passed is written with its test's end, in one line,
    compact: if the run dies before that end, the test is one that was running, and those
    phases would not change what the gate makes of it (an attempt with no teardown never
    finished). Every other phase report is written at once."""

    def __init__(
        self,
        config: Any,
        run_id: str,
        record_file: str = "",
        chosen: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.config = config
        self.chosen = chosen or {}
        self.started = time.time()
        self.run_id = run_id
        self.reports: list[dict[str, Any]] = []
        self.collect_errors: list[dict[str, Any]] = []
        self.deselected: list[str] = []
        self.collected = 0  # as pytest counts it: before deselection
        self.selected: int | None = None
        self.stream: IO[str] | None = None
        self.passed: dict[str, list[dict[str, Any]]] = {}  # phases to write with the end
        self.state: list[dict[str, Any]] = []  # tests that left process-global state changed
        self.current = ("", "")  # the test running: its id, and its id as JSON
        self.row: dict[str, Any] | None = None  # the last entry of `reports`, if a row
        if record_file:
            self.stream = open(record_file, "w", encoding="utf-8")  # noqa: SIM115
            self._write("start", self.header, flush=True)

    def _write(self, event: str, data: dict[str, Any], *, flush: bool = False) -> None:
        """One event a line. The file is flushed as each test starts and when its setup ended
        (and at collection): a run that dies in a test has every event before it on disk,
        the test it was in and its setup; two writes a test instead of one a line."""
        if self.stream is not None:
            self.stream.write(json.dumps({"event": event, **data}) + "\n")
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
        # the lines of a plainly passing test are built as text around its id, encoded once:
        # json.dumps of each event costs as much as the rest of the record together
        self.current = (nodeid, _STRING(nodeid))
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
            end["location"] = passed[0]["location"]
            end[PASSED] = [[e["when"], e["duration"]] for e in passed]
        self._write("test_end", end)

    def _end_line(self, nodeid: str, passed: list[dict[str, Any]]) -> str | None:
        """A test's end as text, or None where json.dumps must build it."""
        if self.current[0] != nodeid:
            return None
        if not passed:
            return f'{{"event": "test_end", "nodeid": {self.current[1]}}}\n'
        location = _location_json(passed[0]["location"])
        seconds = [_number(e["duration"]) for e in passed]
        if location is None or None in seconds:
            return None
        rows = ", ".join(f'["{e["when"]}", {n}]' for e, n in zip(passed, seconds, strict=True))
        return (
            f'{{"event": "test_end", "nodeid": {self.current[1]}, "location": {location}, '
            f'"{PASSED}": [{rows}]}}\n'
        )

    def _setup_line(self, entry: dict[str, Any]) -> str | None:
        """A setup that plainly passed, as text, or None where json.dumps must build it."""
        if self.current[0] != entry["nodeid"]:
            return None
        location, seconds = _location_json(entry["location"]), _number(entry["duration"])
        if location is None or seconds is None:
            return None
        return (
            f'{{"event": "report", "nodeid": {self.current[1]}, "when": "setup", '
            f'"outcome": "passed", "duration": {seconds}, "location": {location}}}\n'
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

    def _write_passed(self, nodeid: str) -> None:
        """The passed phases held back, before a report that must follow them."""
        for entry in self.passed.pop(nodeid, []):
            self._write("report", entry)

    def pytest_runtest_logreport(self, report: Any) -> None:
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
        plain = len(entry) == len(PLAIN_KEYS) and outcome == "passed" and when in PHASES
        self.row = keep(self.reports, self.row, entry, plain)
        if self.stream is None:
            return
        if plain and when != "setup":
            self.passed.setdefault(nodeid, []).append(entry)
            return
        line = self._setup_line(entry) if plain and nodeid not in self.passed else None
        if line is None:
            self._write_passed(nodeid)
            # a setup is on disk before the call runs: a test that ends the process in its
            # call still shows it began, and how its setup went
            self._write("report", entry, flush=when == "setup")
        else:
            self.stream.write(line)
            self.stream.flush()

    def _ending(self) -> dict[str, Any]:
        seed = getattr(self.config.option, "random_order_seed", None)
        sections: dict[str, Any] = {}
        for part in self.config.hook.pytest_test_gate_sections(config=self.config):
            sections.update(part or {})
        return {
            "finished": time.time(),
            "random_order_seed": str(seed) if seed is not None else None,
            **sections,
        }

    def data(self) -> dict[str, Any]:
        """The whole record as one object (the JSON report's section)."""
        return {
            **self.header,
            **self._counts(),
            "collect_errors": self.collect_errors,
            "reports": self.reports,
            SECTION_STATE: self.state,
            **self._ending(),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
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
