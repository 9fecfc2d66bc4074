"""The pipelines, from validated settings to an exit code: read -> analyse -> render ->
publish, for the commands that judge files (`gate`, `merge`, `history`), and the ending every
pipeline shares. `run_pipeline.py` puts `run` together the same way, with pytest first."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from test_gate.across_runs import look_back, record, today
from test_gate.analyse.cell import default_cell
from test_gate.analyse.history import (
    failing_since,
    flakiest,
    flips,
)
from test_gate.analyse.merge import Expected, merge_jobs
from test_gate.analyse.result import (
    Files,
    GateResult,
    analyse,
)
from test_gate.analyse.verdict import Verdict
from test_gate.publish import github
from test_gate.publish.history import MAX_MERGED, merge_stores
from test_gate.publish.publisher import publish
from test_gate.read import attribution
from test_gate.read.files import gc_paused
from test_gate.read.history import (
    History,
    Lane,
    display,
    latest_lane,
    load_history,
    load_lanes,
)
from test_gate.read.identity import changed_files
from test_gate.read.pg_store import is_url
from test_gate.read.quarantine import Quarantine
from test_gate.read.records import RunData
from test_gate.read.report import (
    ReportError,
    load_json,
    read_report,
)
from test_gate.read.report import merge as merge_reports
from test_gate.read.results import read_results, result_files
from test_gate.read.store import HistoryUnusable
from test_gate.render import dashboard, history_report, terminal
from test_gate.run.scratch import clean_up, work_dir
from test_gate.settings import (
    GateSettings,
    HistorySettings,
    MergeSettings,
    Outputs,
    UsageError,
)

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MERGE_LANE = "merge"  # the lane of a merged verdict in the history


def read_reports(paths: Sequence[Path]) -> RunData:
    runs = []
    with gc_paused():
        for path in paths:
            try:
                runs.append(read_report(load_json(path), source=str(path)))
            except ReportError as exc:
                runs.append(RunData(tests=(), problems=(str(exc),), sources=(str(path),)))
    return merge_reports(runs)


def exit_code(verdict: Verdict, fail_on_gate: bool) -> int:
    if verdict.passed:
        return EXIT_PASS
    if not fail_on_gate and not verdict.blind:
        print("test-gate: report-only mode (--fail-on-gate false): the gate failed, exit code 0")
        return EXIT_PASS
    return EXIT_FAIL


def runner_os() -> str:
    return os.environ.get("RUNNER_OS", "") if github.in_actions() else ""


def conclude(result: GateResult, outputs: Outputs, fail_on_gate: bool, scratch: Path) -> int:
    """Every output written, the scratch folder emptied, the exit code: how each pipeline
    that judged a run ends. Rendering makes a row per test and no reference cycles: the
    collector, paused, does not walk them again and again."""
    verdict = result.verdict
    if outputs.github and outputs.annotations and (verdict.failures or verdict.flaky):
        # on a pull request, annotations go first to the files it changes
        result = replace(result, changed=changed_files(Path.cwd()))
    with gc_paused():
        publish(result, outputs)
    clean_up(scratch, keep=_kept(result.files, outputs.github))
    return exit_code(result.verdict, fail_on_gate)


def _kept(files: Files, github_mode: bool) -> set[Path]:
    """What stays of the scratch folder: the result and the summary (their paths are printed),
    and in GitHub Actions the report too (a step output names it)."""
    return {files.result, files.summary, *([files.report] if github_mode and files.report else [])}


def output_files(
    result: Path | None, summary: Path | None, scratch: Path, report: Path | None
) -> Files:
    return Files(
        result=result or scratch / "result.json",
        summary=summary or scratch / "summary.md",
        report=report,
    )


def gate(settings: GateSettings) -> int:
    """`test-gate gate`: the verdict on reports pytest already wrote."""
    records = attribution.attribute(read_reports(settings.reports))
    scratch = work_dir()
    cell = settings.cell or default_cell(dict(records.environment), runner_os())
    records, looked, recording = look_back(records, None, settings.history, cell, Path.cwd())
    result: GateResult = analyse(
        records,
        settings.policy,
        output_files(
            settings.outputs.result_file,
            settings.outputs.summary_file,
            scratch,
            settings.reports[0],
        ),
        path_prefix=github.workspace_prefix(records.root),
        cell=cell,
        history=looked,
    )
    result = record(result, recording)
    dashboard_after(settings.history)
    with github.output_guard(settings.outputs.github):
        print(terminal.render(result), end="", flush=True)
    return conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def merge(settings: MergeSettings) -> int:
    """`test-gate merge`: one verdict over the results of shards and matrix cells."""
    files, problems = result_files(settings.paths)
    expected = Expected(
        shards=settings.expect_shards,
        cells=settings.expect_cells,
        allow_no_tests=settings.policy.allow_no_tests,
    )
    with gc_paused():
        jobs, refused = read_results(files)
        records, facts = merge_jobs(jobs, [*problems, *refused], expected)
    scratch = work_dir()
    records, looked, recording = look_back(records, None, settings.history, MERGE_LANE, Path.cwd())
    result = analyse(
        records,
        settings.policy,
        output_files(settings.outputs.result_file, settings.outputs.summary_file, scratch, None),
        merge=facts,
        history=looked,
    )
    result = record(result, recording)
    dashboard_after(settings.history)
    with github.output_guard(settings.outputs.github):
        print(terminal.render(result), end="", flush=True)
    return conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def store_source(file: str) -> Path | str:
    """FILE of the history commands: a file that must be there, or a PostgreSQL URL."""
    if is_url(file):
        return file
    if not Path(file).is_file():
        raise UsageError(f"FILE: {file!r} is not a file; give the history store (--history)")
    return Path(file)


def _stored(file: str, branch: str | None, lane: str | None, window: int) -> tuple[History, Lane]:
    """A history store as `test-gate history` reads it, and the lane read: the newest run's
    branch and lane unless named."""
    source = store_source(file)
    try:
        latest = latest_lane(source)
        if latest is None:
            raise UsageError(f"FILE: {display(source)} holds no runs yet")
        chosen = Lane(branch or latest[0], None, lane or latest[1])
        return load_history(source, chosen, window, (), trend=window), chosen
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None


def show_history(
    file: str,
    branch: str | None,
    lane: str | None,
    window: int,
    as_json: bool,
    threshold: Decimal = Decimal(98),
) -> int:
    """`test-gate history FILE`: the trend, the flakiest tests and the newest failures."""
    history, chosen = _stored(file, branch, lane, window)
    text = history_report.report(
        chosen.branch,
        chosen.lane,
        history.runs,
        flakiest(flips(history.ran, history.results)),
        failing_since(history.window, history.results),
        as_json,
        threshold,
    )
    with github.output_guard():  # test ids come from the project
        print(text, end="")
    return EXIT_PASS


def merge_history(file: str, other: str, keep: int, as_json: bool) -> int:
    """`test-gate history FILE --merge-from OTHER`: FILE takes the runs of OTHER it lacks."""
    target, source = Path(file), Path(other)
    if is_url(file) or is_url(other):
        raise UsageError("--merge-from: merges two history files; a PostgreSQL store loses no run")
    try:
        merged = merge_stores(target, source, keep)
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None
    older = f"; {merged.left_out} older run(s) left out (at most {MAX_MERGED} a merge)"
    with github.output_guard():  # the paths are the caller's
        if as_json:
            found = {"added": merged.added, "runs": merged.runs, "left_out": merged.left_out}
            print(json.dumps(found))
        else:
            print(
                f"history {file}: {merged.added} run(s) added from {other}; "
                f"{merged.runs} run(s) in all{older if merged.left_out else ''}"
            )
    return EXIT_PASS


MAX_LANES = 50  # lanes on the dashboard, the most recently run first


def dashboard_after(history: HistorySettings) -> None:
    """--dashboard: the page, written once the run is recorded; a store that cannot be read
    is a notice, never a failure of the gate."""
    source = history.source
    if history.dashboard is None or source is None:
        return
    try:
        write_dashboard(str(source), history.dashboard, history.window, history.quarantine)
    except (UsageError, OSError) as exc:
        print(f"test-gate: the dashboard was not written: {exc}", flush=True)


def write_dashboard(file: str, directory: Path, window: int, quarantine: Quarantine | None) -> int:
    """`test-gate history FILE --html DIR`: one self-contained page of every lane."""
    source = store_source(file)
    try:
        lanes = load_lanes(source, window, MAX_LANES)
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None
    views = [
        dashboard.LaneView(
            lane,
            flakiest(flips(lane.ran, lane.results), dashboard.MAX_STRIPS),
            tuple(failing_since(lane.runs, lane.results)),
        )
        for lane in lanes
    ]
    page = dashboard.render(
        views,
        source=source.name if isinstance(source, Path) else display(source),
        generated=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        quarantine=quarantine.entries if quarantine else (),
        quarantine_file=quarantine.path if quarantine else "",
        today=today(),
    )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "index.html"
    target.write_text(page, encoding="utf-8", errors="backslashreplace")
    runs = sum(len(lane.runs) for lane in lanes)
    print(
        f"test-gate history: {target} ({len(lanes)} lane(s), {runs} run(s), "
        f"{len(page.encode()) // 1024} KiB)"
    )
    return EXIT_PASS


def suggest_quarantine(
    file: str, branch: str | None, lane: str | None, window: int, days: int
) -> int:
    """`test-gate quarantine suggest`: entries for the flakiest tests, to review and paste."""
    history, _ = _stored(file, branch, lane, window)
    ran = flips(history.ran, history.results)
    text = history_report.suggestions(
        flakiest(ran), len(history.window), today() + dt.timedelta(days=days)
    )
    with github.output_guard():
        print(text, end="")
    return EXIT_PASS
