"""The pipelines, from validated settings to an exit code: run pytest -> read -> analyse ->
render -> publish. This is the one place the stages are put together."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from pytest_test_gate.protocol import __version__ as PLUGIN_VERSION

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
    check_seed,
    check_shard,
    setting_notices,
    with_root_cause,
)
from test_gate.analyse.verdict import Policy, Verdict
from test_gate.publish import github
from test_gate.publish.publisher import publish, write_file
from test_gate.read import attribution
from test_gate.read.files import gc_paused
from test_gate.read.history import (
    History,
    HistoryUnusable,
    Lane,
    latest_lane,
    load_history,
)
from test_gate.read.pytest_output import root_causes
from test_gate.read.records import Outcome, RunData, Session, files_ignored
from test_gate.read.report import (
    ReportError,
    load_json,
    read_report,
    read_run_files,
    read_unrun,
)
from test_gate.read.report import merge as merge_reports
from test_gate.read.results import read_result, result_files
from test_gate.render import history as history_view
from test_gate.render import terminal, unrun
from test_gate.render.result_json import ignored_entry
from test_gate.run import extra_runs
from test_gate.run.collect import collect
from test_gate.run.interpreter import check_plugins
from test_gate.run.plugins import PLUGINS_FILE, install_plugins
from test_gate.run.process import Cancelled
from test_gate.run.pytest_command import Asked, reproduce_command
from test_gate.run.pytest_process import PytestRun, draw_seed, run_pytest, shared_seed
from test_gate.run.scratch import clean_up, work_dir
from test_gate.settings import (
    AuditSettings,
    GateSettings,
    MergeSettings,
    Outputs,
    RunSettings,
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


def run(settings: RunSettings) -> int:
    """`test-gate run`: pytest, the report, other orders and the diagnosis, the verdict.
    Every run ends with a verdict: a time limit or a cancelled job (the command line turns
    SIGTERM and SIGINT into `Cancelled`) stops pytest, and what ran until then is judged and
    published."""
    # the per-test limit needs pytest-timeout: asked for, it must be there
    extra = ("pytest_timeout",) if settings.test_timeout is not None else ()
    version = check_plugins(settings.python, settings.path, PLUGIN_VERSION, extra)
    seed, seed_notices = _seed(settings)
    asked = Asked(
        seed,
        settings.reruns,
        settings.bucket,
        settings.test_timeout,
        shard="/".join(map(str, settings.shard)) if settings.shard else "",
        durations=_relative(settings.durations_from, settings.path),
    )
    scratch = work_dir()
    report_file = settings.report_file or scratch / "report.json"
    part = f", shard {asked.shard}" if asked.shard else ""
    print(f"test-gate: seed {seed}, reruns {settings.reruns}{part}, in {settings.path}", flush=True)
    # pytest's output and ours stay inert as workflow commands whenever a runner reads them
    with github.output_guard(settings.outputs.github):
        done = run_pytest(
            path=settings.path,
            python=settings.python,
            user_args=settings.pytest_args,
            asked=asked,
            report_file=report_file,
            work_dir=scratch,
            timeout=settings.timeout,
        )
        records = _read_main_run(done, settings, f"{settings.python} (Python {version})")
        policy, shard_notices = _shard_policy(records, settings.policy)
        command = reproduce_command(settings.path, settings.pytest_args, asked, records.choices)
        found, reproduce = None, {seed: command}
        if done.stopped == "timeout" and records.running:
            try:
                found = extra_runs.after_a_hang(
                    settings.diagnose, settings, records, asked, records.running[0], scratch
                )
            except Cancelled as cancelled:
                records = with_root_cause(
                    records, f"the run was cancelled ({cancelled.name}) during the diagnosis"
                )
        elif not done.stopped:
            try:
                found, reproduce = extra_runs.after_main_run(
                    settings.diagnose,
                    settings,
                    records,
                    asked,
                    command,
                    scratch,
                    main_seconds=done.duration,
                )
            except Cancelled as cancelled:
                records = with_root_cause(
                    records,
                    f"the run was cancelled ({cancelled.name}) after the main run, during "
                    "the other orders or the diagnosis, which are missing",
                )
        cell = settings.cell or default_cell(dict(records.environment), _runner_os())
        lane = f"{cell} [{records.shard.label}]" if records.shard else cell
        looked, recording = look_back(records, found, settings.history, lane, settings.path)
        result = analyse(
            records,
            policy,
            _files(
                settings.outputs.result_file,
                settings.outputs.summary_file,
                scratch,
                report_file,
            ),
            seed=seed,
            command=command,
            diagnosis=found,
            reproduce=reproduce,
            path_prefix=github.workspace_prefix(records.root),
            notices=(
                *seed_notices,
                *shard_notices,
                *setting_notices(records.choices, asdict(asked)),
            ),
            cell=cell,
            history=looked,
        )
        result = record(result, recording)
        print(terminal.render(result), end="", flush=True)
    return _conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def _read_main_run(done: PytestRun, settings: RunSettings, python: str) -> RunData:
    """The record and the report, what the process showed of how it ended, where ignored
    files are ignored, and the seed."""
    with gc_paused():
        records = read_run_files(done.report_file, done.record_file, done.run_id)
    interrupted = [t.nodeid for t in records.tests if t.outcome is Outcome.INTERRUPTED]
    running = tuple(dict.fromkeys([*records.running, *interrupted]))
    causes = root_causes(
        exit_code=done.exit_code,
        stopped=done.stopped,
        seconds=done.duration,
        tail=done.tail,
        running=running,
        finished=records.finished,
        timeout=settings.timeout,
    )
    session = Session(
        root_causes=causes,
        stopped=bool(done.stopped),
        stacks=done.stacks,
        python=python,
        tests_summary=done.tests_summary,
        tests_outputs=done.tests_outputs,
        seconds=done.duration,
    )
    records = replace(records, exit_code=done.exit_code, session=session)
    records = check_shard(attribution.attribute(records), settings.shard)
    return check_seed(records, done.asked.seed)


def _seed(settings: RunSettings) -> tuple[int, tuple[str, ...]]:
    """The user's seed; for a shard without one, the seed every job of the workflow run
    shares, so the shards agree; else a fresh one."""
    if settings.seed is not None:
        return settings.seed, ()
    if settings.shard is None:
        return draw_seed(), ()
    shared = shared_seed(os.environ)
    if shared is not None:
        return shared, (f"seed {shared} comes from the workflow run's id, the same in every shard",)
    seed = draw_seed()
    return seed, (
        f"seed {seed} was drawn for this shard: give every shard of the suite --seed {seed}, "
        "or the merge finds that they disagree",
    )


def _shard_policy(run: RunData, policy: Policy) -> tuple[Policy, tuple[str, ...]]:
    """A shard that the split left empty (more shards than tests) has nothing to attempt,
    and that is no failure of its own: the merge judges the whole suite."""
    shard = run.shard
    if shard is None or shard.ids or shard.suite == 0 or policy.allow_no_tests:
        return policy, ()
    note = (
        f"shard {shard.label} got no tests: the suite has {shard.suite} test(s) for "
        f"{shard.total} shards"
    )
    return replace(policy, allow_no_tests=True), (note,)


def _relative(path: Path | None, base: Path) -> str:
    """A file pytest reads from `base` (where it runs), named as short as it can be."""
    if path is None:
        return ""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(base.resolve()))
    except ValueError:
        return str(resolved)


def _runner_os() -> str:
    return os.environ.get("RUNNER_OS", "") if github.in_actions() else ""


def _conclude(result: GateResult, outputs: Outputs, fail_on_gate: bool, scratch: Path) -> int:
    """Every output written, the scratch folder emptied, the exit code: how each pipeline
    that judged a run ends."""
    publish(result, outputs)
    clean_up(scratch, keep=_kept(result.files, outputs.github))
    return exit_code(result.verdict, fail_on_gate)


def _kept(files: Files, github_mode: bool) -> set[Path]:
    """What stays of the scratch folder: the result and the summary (their paths are printed),
    and in GitHub Actions the report too (a step output names it)."""
    return {files.result, files.summary, *([files.report] if github_mode and files.report else [])}


def _files(result: Path | None, summary: Path | None, scratch: Path, report: Path | None) -> Files:
    return Files(
        result=result or scratch / "result.json",
        summary=summary or scratch / "summary.md",
        report=report,
    )


def gate(settings: GateSettings) -> int:
    """`test-gate gate`: the verdict on reports pytest already wrote."""
    records = attribution.attribute(read_reports(settings.reports))
    scratch = work_dir()
    cell = settings.cell or default_cell(dict(records.environment), _runner_os())
    looked, recording = look_back(records, None, settings.history, cell, Path.cwd())
    result: GateResult = analyse(
        records,
        settings.policy,
        _files(
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
    with github.output_guard(settings.outputs.github):
        print(terminal.render(result), end="", flush=True)
    return _conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def merge(settings: MergeSettings) -> int:
    """`test-gate merge`: one verdict over the results of shards and matrix cells."""
    files, problems = result_files(settings.paths)
    jobs = []
    expected = Expected(shards=settings.expect_shards, cells=settings.expect_cells)
    with gc_paused():
        for path in files:
            try:
                jobs.append(read_result(path))
            except ReportError as exc:
                problems.append(str(exc))
        records, facts = merge_jobs(jobs, problems, expected)
    scratch = work_dir()
    looked, recording = look_back(records, None, settings.history, MERGE_LANE, Path.cwd())
    result = analyse(
        records,
        settings.policy,
        _files(settings.outputs.result_file, settings.outputs.summary_file, scratch, None),
        merge=facts,
        history=looked,
    )
    result = record(result, recording)
    with github.output_guard(settings.outputs.github):
        print(terminal.render(result), end="", flush=True)
    return _conclude(result, settings.outputs, settings.fail_on_gate, scratch)


def _stored(file: str, branch: str | None, lane: str | None, window: int) -> tuple[History, Lane]:
    """A history store as `test-gate history` reads it, and the lane read: the newest run's
    branch and lane unless named."""
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"FILE: {file!r} is not a file; give the history store (--history)")
    try:
        latest = latest_lane(path)
        if latest is None:
            raise UsageError(f"FILE: {file!r} holds no runs yet")
        chosen = Lane(branch or latest[0], None, lane or latest[1])
        return load_history(path, chosen, window, (), trend=window), chosen
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None


def show_history(
    file: str, branch: str | None, lane: str | None, window: int, as_json: bool
) -> int:
    """`test-gate history FILE`: the trend, the flakiest tests and the newest failures."""
    history, chosen = _stored(file, branch, lane, window)
    text = history_view.report(
        chosen.branch,
        chosen.lane,
        history.runs,
        flakiest(flips(history.ran, history.results)),
        failing_since(history.window, history.results),
        as_json,
    )
    with github.output_guard():  # test ids come from the project
        print(text, end="")
    return EXIT_PASS


def suggest_quarantine(
    file: str, branch: str | None, lane: str | None, window: int, days: int
) -> int:
    """`test-gate quarantine suggest`: entries for the flakiest tests, to review and paste."""
    history, _ = _stored(file, branch, lane, window)
    ran = flips(history.ran, history.results)
    text = history_view.suggestions(
        flakiest(ran), len(history.window), today() + dt.timedelta(days=days)
    )
    with github.output_guard():
        print(text, end="")
    return EXIT_PASS


def audit(settings: AuditSettings) -> int:
    """`test-gate ignored`: which test files never run, and why, without running a test."""
    section, output = collect(settings.path, settings.python, settings.pytest_args)
    if section is None:
        with github.output_guard():  # pytest's output, and paths, come from the project
            print(
                f"test-gate ignored: pytest could not collect the tests, so the list would be "
                f"incomplete: {output}"
            )
        return EXIT_FAIL
    records = attribution.attribute(read_unrun(section), attribution.Context.from_env())
    with github.output_guard():
        print(unrun.audit(records), end="")
    files = files_ignored(records.ignored)
    if settings.result_file is not None:
        data = {
            "ignored": [ignored_entry(i) for i in records.ignored],
            **unrun.result_extra(records),
        }
        write_file(settings.result_file, json.dumps(data, indent=2) + "\n")
    limit = settings.max_ignored
    if limit is not None and files > limit:
        print(
            f"test-gate ignored: {files} test file(s) are ignored, more than the allowed "
            f"{limit} (--max-ignored)"
        )
        return EXIT_FAIL
    return EXIT_PASS


def install(python: str, source: str | None, print_only: bool) -> int:
    """`test-gate install-plugins`."""
    if print_only:
        print(PLUGINS_FILE.read_text(encoding="utf-8"), end="")
        return EXIT_PASS
    return EXIT_PASS if install_plugins(python, source) == 0 else EXIT_FAIL
