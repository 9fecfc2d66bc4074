"""`test-gate run --diagnose/--orders`: the extra runs after the main one."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from test_gate.analyse.findings import Diagnosis, OrderedRun
from test_gate.read.files import read_text
from test_gate.read.records import OptionKinds, Outcome, RunData
from test_gate.read.run_files import read_run_files
from test_gate.run.cancel import Cancelled
from test_gate.run.pytest_command import Asked, reproduce_command
from test_gate.run.pytest_process import run_pytest
from test_gate.settings import MAX_SEED, DiagnoseSettings, RunSettings


def order_seeds(seed: int, orders: int) -> list[int]:
    """The main seed, then the next ones: reproducible from the main seed alone."""
    return [(seed + k) % (MAX_SEED + 1) for k in range(orders)]


# one diagnosis run at most: a hanging run costs this, and the next test is examined
MIN_RUN_CAP = 30.0
RUN_CAP_FACTOR = 3.0


def run_cap(main_seconds: float, budget: float) -> float:
    """The time limit of one extra run: max(30 s, 3x the main run); with a budget under
    two minutes, a quarter of it stands in for the 30 s so that one hang leaves time for the
    rest. The remaining budget bounds it further, run by run."""
    return max(min(MIN_RUN_CAP, budget / 4), RUN_CAP_FACTOR * main_seconds)


def other_orders(
    *,
    path: Path,
    python: str,
    user_args: tuple[str, ...],
    seeds: list[int],
    asked: Asked,
    work_dir: Path,
    budget: float = math.inf,
    cap: float = math.inf,
) -> tuple[list[OrderedRun], dict[int, str], list[str]]:
    """Run the suite once per extra seed, each run within `cap` seconds and all of them
    within `budget`. Returns the runs, their commands and problems (what was not run)."""
    from test_gate.run.prober import guard_args  # the diagnosis's own modules: when it runs

    deadline = time.monotonic() + budget
    runs: list[OrderedRun] = []
    commands: dict[int, str] = {}
    problems: list[str] = []
    # the main run's JUnit XML and coverage stay those of the main run
    guards = guard_args(python, path, work_dir)
    env = dict(os.environ, COVERAGE_FILE=str(work_dir / "orders.coverage"))
    for index, seed in enumerate(seeds):
        left = deadline - time.monotonic()
        if left <= 0:
            rest = ", ".join(str(s) for s in seeds[index:])
            problems.append(
                f"the orders with seed {rest} were not run: the time budget "
                f"({budget:g} s, --diagnose-timeout) was spent"
            )
            break
        print(f"test-gate: --orders: running the suite with seed {seed}", flush=True)
        report = work_dir / f"report-seed-{seed}.json"
        this = replace(asked, seed=seed)
        limit = min(cap, left)
        done = run_pytest(
            path=path,
            python=python,
            user_args=(*user_args, *guards),
            asked=this,
            report_file=report,
            work_dir=work_dir / f"seed-{seed}",
            env=env,
            timeout=None if math.isinf(limit) else limit,
            keep_report=False,  # read, never kept: its digest is all the gate reads
        )
        if done.stopped == "timeout":
            problems.append(
                f"the run with seed {seed} did not finish within {limit:.0f} s and was stopped "
                "(a test hangs in that order)"
            )
            continue
        if done.stopped:
            raise Cancelled(done.stopped)
        data = read_run_files(report, done.record_file, done.run_id)
        commands[seed] = reproduce_command(path, user_args, this, data.choices)
        if not data.tests and data.problems:  # neither the record nor the report was usable
            problems.append(f"the run with seed {seed} gave no usable report: {data.problems[0]}")
            continue
        runs.append(OrderedRun(data, seed))
    return runs, commands, problems


def wanted(settings: DiagnoseSettings, runs: list[OrderedRun]) -> bool:
    if settings.mode == "false":
        return False
    if settings.mode == "true" or len(runs) > 1:
        return True
    # a failed test, or a flaky one (it may be order-dependent behind its rerun)
    return any(
        t.outcome in (Outcome.FAILED, Outcome.ERROR) or t.flaky for r in runs for t in r.run.tests
    )


def after_main_run(
    settings: DiagnoseSettings,
    run_settings: RunSettings,
    run: RunData,
    asked: Asked,
    command: str,
    work_dir: Path,
    main_seconds: float = 0.0,
) -> tuple[Diagnosis | None, dict[int, str]]:
    """The other orders (--orders), then the diagnosis when wanted. Returns the diagnosis
    and the command that reproduces each order."""
    seed = asked.seed
    ordered = [OrderedRun(run, seed)]
    reproduce = {seed: command}
    problems: list[str] = []
    if settings.orders > 1:
        more, commands, problems = other_orders(
            path=run_settings.path,
            python=run_settings.python,
            user_args=run_settings.pytest_args,
            seeds=order_seeds(seed, settings.orders)[1:],
            asked=asked,
            work_dir=work_dir,
            budget=settings.timeout,
            cap=run_cap(main_seconds, settings.timeout),
        )
        ordered += more
        reproduce.update(commands)
        for problem in problems:
            print(f"test-gate: --orders: {problem}", flush=True)
    if not wanted(settings, ordered):
        if settings.orders == 1:
            return None, reproduce
        # --orders is reported on its own: the tests whose outcome changed with the order
        from test_gate.analyse.victims import order_changes

        only_orders = Diagnosis(
            order_sensitive=tuple(order_changes(ordered)) if len(ordered) > 1 else (),
            seeds=tuple(r.seed for r in ordered),
            ran=False,
            order_notes=tuple(problems),
        )
        return only_orders, reproduce
    diagnosis = run_diagnosis(
        settings,
        ordered,
        path=run_settings.path,
        python=run_settings.python,
        user_args=run_settings.pytest_args,
        root=run.root,
        work_dir=work_dir,
        run_timeout=run_cap(main_seconds, settings.timeout),
        kinds=run.option_kinds,
    )
    if problems:
        diagnosis = replace(diagnosis, order_notes=tuple(problems))
    return diagnosis, reproduce


def run_diagnosis(
    settings: DiagnoseSettings,
    runs: list[OrderedRun],
    *,
    path: Path,
    python: str,
    user_args: tuple[str, ...],
    root: str,
    work_dir: Path,
    run_timeout: float | None = None,
    kinds: OptionKinds | None = None,
) -> Diagnosis:
    from test_gate.analyse.diagnose import Diagnoser
    from test_gate.analyse.victims import diagnose
    from test_gate.run.prober import Prober

    deadline = time.monotonic() + settings.timeout
    prober = Prober(
        path=path,
        python=python,
        user_args=user_args,
        root=root,
        work_dir=work_dir / "diagnosis",
        deadline=deadline,
        run_timeout=run_timeout,
        # `-n0` only where the tests ran under pytest-xdist (its config would spread them out)
        xdist=any(t.worker for ordered in runs for t in ordered.run.tests),
        kinds=kinds,
        workers=probe_workers(),
    )

    def log(line: str) -> None:
        print(line, file=sys.stdout, flush=True)

    print(
        f"test-gate: diagnosis: examining failures in fresh pytest processes "
        f"(budget {settings.timeout:g} s)",
        flush=True,
    )
    return diagnose(
        runs,
        Diagnoser(prober, log, source=test_source(root)),
        max_victims=settings.max_victims,
        budget_seconds=settings.timeout,
    )


MAX_WORKERS = 4  # diagnosis runs at once, at most (each is a pytest process of its own)


def probe_workers() -> int:
    """As many diagnosis runs at once as the machine has cores, up to MAX_WORKERS."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


# a probe that takes this much longer than the tests before the hang took in the main run
# hangs too
HANG_FACTOR = 2.0
MIN_HANG_CAP = 10.0


def after_a_hang(
    settings: DiagnoseSettings,
    run_settings: RunSettings,
    run: RunData,
    asked: Asked,
    victim: str,
    work_dir: Path,
) -> Diagnosis | None:
    """The run was stopped in `victim`: is the hang order-dependent? It is run alone, then
    after the tests that ended before it; each run that takes far longer than those tests
    took in the main run counts as a hang."""
    if settings.mode == "false":
        return None
    from test_gate.analyse.diagnose import Diagnoser
    from test_gate.analyse.victims import diagnose_hang
    from test_gate.run.prober import Prober

    seconds_before = sum(t.duration for t in run.tests if t.nodeid != victim)
    prober = Prober(
        path=run_settings.path,
        python=run_settings.python,
        user_args=run_settings.pytest_args,
        root=run.root,
        work_dir=work_dir / "diagnosis",
        deadline=time.monotonic() + settings.timeout,
        run_timeout=max(MIN_HANG_CAP, HANG_FACTOR * seconds_before + MIN_HANG_CAP),
        xdist=False,
        kinds=run.option_kinds,
    )
    print(
        f"test-gate: diagnosis: the run hung in {victim}; does it hang alone, or only after "
        f"other tests? (budget {settings.timeout:g} s)",
        flush=True,
    )
    ordered = OrderedRun(run, asked.seed)
    return diagnose_hang(
        ordered,
        victim,
        Diagnoser(prober, lambda line: print(line, flush=True), source=test_source(run.root)),
        budget_seconds=settings.timeout,
    )


def test_source(root: str) -> Callable[[str], str]:
    """A test file's text, by its path from pytest's rootdir ("" when it cannot be read):
    the names a victim uses rank what it could have tripped on."""

    def read(path: str) -> str:
        return read_text(Path(root) / path) or "" if root and path else ""

    return read
