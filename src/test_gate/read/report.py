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

from pytest_test_gate.protocol import REPORT_KEY, SCHEMA

from test_gate.read.attempts import records_from_plugin, records_from_stages
from test_gate.read.records import (
    CollectError,
    CollectSettings,
    DeselectedFile,
    IgnoredPath,
    NeverRan,
    OptionKinds,
    RunData,
    TestRecord,
)
from test_gate.read.values import integer, text


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


def _collect_errors(
    data: Mapping[str, Any], plugin: Mapping[str, Any] | None
) -> list[CollectError]:
    if plugin is not None:
        return [
            CollectError(text(e.get("nodeid")), text(e.get("message")), text(e.get("longrepr")))
            for e in plugin.get("collect_errors") or []
            if isinstance(e, dict)
        ]
    errors = []
    for collector in data.get("collectors") or []:
        if isinstance(collector, dict) and collector.get("outcome") == "failed":
            longrepr = text(collector.get("longrepr"))
            lines = [line for line in longrepr.splitlines() if line.strip()]
            message = next((ln[1:].strip() for ln in lines if ln.startswith("E ")), "")
            errors.append(CollectError(text(collector.get("nodeid")), message, longrepr))
    return errors


def _ignored(plugin: Mapping[str, Any] | None) -> list[IgnoredPath]:
    items = (plugin or {}).get("ignored") or []
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
        for i in items
        if isinstance(i, dict)
    ]


def _deselected_files(plugin: Mapping[str, Any] | None) -> list[DeselectedFile]:
    items = (plugin or {}).get("deselected_by_file") or []
    return [
        DeselectedFile(text(i.get("path")), text(i.get("mechanism")), integer(i.get("count")) or 0)
        for i in items
        if isinstance(i, dict)
    ]


def _never_ran(plugin: Mapping[str, Any] | None) -> list[NeverRan]:
    items = (plugin or {}).get("never_ran") or []
    return [
        NeverRan(
            text(i.get("path")),
            text(i.get("how")),
            text(i.get("reason")),
            integer(i.get("line")),
            integer(i.get("tests")),
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
        records = records_from_plugin(plugin)
        reported = {text(t.get("nodeid")) for t in tests if isinstance(t, dict)}
        recorded = {r.nodeid for r in records}
        if reported != recorded:
            missing = sorted(reported ^ recorded)
            problems.append(
                f"{source} is inconsistent: {len(missing)} test(s) appear in only one of the "
                f"report's test list and its attempt log, e.g. {missing[0]}"
            )
        collected = integer(plugin.get("collected"))
        deselected = len(plugin.get("deselected") or [])
        selected = integer(plugin.get("selected"))
        seed = plugin.get("random_order_seed")
    else:
        records = records_from_stages(tests, text(data.get("root")))
        raw_summary = data.get("summary")
        summary: Mapping[str, Any] = raw_summary if isinstance(raw_summary, dict) else {}
        collected = integer(summary.get("collected"))
        deselected = integer(summary.get("deselected")) or 0
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
        exit_code=integer(data.get("exitcode")),
        seed=text(seed) if seed is not None else None,
        ignored=tuple(_ignored(plugin)),
        deselected_files=tuple(_deselected_files(plugin)),
        never_ran=tuple(_never_ran(plugin)),
        collect_settings=_collect_settings(plugin),
        problems=tuple(problems),
        sources=(source,),
        root=text((plugin or {}).get("rootdir") or data.get("root")),
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
        root=text(section.get("rootdir")),
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
