"""The run as JUnit XML, for the reporters and dashboards that read it.

Every attempt is kept, as Maven Surefire writes reruns: a test that failed, then passed on a
rerun has `<flakyFailure>` elements for the failed attempts; a test that failed every attempt
has its last failure as `<failure>` (or `<error>`) and the earlier ones as `<rerunFailure>`
(`<rerunError>`). What the gate found (the seed, the verdict, order dependence and its
polluter, new or known) goes into `<properties>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, timezone

from test_gate import __version__
from test_gate.analyse.result import GateResult
from test_gate.analyse.verdict import format_threshold, percent_text
from test_gate.read.records import Attempt, Outcome, TestRecord
from test_gate.render import failures
from test_gate.render.escape import visible

# XML 1.0 has no place for these, even escaped: they are shown as <U+XXXX>
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
PREFIX = "test-gate."


def xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"<U+{ord(m.group()):04X}>", visible(text))


def names(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's own junitxml makes them: the module path dotted, with
    any classes, and the test's name with its parameters."""
    path, _, rest = nodeid.partition("::")
    parts = rest.split("::") if rest else [path]
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *parts[:-1]]), parts[-1]


def _properties(parent: ET.Element, values: Mapping[str, str]) -> None:
    if not values:
        return
    holder = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(holder, "property", name=PREFIX + name, value=xml_text(value))


def _kind(message: str) -> str:
    """The exception's name, as a type attribute: "AssertionError" of "AssertionError: x"."""
    head = message.split(":", 1)[0].strip()
    return head if head.replace(".", "").replace("_", "").isalnum() and " " not in head else ""


def _attempt(parent: ET.Element, tag: str, attempt: Attempt) -> None:
    message = attempt.message or (
        "never finished" if attempt.outcome is Outcome.INTERRUPTED else ""
    )
    element = ET.SubElement(parent, tag, message=xml_text(message.partition("\n")[0]))
    kind = _kind(message)
    if kind:
        element.set("type", kind)
    trace = failures.clean(attempt.longrepr or attempt.message)
    if tag.startswith(("rerun", "flaky")):  # Surefire keeps these traces in a child
        if trace:
            ET.SubElement(element, "stackTrace").text = xml_text(trace)
    elif trace:
        element.text = xml_text(trace)


_FAILED = (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)


def _testcase(
    suite: ET.Element, test: TestRecord, found: failures.Entry | None
) -> tuple[str, float]:
    """The test's element; returns how it counts ("passed", "failure", "error", "skipped")
    and its time."""
    classname, name = names(test.nodeid)
    seconds = sum(a.duration for a in test.attempts)
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(classname),
        name=xml_text(name),
        file=xml_text(test.path),
        time=f"{seconds:.3f}",
    )
    if test.line is not None:
        case.set("line", str(test.line))
    values: dict[str, str] = {}
    if test.cell:
        values["cell"] = test.cell
    if found is not None:
        if found.what:
            values["what"] = ", ".join(plain for plain, _ in found.what)
        item = found.examined
        if item is not None:
            if item.culprits:
                values["polluters" if item.kind != "needs_setter" else "setters"] = " ".join(
                    item.culprits
                )
            if item.command:
                values["reproduce"] = item.command
            if item.state:
                values["polluted-state"] = "; ".join(s.text for s in item.state)
    _properties(case, values)
    last = test.last
    earlier = test.attempts[:-1]
    counted = "passed"
    if last.outcome in _FAILED:
        counted = "failure" if last.outcome is Outcome.FAILED else "error"
        _attempt(case, counted, last)
        for attempt in earlier:
            tag = "rerunFailure" if attempt.outcome is Outcome.FAILED else "rerunError"
            _attempt(case, tag, attempt)
    elif last.outcome in (Outcome.SKIPPED, Outcome.XFAILED):
        counted = "skipped"
        reason = last.message.removeprefix("Skipped: ")
        skipped = ET.SubElement(case, "skipped", message=xml_text(reason))
        skipped.set("type", "pytest.xfail" if last.outcome is Outcome.XFAILED else "pytest.skip")
    else:
        for attempt in earlier:
            if attempt.outcome in _FAILED:
                tag = "flakyFailure" if attempt.outcome is Outcome.FAILED else "flakyError"
                _attempt(case, tag, attempt)
    return counted, seconds


def render(result: GateResult, now: float) -> str:
    """The JUnit XML document; `now`: when the run ended (seconds since the epoch)."""
    verdict = result.verdict
    found = {(e.test.cell, e.test.nodeid): e for e in failures.entries(result)}
    root = ET.Element("testsuites", name="test-gate")
    suite = ET.SubElement(root, "testsuite", name="pytest")
    session = result.run.session
    started = now - (session.seconds or 0.0)
    suite.set("timestamp", datetime.fromtimestamp(started, timezone.utc).isoformat())
    values = {
        "version": __version__,
        "verdict": verdict.label,
        "pass-rate": percent_text(verdict.pass_rate),
        "threshold": format_threshold(verdict.threshold) + "%",
    }
    if result.seed is not None:
        values["seed"] = str(result.seed)
    if result.command:
        values["reproduce"] = result.command
    if result.cell:
        values["cell"] = result.cell
    values.update({f"reason.{i + 1}": r for i, r in enumerate(verdict.reasons)})
    _properties(suite, values)
    tally = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
    total = 0.0
    for test in result.run.tests:
        counted, seconds = _testcase(suite, test, found.get((test.cell, test.nodeid)))
        tally[counted] += 1
        total += seconds
    for error in result.run.collect_errors:  # a module that could not be collected: an error
        classname, name = names(error.nodeid or "<root>")
        case = ET.SubElement(
            suite, "testcase", classname=xml_text(classname), name=xml_text(name), time="0"
        )
        element = ET.SubElement(
            case, "error", message=xml_text(error.message or "collection failed")
        )
        element.set("type", "CollectionError")
        element.text = xml_text(error.longrepr)
        tally["error"] += 1
    tests = sum(tally.values())
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(tally["failure"]))
        element.set("errors", str(tally["error"]))
        element.set("skipped", str(tally["skipped"]))
        element.set("time", f"{session.seconds if session.seconds is not None else total:.3f}")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
