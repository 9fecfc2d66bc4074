"""The pipelines that start the test interpreter: `test-gate run` (pytest, other orders and
the diagnosis, then the verdict), `ignored` and `install-plugins`. They live apart from
`pipeline.py` so that `gate` and `merge`, which only read files, never import them."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, replace
from pathlib import Path

from pytest_test_gate.protocol import __version__ as PLUGIN_VERSION

from test_gate.across_runs import look_back, record
from test_gate.analyse.cell import default_cell, job_name
from test_gate.analyse.result import (
    analyse,
    check_seed,
    check_shard,
    setting_notices,
    with_root_cause,
)
from test_gate.analyse.verdict import Policy
from test_gate.pipeline import (
    EXIT_FAIL,
    EXIT_PASS,
    conclude,
    dashboard_after,
    output_files,
    runner_os,
)
from test_gate.publish import github
from test_gate.publish.publisher import write_file
from test_gate.read import attribution
from test_gate.read.files import gc_paused
from test_gate.read.pytest_output import name_the_stop, root_causes, stopped_at
from test_gate.read.records import Outcome, RunData, Session, files_ignored
from test_gate.read.report import read_unrun
from test_gate.read.run_files import read_run_files
from test_gate.render import terminal, unrun
from test_gate.render.result_json import ignored_entry
from test_gate.run import extra_runs
from test_gate.run.cancel import Cancelled, let_go
from test_gate.run.collect import collect
from test_gate.run.interpreter import check_plugins
from test_gate.run.pytest_command import Asked, reproduce_command
from test_gate.run.pytest_process import PytestRun, draw_seed, run_pytest, shared_seed
from test_gate.run.scratch import work_dir
from test_gate.settings import AuditSettings, RunSettings


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
            # a report no one keeps (the scratch folder's, outside GitHub Actions) is not
            # saved: its digest is all the gate reads of it
            keep_report=settings.report_file is not None or settings.outputs.github,
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
        # a run that crashed before the record said what ran it: the interpreter test-gate
        # checked, on this machine
        seen = {"python": version, "os": platform.system(), **dict(records.environment)}
        cell = settings.cell or default_cell(seen, runner_os())
        lane = job_name(cell, records.shard.label if records.shard else asked.shard)
        records, looked, recording = look_back(
            records, found, settings.history, lane, settings.path
        )
        result = analyse(
            records,
            policy,
            output_files(
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
                *records.watch_notes,
                *_signal_notices(),
            ),
            cell=cell,
            shard_asked=asked.shard,
            history=looked,
        )
        result = record(result, recording)
        dashboard_after(settings.history)
        print(terminal.render(result), end="", flush=True)
    return conclude(result, settings.outputs, settings.fail_on_gate, scratch)


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
        began=done.record_file.is_file(),
        at=stopped_at(done.stacks, records.root),
    )
    if not causes:  # pytest stopped the session itself (-x, pytest.exit, an interrupt)
        records = replace(records, problems=name_the_stop(records.problems, done.tail, running))
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


def _signal_notices() -> tuple[str, ...]:
    """Signals that would have ended test-gate without a verdict, and mean nothing to it."""
    return tuple(
        f"test-gate received {name} during the run and went on: it uses no such signal (a "
        "test, or a process one started, may have sent it to its parent)"
        for name in let_go()
    )


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


def install(python: str, source: str | None, print_only: bool, verbose: bool = False) -> int:
    """`test-gate install-plugins`."""
    from test_gate.run.plugins import PLUGINS_FILE, install_plugins  # packaging: only here

    if print_only:
        print(PLUGINS_FILE.read_text(encoding="utf-8"), end="")
        return EXIT_PASS
    return EXIT_PASS if install_plugins(python, source, verbose) == 0 else EXIT_FAIL
