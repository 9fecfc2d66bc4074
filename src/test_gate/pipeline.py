"""The pipelines, from validated settings to an exit code: read -> analyse -> render ->
publish, for the commands that judge files (`gate`, `merge`), and the ending every pipeline
shares. `run_pipeline.py` puts `run` together the same way, with pytest first, and
`history_pipeline.py` the history commands: each command imports only what it uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from test_gate.across_runs import look_back, record
from test_gate.analyse.cell import default_cell
from test_gate.analyse.result import (
    Files,
    GateResult,
    analyse,
)
from test_gate.analyse.verdict import Verdict
from test_gate.publish import github
from test_gate.publish.publisher import publish
from test_gate.read import attribution
from test_gate.read.files import gc_paused
from test_gate.read.records import RunData
from test_gate.read.report import (
    ReportError,
    load_json,
    read_report,
)
from test_gate.read.report import merge as merge_reports
from test_gate.render import terminal
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
        # on a pull request, annotations go first to the files it changes (git asks)
        from test_gate.read.identity import changed_files

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
        notices=records.watch_notes,
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
    from test_gate.analyse.merge import Expected, merge_jobs  # only a merge reads results
    from test_gate.read.results import read_results, result_files

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
        notices=records.watch_notes,
        merge=facts,
        history=looked,
    )
    result = record(result, recording)
    dashboard_after(settings.history)
    with github.output_guard(settings.outputs.github):
        print(terminal.render(result), end="", flush=True)
    return conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def dashboard_after(history: HistorySettings) -> None:
    """--dashboard: the page, written once the run is recorded; a store that cannot be read
    is a notice, never a failure of the gate. (The page's modules are imported only then.)"""
    source = history.source
    if history.dashboard is None or source is None:
        return
    from test_gate.history_pipeline import write_dashboard

    try:
        write_dashboard(str(source), history.dashboard, history.window, history.quarantine)
    except (UsageError, OSError) as exc:
        print(f"test-gate: the dashboard was not written: {exc}", flush=True)
