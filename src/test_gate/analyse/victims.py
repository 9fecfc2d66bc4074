"""Which failures the diagnosis examines, in what order and under what budget: the failures
of the main run, then those only another order showed, each handed to the Diagnoser; a hang
the run was stopped in; and the tests whose outcome changed with the order. Pure but for the
clock that keeps the budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from test_gate.analyse import causes
from test_gate.analyse.diagnose import Diagnoser
from test_gate.analyse.findings import (
    BROKEN,
    FAILING,
    UNCONFIRMED,
    BudgetSpent,
    Diagnosis,
    Examined,
    OrderChange,
    OrderedRun,
)
from test_gate.read.records import Outcome, TestRecord


def _before(record: TestRecord, ordered: OrderedRun) -> list[str]:
    """The tests that ran before it in its process (its pytest-xdist worker's)."""
    ids = [t.nodeid for t in ordered.run.tests if t.worker == record.worker]
    return ids[: ids.index(record.nodeid)]


def _failing(record: TestRecord) -> bool:
    return record.outcome in (Outcome.FAILED, Outcome.ERROR)


def order_changes(runs: Sequence[OrderedRun]) -> list[OrderChange]:
    """Tests whose outcome changed with the order: passed in one and failed, or was skipped,
    in another (a flaky pass counts as passed; failed and error are one kind)."""
    table: dict[str, list[tuple[int, str]]] = {}
    for ordered in runs:
        for record in ordered.run.tests:
            table.setdefault(record.nodeid, []).append((ordered.seed, record.outcome.value))
    changes = []
    for nodeid, outcomes in table.items():
        kinds = {"fail" if o in FAILING else o for _, o in outcomes}
        if len(kinds) > 1:
            changes.append(OrderChange(nodeid, tuple(outcomes)))
    return changes


def diagnose_hang(
    run: OrderedRun, victim: str, diagnoser: Diagnoser, *, budget_seconds: float
) -> Diagnosis:
    """The test a stopped run hung in: does it hang alone, or only after other tests (which
    ones)? The tests that ended before it, in the run's order, are the candidates."""
    started = time.monotonic()
    before = [t.nodeid for t in run.run.tests if t.nodeid != victim and not t.worker]
    record = TestRecord(victim, victim.split("::", 1)[0], None, (), len(before))
    hanging = replace(diagnoser, hang=True, changes=run.run.state_changes)
    try:
        item: Examined | None = replace(hanging.examine(record, before, run.seed), hang=True)
    except BudgetSpent:
        item = None
    spent = f"the diagnosis time budget ({budget_seconds:g} s) was spent"
    return Diagnosis(
        examined=(item,) if item else (),
        not_examined=() if item else ((victim, spent),),
        runs=hanging.prober.runs,
        seconds=round(time.monotonic() - started, 3),
        seeds=(run.seed,),
    )


def masked(item: Examined) -> Examined:
    """A flaky test's examination. Order-dependent: masked by its rerun. Failing alone too:
    flaky by itself (warm-up, timing), not a victim of another test."""
    if item.category == BROKEN:
        return replace(
            item,
            category=UNCONFIRMED,
            note="it fails on its first run in a fresh process too, then passes on a rerun: "
            "flaky by itself (a warm-up or timing), not through another test",
            masked=True,
        )
    return replace(item, masked=True)


def diagnose(
    runs: Sequence[OrderedRun],
    diagnoser: Diagnoser,
    *,
    max_victims: int | None,
    budget_seconds: float,
) -> Diagnosis:
    """Examine the failures of the main run (runs[0]), then those only other orders showed."""
    started = time.monotonic()
    main = runs[0]
    flaky = tuple(t.nodeid for t in main.run.tests if t.flaky)
    todo: list[tuple[TestRecord, OrderedRun]] = [(t, main) for t in main.run.tests if _failing(t)]
    seen = {t.nodeid for t, _ in todo}
    for other in runs[1:]:
        for record in other.run.tests:
            if _failing(record) and record.nodeid not in seen:
                seen.add(record.nodeid)
                todo.append((record, other))
    not_examined = [
        (t.nodeid, "it never finished in the run")
        for t in main.run.tests
        if t.outcome is Outcome.INTERRUPTED
    ]
    examined: list[Examined] = []
    ahead = todo if max_victims is None else todo[:max_victims]
    diagnoser.plan([(t, _before(t, o), o.run.state_changes) for t, o in ahead])
    after_of: dict[str, list[str]] = {}
    records_of: dict[str, tuple[TestRecord, OrderedRun]] = {}
    budget_note = f"the diagnosis time budget ({budget_seconds:g} s) was spent"
    spent = False
    for index, (record, ordered) in enumerate(todo):
        if max_victims is not None and len(examined) >= max_victims:
            not_examined += [
                (t.nodeid, f"--max-victims {max_victims} reached") for t, _ in todo[index:]
            ]
            break
        # under pytest-xdist only the tests of the same worker (process) ran before it
        ids = [t.nodeid for t in ordered.run.tests if t.worker == record.worker]
        at = ids.index(record.nodeid)
        diagnoser.changes = ordered.run.state_changes
        try:
            item = diagnoser.examine(record, ids[:at], ordered.seed)
        except BudgetSpent:
            not_examined += [(t.nodeid, budget_note) for t, _ in todo[index:]]
            spent = True
            break
        examined.append(item)
        if item.category == BROKEN and causes.unreachable(record) is None:
            after_of[item.nodeid] = ids[at + 1 :]
            records_of[item.nodeid] = (record, ordered)
    # second pass, with what is left of the budget: does a "broken" test need a state-setter?
    for position, item in enumerate(examined):
        after = after_of.get(item.nodeid)
        if spent or not after:
            continue
        record, ordered = records_of[item.nodeid]
        diagnoser.changes = ordered.run.state_changes
        try:
            examined[position] = diagnoser.find_setter(item, after, record)
        except BudgetSpent:
            spent = True
    # last, with what is left: a flaky test may be order-dependent behind its rerun (the
    # rerun in the same process cured it; the next run in this order fails it again)
    for index, record in enumerate(flaky_records := [t for t in main.run.tests if t.flaky]):
        rest = flaky_records[index:]
        if spent or (max_victims is not None and len(examined) >= max_victims):
            why = budget_note if spent else f"--max-victims {max_victims} reached"
            not_examined += [(t.nodeid, f"{why} (flaky)") for t in rest]
            break
        ids = [t.nodeid for t in main.run.tests if t.worker == record.worker]
        diagnoser.changes = main.run.state_changes
        try:
            item = diagnoser.examine(record, ids[: ids.index(record.nodeid)], main.seed, flaky=True)
        except BudgetSpent:
            not_examined += [(t.nodeid, f"{budget_note} (flaky)") for t in rest]
            spent = True
            break
        examined.append(masked(item))
    notes = []
    if spent and any(item.nodeid in after_of for item in examined):
        notes.append(
            f"{budget_note} before every test that fails alone was checked for a state-setter"
        )
    return Diagnosis(
        examined=tuple(examined),
        flaky=flaky,
        not_examined=tuple(not_examined),
        runs=max(diagnoser.prober.runs, diagnoser.prober.started),
        seconds=round(time.monotonic() - started, 3),
        order_sensitive=tuple(order_changes(runs)) if len(runs) > 1 else (),
        seeds=tuple(r.seed for r in runs),
        notes=tuple(notes),
    )
