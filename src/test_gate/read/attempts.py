"""Test records from phase reports: each attempt classified by the counting rules.

pytest-test-gate's record has every report of every attempt, in execution order; a report made
without it has only the last attempt's stages, which are read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_test_gate.protocol import PASSED, PHASES

from test_gate.read.records import Attempt, Outcome, TestRecord
from test_gate.read.values import (
    Findings,
    as_dict,
    as_list,
    integer,
    number,
    relative_posix,
    text,
)

FAILED_PHASE = {"failed", "rerun", "error"}
# the phase outcomes pytest and pytest-rerunfailures report; anything else fails closed
KNOWN_OUTCOMES = frozenset({"passed", "failed", "skipped", "rerun", "error"})
WORKER_CRASH = "???"  # pytest-xdist's phase for a test whose worker died in it
# pytest-json-report's outcome of a test, overall: a failure there must be one here too
REPORTED_FAILURES = frozenset({"failed", "error"})
REPORTED_OUTCOMES = frozenset(
    {"passed", "failed", "skipped", "xfailed", "xpassed", "error", "rerun"}
)


def check_attempt(
    nodeid: str,
    phases: Sequence[Mapping[str, Any]],
    findings: Findings,
    *,
    may_be_cut: bool = False,
) -> None:
    """Only what the gate knows may count: an unknown phase or outcome fails closed, and so
    does an attempt that lost a phase. pytest always reports setup and teardown; only an
    attempt that a cut-short session left (`may_be_cut`), or whose pytest-xdist worker died,
    lacks its teardown."""
    whens = [p.get("when") for p in phases if not p.get("subtest")]
    if whens and "setup" not in whens:
        findings.test("have an attempt with no setup phase (the record lost data)", nodeid)
    elif not may_be_cut and "teardown" not in whens and WORKER_CRASH not in whens:
        findings.test("have an attempt with no teardown phase (the record lost data)", nodeid)
    for phase in phases:
        when, outcome = phase.get("when"), phase.get("outcome")
        if when not in (*PHASES, WORKER_CRASH):
            findings.test(f"have a phase the gate does not know ({when!r:.40})", nodeid)
        elif not (isinstance(outcome, str) and outcome in KNOWN_OUTCOMES):
            findings.test(f"have a phase outcome the gate does not know ({outcome!r:.40})", nodeid)


def classify_attempt(phases: Sequence[Mapping[str, Any]]) -> Attempt:
    """Classify one attempt from its phase reports, per the counting rules."""
    by_when: dict[str, list[Mapping[str, Any]]] = {}
    for phase in phases:
        by_when.setdefault(text(phase.get("when")), []).append(phase)
    setup = by_when.get("setup", [])
    call = by_when.get("call", [])
    teardown = by_when.get("teardown", [])
    duration = sum(number(p.get("duration")) for p in phases)

    def failing(reports: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        return next((r for r in reports if text(r.get("outcome")) in FAILED_PHASE), None)

    def attempt(outcome: Outcome, source: Mapping[str, Any] | None = None) -> Attempt:
        source = source or {}
        crash = source.get("crash")
        crash = crash if isinstance(crash, list) else []
        message = text(source.get("message"))
        if outcome in (Outcome.XFAILED, Outcome.XPASSED):  # the marker's reason, not the assert
            message = text(source.get("wasxfail")).removeprefix("reason: ") or message
        return Attempt(
            outcome=outcome,
            message=message,
            longrepr=text(source.get("longrepr")),
            duration=duration,
            crash_path=text(crash[0]) if len(crash) > 0 else "",
            crash_line=integer(crash[1]) if len(crash) > 1 else None,
        )

    bad_setup = failing(setup)
    if bad_setup is not None:
        return attempt(Outcome.ERROR, bad_setup)
    skipped_setup = next((r for r in setup if r.get("outcome") == "skipped"), None)
    if skipped_setup is not None:
        kind = Outcome.XFAILED if "wasxfail" in skipped_setup else Outcome.SKIPPED
        return attempt(kind, skipped_setup)
    bad_teardown = failing(teardown)
    if bad_teardown is not None:
        return attempt(Outcome.ERROR, bad_teardown)
    # a phase pytest does not name: pytest-xdist reports a crashed worker as when="???"
    other = [p for w, ps in by_when.items() if w not in ("setup", "call", "teardown") for p in ps]
    crashed = failing(other)
    if crashed is not None and failing(call) is None:
        return attempt(Outcome.FAILED, crashed)
    if not call:
        return attempt(Outcome.INTERRUPTED)
    # a failed subtest says more than the summary line "contains 1 failed subtest"
    bad_call = failing([r for r in call if r.get("subtest")]) or failing(call)
    if bad_call is not None:
        return attempt(Outcome.FAILED, bad_call)
    main = [r for r in call if not r.get("subtest")] or call
    last = main[-1]
    if last.get("outcome") == "skipped":
        kind = Outcome.XFAILED if "wasxfail" in last else Outcome.SKIPPED
        return attempt(kind, last)
    if "wasxfail" in last:
        return attempt(Outcome.XPASSED, last)
    if not teardown:
        return attempt(Outcome.INTERRUPTED)
    return attempt(Outcome.PASSED)


def split_attempts(reports: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """A new attempt starts at each setup report. Subtest reports belong to the attempt of the
    next main call report: pytest logs them during the call, but pytest-rerunfailures logs
    the main reports of an attempt only after it ends, so they arrive first."""
    attempts: list[list[Mapping[str, Any]]] = []
    pending: list[Mapping[str, Any]] = []
    ended = False  # a crashed worker ends an attempt without a teardown
    for report in reports:
        if report.get("subtest"):
            pending.append(report)
            continue
        if report.get("when") == "setup" or not attempts or ended:
            attempts.append([])
        attempts[-1].append(report)
        ended = report.get("when") not in ("setup", "call", "teardown")
        if report.get("when") == "call":
            attempts[-1].extend(pending)
            pending = []
    if pending:
        if not attempts:
            attempts.append([])
        attempts[-1].extend(pending)
    return attempts


def _location(nodeid: str, loc: Any) -> tuple[str, int | None]:
    if type(loc) is list and len(loc) == 2:  # most tests: [path, 0-based line]
        path, zero_based = loc
        if type(path) is str and path and path.isascii() and type(zero_based) is int:
            return path, zero_based + 1
    path = nodeid.split("::", 1)[0]
    line = None
    if isinstance(loc, list) and len(loc) >= 2:
        path = text(loc[0]) or path
        zero_based = integer(loc[1])
        line = zero_based + 1 if zero_based is not None else None
    return path, line


def _rooted(attempt: Attempt, root: str) -> Attempt:
    if not attempt.crash_path:
        return attempt
    return attempt._replace(crash_path=relative_posix(attempt.crash_path, root))


def is_row(entry: Mapping[str, Any]) -> bool:
    """A row of phases that plainly passed (protocol.PASSED), not one phase report."""
    return PASSED in entry and "when" not in entry


def phases_of(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The phase reports a row of plainly passed phases stands for. A malformed row stands for
    a phase the gate does not know, which fails closed."""
    nodeid, location, phases = row.get("nodeid"), row.get("location"), row.get(PASSED)
    unknown = {"nodeid": nodeid, "when": None, "outcome": None}
    if not (isinstance(phases, list) and phases):
        return [unknown]
    return [
        {
            "nodeid": nodeid,
            "when": p[0],
            "outcome": "passed",
            "duration": p[1],
            "location": location,
        }
        if isinstance(p, list) and len(p) == 2
        else unknown
        for p in phases
    ]


PLAIN_RUN = list(PHASES)  # the phases of a test that plainly passed, in order


def _passed_attempt(setup: Any, call: Any, teardown: Any) -> Attempt | None:
    """The attempt three plainly passed phases make, from their seconds: None unless each
    is a float and their sum is finite (anything else is read the long way). The named tuple
    is made as a tuple, in C: its own constructor is Python code, and most tests come here."""
    if not (type(setup) is type(call) is type(teardown) is float):
        return None
    duration = (setup + call) + teardown
    if duration - duration != 0.0:  # not finite
        return None
    return tuple.__new__(Attempt, (Outcome.PASSED, "", "", duration, "", None))


# A test whose one attempt plainly passed, as a record file's lines said it: (test id, path,
# 1-based line, its attempt, and its row's location, setup seconds and later phases). Made as
# the test's end line is read (`plain_test`), with the checks `records_from_plugin` makes of a
# row, which then makes the test's record from it without another look.
Plain = tuple[str, str, "int | None", Attempt, Any, float, list[Any]]


def plain_test(nodeid: Any, location: Any, setup: Any, phases: list[Any]) -> Plain | None:
    """A test whose setup (`setup` seconds) and then call and teardown (`phases`) plainly
    passed: what `records_from_plugin` would make of its row, made at once. None for anything
    else, which is read as a row."""
    if not (len(phases) == 2 and type(nodeid) is str and nodeid.isascii()):
        return None
    call, teardown = phases
    if not (
        type(call) is list
        and type(teardown) is list
        and len(call) == len(teardown) == 2
        and call[0] == "call"
        and teardown[0] == "teardown"
    ):
        return None
    attempt = _passed_attempt(setup, call[1], teardown[1])
    if attempt is None:
        return None
    path, line = _location(nodeid, location)
    return (nodeid, path, line, attempt, location, setup, phases)


def plain_row(plain: Plain) -> dict[str, Any]:
    """The row a `Plain` was read from, for a test that has other reports too."""
    nodeid, _, _, _, location, setup, phases = plain
    return {"nodeid": nodeid, "location": location, PASSED: [["setup", setup], *phases]}


def _plainly_passed(entries: Sequence[Mapping[str, Any]]) -> Attempt | None:
    """The attempt of a test that ran once and passed every phase, with nothing else said
    (no xfail, no subtest, no crash): what classify_attempt would make of it, made at once.
    Its phases are most often one row; any mix of rows and phase reports (pytest-xdist's
    reports, which carry a worker, are never in a row) is read the long way."""
    if len(entries) == 1:  # most tests: one row of three phases, each [when, seconds]
        phases = entries[0].get(PASSED)
        if type(phases) is list and len(phases) == 3 and "when" not in entries[0]:
            setup, call, teardown = phases
            if (
                type(setup) is list
                and type(call) is list
                and type(teardown) is list
                and len(setup) == len(call) == len(teardown) == 2
                and setup[0] == "setup"
                and call[0] == "call"
                and teardown[0] == "teardown"
            ):
                attempt = _passed_attempt(setup[1], call[1], teardown[1])
                if attempt is not None:
                    return attempt
    whens: list[Any] = []
    duration = 0.0
    for entry in entries:
        if "when" in entry:
            if entry.get("outcome") != "passed" or "wasxfail" in entry or "subtest" in entry:
                return None
            whens.append(entry["when"])
            duration += number(entry.get("duration"))
            continue
        phases = entry.get(PASSED)
        if type(phases) is not list:
            return None
        for phase in phases:
            if type(phase) is not list or len(phase) != 2:
                return None
            whens.append(phase[0])
            duration += number(phase[1])
    if whens != PLAIN_RUN:
        return None
    return Attempt(Outcome.PASSED, duration=duration)


def records_from_plugin(plugin: Mapping[str, Any], findings: Findings) -> list[TestRecord]:
    # one record per test per process: under `pytest-xdist --dist each` every worker runs
    # every test, and each of those runs counts (as pytest counts them). A test whose worker
    # died in it is rerun on a new worker: that run continues the same record.
    grouped: dict[tuple[str, str], list[Any]] = {}  # reports, rows and Plains
    alias: dict[tuple[str, str], tuple[str, str]] = {}
    crashed: dict[str, tuple[str, str]] = {}
    for index, report in enumerate(as_list(plugin.get("reports"), "the attempt log", findings)):
        if type(report) is tuple:  # a record's test that plainly passed, checked (a Plain)
            nodeid, worker = report[0], None
        elif not (isinstance(report, dict) and isinstance(report.get("nodeid"), str)):
            findings.add(f"entry {index} of the attempt log is not a test's report (lost data)")
            continue
        else:
            nodeid = report["nodeid"]
            if not nodeid.isascii():
                nodeid = text(nodeid)
            worker = report.get("worker")  # only under pytest-xdist
        key = (nodeid, "" if worker is None else text(worker))
        if alias:
            key = alias.get(key, key)
        group = grouped.get(key)
        if group is not None:
            group.append(report)
        elif crashed and nodeid in crashed:
            alias[key] = key = crashed.pop(nodeid)
            grouped[key].append(report)
        else:
            grouped[key] = [report]
        # a report of no phase (not a row either): its worker died in the test
        if type(report) is not tuple and report.get("when") not in PHASES and not is_row(report):
            crashed[nodeid] = key
    records = []
    root = text(plugin.get("rootdir"))
    # a session that finished reported every phase; one cut short may have left the tests it
    # was running without their last phases, which the verdict says
    finished = number(plugin.get("finished")) > 0
    for order, ((nodeid, worker), entries) in enumerate(grouped.items()):
        first = entries[0]
        if len(entries) == 1 and type(first) is tuple:  # most tests (a Plain)
            # the named tuple made as a tuple, in C: its own constructor is Python code
            fields = (nodeid, first[1], first[2], (first[3],), order, worker, "")
            records.append(tuple.__new__(TestRecord, fields))
            continue
        if any(type(e) is tuple for e in entries):  # a test that plainly passed, and more
            entries = [plain_row(e) if type(e) is tuple else e for e in entries]
        path, line = _location(nodeid, entries[0].get("location"))
        passed = _plainly_passed(entries)
        if passed is not None:  # most tests: no attempt to split, nothing to classify
            records.append(TestRecord(nodeid, path, line, (passed,), order, worker=worker))
            continue
        reports = [p for e in entries for p in (phases_of(e) if is_row(e) else (e,))]
        split = split_attempts(reports)
        for index, phases in enumerate(split):
            cut = not finished and index == len(split) - 1
            check_attempt(nodeid, phases, findings, may_be_cut=cut)
        attempts = tuple(_rooted(classify_attempt(a), root) for a in split)
        # only a failure is rerun: an earlier attempt that did not fail lost its failure
        if any(a.outcome not in (Outcome.FAILED, Outcome.ERROR) for a in attempts[:-1]):
            findings.test(
                "have an attempt that did not fail and yet was run again (the record lost data)",
                nodeid,
            )
        records.append(TestRecord(nodeid, path, line, attempts, order, worker=worker))
    return records


def _plain_stages(test: dict[str, Any], order: int) -> TestRecord | None:
    """A test pytest-json-report calls passed, whose three stages passed and say nothing
    else (an outcome and a duration, two keys): what the long way would make of it, made from
    one check (as a record's row is). None for anything else, which is read the long way."""
    setup, call, teardown = test.get("setup"), test.get("call"), test.get("teardown")
    nodeid, line = test.get("nodeid"), test.get("lineno")
    if not (
        type(setup) is type(call) is type(teardown) is dict
        and len(setup) == len(call) == len(teardown) == 2
        and setup.get("outcome") == call.get("outcome") == teardown.get("outcome") == "passed"
        and type(nodeid) is str
        and nodeid.isascii()
        and (line is None or type(line) is int)
    ):
        return None
    attempt = _passed_attempt(setup.get("duration"), call.get("duration"), teardown.get("duration"))
    if attempt is None:
        return None
    return TestRecord(
        nodeid,
        nodeid.partition("::")[0],
        line + 1 if line is not None else None,
        (attempt,),
        order,
    )


def records_from_stages(tests: Iterable[Any], root: str, findings: Findings) -> list[TestRecord]:
    """Fallback for reports made without our plugin: only the last attempt is known. A test
    that plainly passed is one check (`_plain_stages`); the rest are read phase by phase."""
    records = []
    for order, test in enumerate(tests):
        if type(test) is dict and test.get("outcome") == "passed":
            plain = _plain_stages(test, order)
            if plain is not None:
                records.append(plain)
                continue
        if not (isinstance(test, dict) and isinstance(test.get("nodeid"), str)):
            findings.add(f"entry {order} of the report's tests is not a test (lost data)")
            continue
        nodeid = text(test.get("nodeid"))
        phases = []
        for when in PHASES:
            stage = as_dict(test.get(when), f"the {when} stage of {nodeid}", findings)
            if stage is None:
                continue
            phase: dict[str, Any] = {
                "when": when,
                "outcome": stage.get("outcome"),
                "duration": stage.get("duration"),
            }
            crash = stage.get("crash") if isinstance(stage.get("crash"), dict) else None
            if crash is not None:
                phase["message"] = crash.get("message")
                phase["crash"] = [crash.get("path"), crash.get("lineno")]
            if stage.get("longrepr"):
                phase["longrepr"] = stage.get("longrepr")
            if text(test.get("outcome")) in ("xfailed", "xpassed") and when == "call":
                phase["wasxfail"] = ""
            phases.append(phase)
        check_attempt(nodeid, phases, findings)
        overall = test.get("outcome")
        known = isinstance(overall, str) and (
            overall in REPORTED_OUTCOMES or overall.startswith("subtests ")
        )
        if not known:
            findings.test(f"have an outcome the gate does not know ({overall!r:.40})", nodeid)
        last = _rooted(classify_attempt(phases), root)
        if overall == "failed" and last.outcome is Outcome.PASSED:
            # subtests: the item failed although its call phase says passed
            last = Attempt(Outcome.FAILED, "a subtest failed", "", last.duration)
        attempts: tuple[Attempt, ...] = (last,)
        if overall == "rerun" and last.outcome is Outcome.PASSED:
            attempts = (Attempt(Outcome.FAILED, "failed before a rerun passed"), last)
        line = integer(test.get("lineno"))
        records.append(
            TestRecord(
                nodeid,
                nodeid.split("::", 1)[0],
                line + 1 if line is not None else None,
                attempts,
                order,
            )
        )
    return records
