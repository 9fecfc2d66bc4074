"""pytest-test-gate's record file: one JSON event a line, written as the run goes.

It is the gate's own account of a run, independent of pytest-json-report's save: a run that
was stopped, crashed or hung still has every event up to that moment. Read back, it has the
shape of the report's `test_gate` section, without "finished" when the session never ended,
and with each test that plainly passed as an `attempts.Plain` where the section has its row.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import PASSED, PLAIN_KEYS, SECTION_FORKED, SECTION_STATE

from test_gate.read.attempts import plain_test
from test_gate.read.files import REPORT_LIMIT, Unreadable, read_bytes

# events the section keeps as a list of its own: the event's kind -> the section's key
LISTED = {"state": SECTION_STATE, SECTION_FORKED: SECTION_FORKED}


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
    passed just before joins them, in the one row the report's record has for that test (an
    `attempts.Plain` when the three phases are all it ran)."""
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
        plain = plain_test(nodeid, location, last["duration"], phases)
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
        elif kind in LISTED:
            section.setdefault(LISTED[kind], []).append(event)
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
