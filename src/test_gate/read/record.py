"""pytest-test-gate's record file: one JSON event a line, written as the run goes.

It is the gate's own account of a run, independent of pytest-json-report's save: a run that
was stopped, crashed or hung still has every event up to that moment. Read back, it has the
shape of the report's `test_gate` section, without "finished" when the session never ended,
and with each test that plainly passed as a `Plain` tuple where the section has its row.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import PASSED, PLAIN_KEYS, SECTION_STATE

from test_gate.read.files import REPORT_LIMIT, Unreadable, read_bytes
from test_gate.read.records import Attempt, Outcome

# A test whose one attempt plainly passed, as its lines were read: (test id, path, 1-based
# line, its attempt, and its row's location, setup seconds and later phases). Its checks are
# those `attempts.records_from_plugin` makes of a row (most of the time the gate takes to read
# a record): it makes the test's record from this without another look.
Plain = tuple[str, str, int, Attempt, list[Any], float, list[Any]]


class RecordError(Exception):
    """The record cannot be read at all; the message says why, in one line."""


def _parsed(lines: list[str], path: Path) -> list[Any]:
    """Every line's JSON value. One parse of all the lines as one array (a call per line
    costs more than the parsing itself); line by line only to name a corrupt line."""
    whole: Any = None
    with contextlib.suppress(ValueError, RecursionError):
        whole = json.loads("[" + ",".join(lines) + "]")
    if isinstance(whole, list) and len(whole) == len(lines):
        return whole
    out = []
    for number, line in enumerate(lines, 1):
        try:
            out.append(json.loads(line))
        except (ValueError, RecursionError):
            raise RecordError(
                f"pytest-test-gate's record {path} is corrupt at line {number}"
            ) from None
    return out


def _add_row(reports: list[Any], nodeid: Any, location: Any, phases: Any) -> None:
    """A test's end with the phases that plainly passed after its setup. A setup that plainly
    passed just before joins them, in the one row the report's record has for that test (a
    `Plain` when the three phases are all it ran)."""
    last = reports[-1] if reports else None
    if (
        type(phases) is list
        and type(last) is dict
        and last.keys() == PLAIN_KEYS
        and last["nodeid"] == nodeid
        and last["when"] == "setup"
        and last["outcome"] == "passed"
        and last["location"] == location
    ):
        plain = _plain(nodeid, location, last["duration"], phases)
        if plain is not None:
            reports[-1] = plain
            return
        reports[-1] = {
            "nodeid": nodeid,
            "location": location,
            PASSED: [["setup", last["duration"]], *phases],
        }
        return
    reports.append({"nodeid": nodeid, "location": location, PASSED: phases})


def _plain(nodeid: Any, location: Any, setup: Any, phases: list[Any]) -> Plain | None:
    """A test whose setup, call and teardown plainly passed, each with a finite duration, at
    a location of an ASCII path and a line: what `records_from_plugin` would make of its row,
    made at once. None for anything else, which is read as a row."""
    if not (
        len(phases) == 2
        and type(nodeid) is str
        and nodeid.isascii()
        and type(location) is list
        and len(location) == 2
    ):
        return None
    call, teardown = phases
    path, zero_based = location
    if not (
        type(call) is list
        and type(teardown) is list
        and len(call) == len(teardown) == 2
        and call[0] == "call"
        and teardown[0] == "teardown"
        and type(setup) is type(call[1]) is type(teardown[1]) is float
        and type(path) is str
        and path
        and path.isascii()
        and type(zero_based) is int
    ):
        return None
    duration = (setup + call[1]) + teardown[1]
    if duration - duration != 0.0:  # not finite
        return None
    # the named tuple made as a tuple, in C: its own constructor is Python code
    attempt = tuple.__new__(Attempt, (Outcome.PASSED, "", "", duration, "", None))
    return (nodeid, path, zero_based + 1, attempt, location, setup, phases)


def plain_row(plain: Plain) -> dict[str, Any]:
    """The row a `Plain` was read from, for a test that has other reports too."""
    nodeid, _, _, _, location, setup, phases = plain
    return {"nodeid": nodeid, "location": location, PASSED: [["setup", setup], *phases]}


def load_record(path: Path, limit: int = REPORT_LIMIT) -> dict[str, Any]:
    try:
        raw = read_bytes(path, limit)
    except Unreadable as exc:
        raise RecordError(f"pytest-test-gate's record {path} cannot be read: {exc}") from None
    lines = raw.decode("utf-8", errors="replace").split("\n")
    section: dict[str, Any] = {"reports": [], "collect_errors": []}
    running: dict[str, None] = {}  # tests started and not ended, in order
    cut = lines[-1] != ""  # the writer was stopped in the middle of a line
    events = lines[:-1]
    for number, event in enumerate(_parsed(events, path), 1):
        if not isinstance(event, dict):
            raise RecordError(f"pytest-test-gate's record {path} is corrupt at line {number}")
        kind = event.pop("event", None)
        if kind == "report":
            section["reports"].append(event)
        elif kind == "collect_error":
            section["collect_errors"].append(event)
        elif kind == "test_start":
            running[str(event.get("nodeid"))] = None
        elif kind == "test_end":
            nodeid = event.get("nodeid")
            running.pop(str(nodeid), None)
            if PASSED in event:  # its phases that plainly passed: a row, as in the report
                _add_row(section["reports"], nodeid, event.get("location"), event[PASSED])
        elif kind == "state":
            section.setdefault(SECTION_STATE, []).append(event)
        elif kind in ("start", "collected", "finish"):
            section.update(event)
        else:
            raise RecordError(
                f"pytest-test-gate's record {path} has an event the gate does not know "
                f"({kind!r:.40}) at line {number}"
            )
    if "schema" not in section:
        raise RecordError(f"pytest-test-gate's record {path} is empty: pytest never started it")
    if cut:
        section.pop("finished", None)  # whatever the last line said, it did not end well
    section["running"] = list(running)
    return section
