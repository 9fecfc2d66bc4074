"""Read pytest-json-report files into plain records.

Counting comes from the per-phase reports our plugin recorded (every attempt, in execution
order). A report made without our plugin falls back to the per-test stages of the JSON report,
which keep only the last attempt. Anything missing or contradictory becomes a `problem`, which
fails the gate: nothing is silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import (
    PLAINLY,
    REPORT_KEY,
    SCHEMA,
    SECTION_FORKED,
    SECTION_STATE,
    SECTION_WATCH_NOTES,
)

from test_gate.read.attempts import records_from_plugin, records_from_stages
from test_gate.read.cross_check import check_against_report
from test_gate.read.files import REPORT_LIMIT, Unreadable, read_bytes
from test_gate.read.records import (
    STOPPED_EARLY,
    Choice,
    CollectError,
    CollectSettings,
    DeselectedFile,
    IgnoredPath,
    NeverRan,
    OptionKinds,
    RunData,
    ShardInfo,
    StateChange,
    TestRecord,
)
from test_gate.read.shard import ShardUnreadable, shard_info
from test_gate.read.values import Findings, as_count, as_dict, as_list, integer, number, text


class ReportError(Exception):
    """The report cannot be read at all; the message says why, in one line."""


def read_json(path: Path, what: str, limit: int = REPORT_LIMIT) -> Any:
    """A JSON file, or a ReportError that names `what` it is and why it cannot be read."""
    try:
        raw = read_bytes(path, limit)
    except Unreadable as exc:
        if not path.exists() and not path.is_symlink():
            wrote = ": pytest wrote no report" if what == "report" else ""
            raise ReportError(f"{what} {path} does not exist{wrote}") from None
        raise ReportError(f"{what} {path} cannot be read: {exc}") from None
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{what} {path} is not UTF-8 text") from None
    try:
        return json.loads(text_)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{what} {path} is not valid JSON (truncated or corrupt): {exc.msg} "
            f"at line {exc.lineno}"
        ) from None
    except RecursionError:
        raise ReportError(f"{what} {path} nests deeper than any {what} does") from None
    except ValueError as exc:  # an integer of thousands of digits, and the like
        raise ReportError(f"{what} {path} holds a value no {what} holds: {exc}") from None


def load_json(path: Path, limit: int = REPORT_LIMIT) -> dict[str, Any]:
    data = read_json(path, "report", limit)
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ReportError(f"report {path} is not a pytest-json-report file (no 'tests' list)")
    return data


def _collect_errors(
    data: Mapping[str, Any], plugin: Mapping[str, Any] | None, findings: Findings
) -> list[CollectError]:
    if plugin is not None:
        errors = as_list(plugin.get("collect_errors"), "the collection errors", findings)
        out = []
        for e in errors:
            if not isinstance(e, dict):
                findings.add("a collection error is not an object (lost data)")
                continue
            out.append(
                CollectError(text(e.get("nodeid")), text(e.get("message")), text(e.get("longrepr")))
            )
        return out
    out = []
    for collector in as_list(data.get("collectors"), "the report's collectors", findings):
        if isinstance(collector, dict) and collector.get("outcome") == "failed":
            longrepr = text(collector.get("longrepr"))
            lines = [line for line in longrepr.splitlines() if line.strip()]
            message = next((ln[1:].strip() for ln in lines if ln.startswith("E ")), "")
            out.append(CollectError(text(collector.get("nodeid")), message, longrepr))
    return out


def _entries(
    plugin: Mapping[str, Any] | None, key: str, findings: Findings
) -> list[dict[str, Any]]:
    """The objects of one of the record's lists; anything else in it is lost data, said."""
    items = as_list((plugin or {}).get(key), f"the record's {key!r}", findings)
    good = [i for i in items if isinstance(i, dict)]
    if len(good) < len(items):
        findings.add(f"{len(items) - len(good)} entries of the record's {key!r} are malformed")
    return good


def _ignored(plugin: Mapping[str, Any] | None, findings: Findings) -> list[IgnoredPath]:
    return [
        IgnoredPath(
            text(i.get("path")),
            text(i.get("mechanism")),
            text(i.get("source")),
            integer(i.get("tests")),
            files=integer(i.get("files")) or 1,
            pattern=text(i.get("pattern")),
            origin=text(i.get("origin")),
            config_file=text(i.get("config_file")),
        )
        for i in _entries(plugin, "ignored", findings)
    ]


def _deselected_files(plugin: Mapping[str, Any] | None, findings: Findings) -> list[DeselectedFile]:
    return [
        DeselectedFile(text(i.get("path")), text(i.get("mechanism")), integer(i.get("count")) or 0)
        for i in _entries(plugin, "deselected_by_file", findings)
    ]


def _never_ran(plugin: Mapping[str, Any] | None, findings: Findings) -> list[NeverRan]:
    return [
        NeverRan(
            text(i.get("path")),
            text(i.get("how")),
            text(i.get("reason")),
            integer(i.get("line")),
            integer(i.get("tests")),
        )
        for i in _entries(plugin, "never_ran", findings)
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
        invocation_dir=text(raw.get("invocation_dir")),
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


def _environment(
    plugin: Mapping[str, Any] | None, findings: Findings
) -> tuple[tuple[str, str], ...]:
    found = as_dict((plugin or {}).get("environment"), "the record's environment", findings)
    return tuple((text(k), text(v)) for k, v in (found or {}).items())


def _shard(plugin: Mapping[str, Any] | None, findings: Findings) -> ShardInfo | None:
    try:
        return shard_info((plugin or {}).get("shard"))
    except ShardUnreadable as exc:
        findings.add(f"{exc}: the split cannot be checked")
        return None


def _choices(plugin: Mapping[str, Any] | None) -> tuple[Choice, ...]:
    raw = (plugin or {}).get("chosen")
    if not isinstance(raw, dict):
        return ()
    return tuple(
        Choice(
            text(name),
            "" if v.get("value") is None else text(v.get("value")),
            text(v.get("by")),
            text(v.get("option")),
        )
        for name, v in raw.items()
        if isinstance(v, dict)
    )


def _forked(plugin: Mapping[str, Any] | None, findings: Findings) -> None:
    """A child a test forked from pytest that went on with the session: its tests ran
    twice, once where the gate cannot see them."""
    children = as_list((plugin or {}).get(SECTION_FORKED), "the record's forked", findings)
    if not children:
        return
    tests = list(
        dict.fromkeys(text(c.get("nodeid")) if isinstance(c, dict) else "" for c in children)
    )
    named = ", ".join(t or "(between tests)" for t in tests[:3]) + (
        " and more" if len(tests) > 3 else ""
    )
    findings.add(
        f"{len(children)} process(es) that a test forked from pytest went on with the session "
        f"(forked in {named}): what they ran is not in the record, and the gate cannot vouch "
        "for it; a forked child must end with os._exit()"
    )


def read_report(
    data: Mapping[str, Any],
    *,
    run_id: str | None = None,
    source: str = "report",
    cross_check: bool = True,
) -> RunData:
    """Turn one parsed JSON report into records, noting every gap as a problem.
    `cross_check`: pytest-json-report's tests are there to check the record against."""
    findings = Findings(source)
    tests = as_list(data.get("tests"), "the report's tests", findings)
    section = data.get(REPORT_KEY)
    plugin = as_dict(section, f"the {REPORT_KEY} section", findings)
    if plugin is not None and plugin.get("schema") != SCHEMA:
        findings.add(
            f"it holds a record of schema {plugin.get('schema')!r:.20} and this test-gate "
            f"reads schema {SCHEMA}: install the matching pytest-test-gate "
            "(test-gate install-plugins)"
        )
    if run_id is not None:
        found = (plugin or {}).get("run_id")
        if found != run_id:
            findings.add(
                f"it is stale: it was not written by this run (run id {found!r:.40}, "
                f"expected {run_id!r})"
            )
    _forked(plugin, findings)
    collect_errors = _collect_errors(data, plugin, findings)
    if plugin is not None:
        records = records_from_plugin(plugin, findings)
        finished = bool(number(plugin.get("finished")))
        if not finished:
            findings.add(
                "pytest-test-gate's record does not say the session finished: pytest was "
                "stopped, or crashed, before the end"
            )
        if cross_check:
            plainly = _plainly(data, findings)
            check_against_report(tests, records, text(data.get("root")), findings, plainly)
        failed_collectors = _collect_errors(data, None, findings)
        if len(failed_collectors) > len(collect_errors):
            findings.add(
                f"pytest-json-report lists {len(failed_collectors)} failed collector(s) and "
                f"pytest-test-gate's record {len(collect_errors)} collection error(s): the "
                "report contradicts itself"
            )
        collected = as_count(plugin.get("collected"), "the record's collected count", findings)
        deselected = len(as_list(plugin.get("deselected"), "the record's deselected", findings))
        selected = as_count(plugin.get("selected"), "the record's selected count", findings)
        seed = plugin.get("random_order_seed")
    else:
        finished = True
        records = records_from_stages(tests, text(data.get("root")), findings)
        summary = as_dict(data.get("summary"), "the report's summary", findings) or {}
        collected = as_count(summary.get("collected"), "the summary's collected", findings)
        deselected = as_count(summary.get("deselected"), "the summary's deselected", findings) or 0
        selected = None
        seed = None
    if collected is None:
        collected = len(records)
    if selected is None:
        selected = collected - deselected
    state = tuple(_state_changes(plugin, findings))  # before the findings are read out
    ran = len({r.nodeid for r in records})
    if ran < selected:
        findings.add(f"{selected} test(s) were selected but only {ran} ran ({STOPPED_EARLY})")
    return RunData(
        tests=tuple(records),
        collect_errors=tuple(collect_errors),
        collected=collected,
        deselected=deselected,
        exit_code=integer(data.get("exitcode")),
        seed=text(seed) if isinstance(seed, (str, int)) else None,
        ignored=tuple(_ignored(plugin, findings)),
        deselected_files=tuple(_deselected_files(plugin, findings)),
        never_ran=tuple(_never_ran(plugin, findings)),
        collect_settings=_collect_settings(plugin),
        problems=tuple(findings.lines()),
        sources=(source,),
        root=text((plugin or {}).get("rootdir") or data.get("root")),
        option_kinds=_option_kinds(plugin),
        choices=_choices(plugin),
        finished=finished,
        environment=_environment(plugin, findings),
        shard=_shard(plugin, findings),
        running=tuple(
            text(n) for n in as_list((plugin or {}).get("running"), "the running tests", findings)
        ),
        state_changes=state,
        watch_notes=_watch_notes(plugin, findings),
    )


def _watch_notes(plugin: Mapping[str, Any] | None, findings: Findings) -> tuple[str, ...]:
    """What the state watch said of itself. A record from before it could say anything has
    no such list, and says nothing."""
    found = (plugin or {}).get(SECTION_WATCH_NOTES, [])
    if not isinstance(found, list):
        findings.add(f"the record's {SECTION_WATCH_NOTES!r} is malformed")
        return ()
    return tuple(f"state watch: {text(n)[:500]}" for n in found[:20])


def _names(value: Any) -> tuple[str, ...]:
    return tuple(text(v)[:200] for v in value[:64]) if isinstance(value, list) else ()


def _plainly(data: Mapping[str, Any], findings: Findings) -> list[str]:
    """A digest's ids of the tests pytest-json-report says plainly passed."""
    found = data.get(PLAINLY)
    if found is None:
        return []
    if not isinstance(found, list) or not all(type(n) is str for n in found):
        findings.add("the report's digest lists its plainly passed tests wrongly")
        return []
    return found


def _state_changes(plugin: Mapping[str, Any] | None, findings: Findings) -> list[StateChange]:
    """What each test left changed, as the record says it (a diagnosis reads it)."""
    out = []
    for entry in _entries(plugin, SECTION_STATE, findings):
        changes = entry.get("changes")
        if not isinstance(entry.get("nodeid"), str) or not isinstance(changes, list):
            findings.add(f"an entry of the record's {SECTION_STATE!r} is malformed")
            continue
        for change in changes:
            if not isinstance(change, dict):
                findings.add(f"a change in the record's {SECTION_STATE!r} is malformed")
                continue
            out.append(
                StateChange(
                    entry["nodeid"],
                    text(change.get("key"))[:200],
                    text(change.get("before"))[:200],
                    text(change.get("after"))[:200],
                    text(entry.get("worker")),
                    _names(change.get("gained")),
                    _names(change.get("lost")),
                    text(change.get("by"))[:300],
                )
            )
    return out


def read_unrun(section: Mapping[str, Any]) -> RunData:
    """The plugin's record of what never ran, on its own (the file `test-gate ignored` reads)."""
    findings = Findings("the record")
    return RunData(
        tests=(),
        ignored=tuple(_ignored(section, findings)),
        deselected_files=tuple(_deselected_files(section, findings)),
        never_ran=tuple(_never_ran(section, findings)),
        problems=tuple(findings.lines()),
        collect_settings=_collect_settings(section),
        root=text(section.get("rootdir")),
    )


def once_each(items: Iterable[IgnoredPath]) -> tuple[IgnoredPath, ...]:
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
    overlap = Findings("the reports")
    for run in runs:
        problems.extend(run.problems)
        for record in run.tests:
            if record.nodeid in seen:
                overlap.test(
                    "appear in more than one report (they overlap, so the counts would be wrong)",
                    record.nodeid,
                )
                continue
            seen.add(record.nodeid)
            tests.append(record)
    problems.extend(overlap.lines())
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
        ignored=once_each(i for r in runs for i in r.ignored),
        deselected_files=tuple(d for r in runs for d in r.deselected_files),
        never_ran=tuple(n for r in runs for n in r.never_ran),
        collect_settings=runs[0].collect_settings,
        problems=tuple(problems),
        sources=tuple(s for r in runs for s in r.sources),
        root=runs[0].root,
        watch_notes=tuple(dict.fromkeys(n for r in runs for n in r.watch_notes)),
    )
