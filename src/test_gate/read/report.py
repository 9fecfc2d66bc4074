"""Read pytest-json-report files into plain records.

Counting comes from the per-phase reports our plugin recorded (every attempt, in execution
order). A report made without our plugin falls back to the per-test stages of the JSON report,
which keep only the last attempt. Anything missing or contradictory becomes a `problem`, which
fails the gate: nothing is silently dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import REPORT_KEY, SCHEMA

from test_gate.read.records import (
    Attempt,
    CollectError,
    CollectSettings,
    DeselectedFile,
    IgnoredPath,
    NeverRan,
    OptionKinds,
    Outcome,
    RunData,
    TestRecord,
)

FAILED_PHASE = {"failed", "rerun", "error"}


class ReportError(Exception):
    """The report cannot be read at all; the message says why, in one line."""


def load_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"report {path} does not exist: pytest wrote no report") from None
    except OSError as exc:
        raise ReportError(f"report {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ReportError(f"report {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"report {path} is not valid JSON (truncated or corrupt): {exc.msg} "
            f"at line {exc.lineno}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ReportError(f"report {path} is not a pytest-json-report file (no 'tests' list)")
    return data


def _str(value: Any) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable bytes (file names, output)
        try:  # the original bytes, shown as \xNN
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0.0


def _attempt_from_phases(phases: Sequence[Mapping[str, Any]]) -> Attempt:
    """Classify one attempt from its phase reports, per the counting rules."""
    by_when: dict[str, list[Mapping[str, Any]]] = {}
    for phase in phases:
        by_when.setdefault(_str(phase.get("when")), []).append(phase)
    setup = by_when.get("setup", [])
    call = by_when.get("call", [])
    teardown = by_when.get("teardown", [])
    duration = sum(_float(p.get("duration")) for p in phases)

    def failing(reports: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        return next((r for r in reports if _str(r.get("outcome")) in FAILED_PHASE), None)

    def attempt(outcome: Outcome, source: Mapping[str, Any] | None = None) -> Attempt:
        source = source or {}
        crash = source.get("crash") or []
        return Attempt(
            outcome=outcome,
            message=_str(source.get("message")),
            longrepr=_str(source.get("longrepr")),
            duration=duration,
            crash_path=_str(crash[0]) if len(crash) > 0 else "",
            crash_line=_int(crash[1]) if len(crash) > 1 else None,
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


def _split_attempts(reports: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
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
    path = nodeid.split("::", 1)[0]
    line = None
    if isinstance(loc, list) and len(loc) >= 2:
        path = _str(loc[0]) or path
        zero_based = _int(loc[1])
        line = zero_based + 1 if zero_based is not None else None
    return path, line


def _relative(path: str, root: str) -> str:
    if root and path.startswith("/"):
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            return path
    return path


def _rooted(attempt: Attempt, root: str) -> Attempt:
    if not attempt.crash_path:
        return attempt
    return replace(attempt, crash_path=_relative(attempt.crash_path, root))


def _records_from_plugin(plugin: Mapping[str, Any]) -> list[TestRecord]:
    # one record per test per process: under `pytest-xdist --dist each` every worker runs
    # every test, and each of those runs counts (as pytest counts them). A test whose worker
    # died in it is rerun on a new worker: that run continues the same record.
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    alias: dict[tuple[str, str], tuple[str, str]] = {}
    crashed: dict[str, tuple[str, str]] = {}
    for report in plugin.get("reports") or []:
        if not (isinstance(report, dict) and isinstance(report.get("nodeid"), str)):
            continue
        nodeid = _str(report["nodeid"])
        key = alias.get((nodeid, _str(report.get("worker"))), (nodeid, _str(report.get("worker"))))
        if key not in grouped and nodeid in crashed:
            alias[key] = key = crashed.pop(nodeid)
        grouped.setdefault(key, []).append(report)
        if report.get("when") not in ("setup", "call", "teardown"):
            crashed[nodeid] = key
    records = []
    root = _str(plugin.get("rootdir"))
    for order, ((nodeid, worker), reports) in enumerate(grouped.items()):
        path, line = _location(nodeid, reports[0].get("location"))
        attempts = tuple(_rooted(_attempt_from_phases(a), root) for a in _split_attempts(reports))
        records.append(TestRecord(nodeid, path, line, attempts, order, worker=worker))
    return records


def _records_from_stages(tests: Iterable[Any], root: str) -> list[TestRecord]:
    """Fallback for reports made without our plugin: only the last attempt is known."""
    records = []
    for order, test in enumerate(tests):
        if not isinstance(test, dict):
            continue
        nodeid = _str(test.get("nodeid"))
        phases = []
        for when in ("setup", "call", "teardown"):
            stage = test.get(when)
            if not isinstance(stage, dict):
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
            if test.get("outcome") in ("xfailed", "xpassed") and when == "call":
                phase["wasxfail"] = ""
            phases.append(phase)
        last = _rooted(_attempt_from_phases(phases), root)
        overall = test.get("outcome")
        if overall == "failed" and last.outcome is Outcome.PASSED:
            # subtests: the item failed although its call phase says passed
            last = Attempt(Outcome.FAILED, "a subtest failed", "", last.duration)
        attempts: tuple[Attempt, ...] = (last,)
        if overall == "rerun" and last.outcome is Outcome.PASSED:
            attempts = (Attempt(Outcome.FAILED, "failed before a rerun passed"), last)
        line = _int(test.get("lineno"))
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


def _collect_errors(
    data: Mapping[str, Any], plugin: Mapping[str, Any] | None
) -> list[CollectError]:
    if plugin is not None:
        return [
            CollectError(_str(e.get("nodeid")), _str(e.get("message")), _str(e.get("longrepr")))
            for e in plugin.get("collect_errors") or []
            if isinstance(e, dict)
        ]
    errors = []
    for collector in data.get("collectors") or []:
        if isinstance(collector, dict) and collector.get("outcome") == "failed":
            longrepr = _str(collector.get("longrepr"))
            lines = [line for line in longrepr.splitlines() if line.strip()]
            message = next((ln[1:].strip() for ln in lines if ln.startswith("E ")), "")
            errors.append(CollectError(_str(collector.get("nodeid")), message, longrepr))
    return errors


def _ignored(plugin: Mapping[str, Any] | None) -> list[IgnoredPath]:
    items = (plugin or {}).get("ignored") or []
    return [
        IgnoredPath(
            _str(i.get("path")),
            _str(i.get("mechanism")),
            _str(i.get("source")),
            _int(i.get("tests")),
            files=_int(i.get("files")) or 1,
            pattern=_str(i.get("pattern")),
            origin=_str(i.get("origin")),
            config_file=_str(i.get("config_file")),
        )
        for i in items
        if isinstance(i, dict)
    ]


def _deselected_files(plugin: Mapping[str, Any] | None) -> list[DeselectedFile]:
    items = (plugin or {}).get("deselected_by_file") or []
    return [
        DeselectedFile(_str(i.get("path")), _str(i.get("mechanism")), _int(i.get("count")) or 0)
        for i in items
        if isinstance(i, dict)
    ]


def _never_ran(plugin: Mapping[str, Any] | None) -> list[NeverRan]:
    items = (plugin or {}).get("never_ran") or []
    return [
        NeverRan(
            _str(i.get("path")),
            _str(i.get("how")),
            _str(i.get("reason")),
            _int(i.get("line")),
            _int(i.get("tests")),
        )
        for i in items
        if isinstance(i, dict)
    ]


def _collect_settings(plugin: Mapping[str, Any] | None) -> CollectSettings | None:
    raw = (plugin or {}).get("collect_settings")
    if not isinstance(raw, dict):
        return None

    def names(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = raw.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            return tuple(value)
        return default

    default = CollectSettings()
    return CollectSettings(
        python_files=names("python_files", default.python_files),
        python_functions=names("python_functions", default.python_functions),
        python_classes=names("python_classes", default.python_classes),
        invocation_dir=_str(raw.get("invocation_dir")),
    )


def _option_kinds(plugin: Mapping[str, Any] | None) -> OptionKinds | None:
    raw = (plugin or {}).get("options")
    if not isinstance(raw, dict):
        return None

    def names(key: str) -> frozenset[str]:
        value = raw.get(key)
        return (
            frozenset(v for v in value if isinstance(v, str))
            if isinstance(value, list)
            else frozenset()
        )

    kinds = OptionKinds(names("takes_value"), names("optional_value"), names("flags"))
    return kinds if kinds.flags or kinds.takes_value else None


def read_report(
    data: Mapping[str, Any], *, run_id: str | None = None, source: str = "report"
) -> RunData:
    """Turn one parsed JSON report into records, noting every gap as a problem."""
    problems: list[str] = []
    tests = data.get("tests") or []
    section = data.get(REPORT_KEY)
    plugin: Mapping[str, Any] | None = section if isinstance(section, dict) else None
    if section is not None and plugin is None:
        problems.append(f"{source}: the {REPORT_KEY} section is malformed")
    if plugin is not None and plugin.get("schema") != SCHEMA:
        problems.append(
            f"{source} holds a record of schema {plugin.get('schema')!r} and this test-gate "
            f"reads schema {SCHEMA}: install the matching pytest-test-gate "
            "(test-gate install-plugins)"
        )
    if run_id is not None:
        found = (plugin or {}).get("run_id")
        if found != run_id:
            problems.append(
                f"{source} is stale: it was not written by this run (run id {found!r}, "
                f"expected {run_id!r})"
            )
    if plugin is not None:
        records = _records_from_plugin(plugin)
        reported = {_str(t.get("nodeid")) for t in tests if isinstance(t, dict)}
        recorded = {r.nodeid for r in records}
        if reported != recorded:
            missing = sorted(reported ^ recorded)
            problems.append(
                f"{source} is inconsistent: {len(missing)} test(s) appear in only one of the "
                f"report's test list and its attempt log, e.g. {missing[0]}"
            )
        collected = _int(plugin.get("collected"))
        deselected = len(plugin.get("deselected") or [])
        selected = _int(plugin.get("selected"))
        seed = plugin.get("random_order_seed")
    else:
        records = _records_from_stages(tests, _str(data.get("root")))
        raw_summary = data.get("summary")
        summary: Mapping[str, Any] = raw_summary if isinstance(raw_summary, dict) else {}
        collected = _int(summary.get("collected"))
        deselected = _int(summary.get("deselected")) or 0
        selected = None
        seed = None
    if collected is None:
        collected = len(records)
    if selected is None:
        selected = collected - deselected
    ran = len({r.nodeid for r in records})
    if ran < selected:
        problems.append(
            f"{source}: {selected} test(s) were selected but only {ran} ran "
            "(the session stopped early: -x, --maxfail, a crash or an interrupt)"
        )
    return RunData(
        tests=tuple(records),
        collect_errors=tuple(_collect_errors(data, plugin)),
        collected=collected,
        deselected=deselected,
        exit_code=_int(data.get("exitcode")),
        seed=_str(seed) if seed is not None else None,
        ignored=tuple(_ignored(plugin)),
        deselected_files=tuple(_deselected_files(plugin)),
        never_ran=tuple(_never_ran(plugin)),
        collect_settings=_collect_settings(plugin),
        problems=tuple(problems),
        sources=(source,),
        root=_str((plugin or {}).get("rootdir") or data.get("root")),
        option_kinds=_option_kinds(plugin),
    )


def read_unrun(section: Mapping[str, Any]) -> RunData:
    """The plugin's record of what never ran, on its own (the file `test-gate ignored` reads)."""
    return RunData(
        tests=(),
        ignored=tuple(_ignored(section)),
        deselected_files=tuple(_deselected_files(section)),
        never_ran=tuple(_never_ran(section)),
        collect_settings=_collect_settings(section),
        root=_str(section.get("rootdir")),
    )


def _once_each(items: Iterable[IgnoredPath]) -> tuple[IgnoredPath, ...]:
    """Shards of one suite share their configuration: an ignored file is listed once."""
    first: dict[str, IgnoredPath] = {}
    for item in items:
        first.setdefault(item.path, item)
    return tuple(first.values())


def merge(runs: Sequence[RunData]) -> RunData:
    """Several reports (shards of one suite) judged as one run."""
    if len(runs) == 1:
        return runs[0]
    tests: list[TestRecord] = []
    problems: list[str] = []
    seen: set[str] = set()
    for run in runs:
        problems.extend(run.problems)
        for record in run.tests:
            if record.nodeid in seen:
                problems.append(
                    f"test {record.nodeid} appears in more than one report: "
                    "the reports overlap, so the counts would be wrong"
                )
                continue
            seen.add(record.nodeid)
            tests.append(record)
    exit_codes = [r.exit_code for r in runs]
    worst = None if None in exit_codes else max(c for c in exit_codes if c is not None)
    seeds = {r.seed for r in runs if r.seed is not None}
    return RunData(
        tests=tuple(tests),
        collect_errors=tuple(e for r in runs for e in r.collect_errors),
        collected=sum(r.collected for r in runs),
        deselected=sum(r.deselected for r in runs),
        exit_code=worst,
        seed=", ".join(sorted(seeds)) if seeds else None,
        ignored=_once_each(i for r in runs for i in r.ignored),
        deselected_files=tuple(d for r in runs for d in r.deselected_files),
        never_ran=tuple(n for r in runs for n in r.never_ran),
        collect_settings=runs[0].collect_settings,
        problems=tuple(problems),
        sources=tuple(s for r in runs for s in r.sources),
        root=runs[0].root,
    )
