"""Why did it fail? Flaky, order-dependent or broken; the polluter; the command that shows it.

Reruns happen in the same process, so they do not cure pollution: "failed every attempt" does
not mean broken. Each failing test is run alone in a fresh process. If it passes there, it is a
victim of a test that ran before it: the search (see `minimize`) finds the polluter(s) among the
tests that ran before it, in the run's order. If it fails alone too, it may still rely on state
another test leaves behind (a state-setter that ran *after* it in this order): the tests that ran
after it are tried before it, and if it passes then, the setter is searched the same way.
Otherwise it is broken. An answer counts only if it repeats: the victim is run alone once more
(a test that fails at random would otherwise get an innocent polluter named); a run that hangs
is stopped (the Prober's per-run limit) and said. The verdict is not touched: a victim failed
in CI and counts as failed.

The runs go through a `Probe` (the runner's prober does the I/O); the classification and the
planning here are plain code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from test_gate.analyse.findings import (
    BROKEN,
    FAILING,
    NEEDS_SETTER,
    ORDER_DEPENDENT,
    POLLUTED,
    UNCONFIRMED,
    Category,
    Examined,
    Probe,
    ProbeResult,
)
from test_gate.analyse.minimize import Finding, Search, find_culprits
from test_gate.analyse.suspects import (
    MENTIONED,
    Suspect,
    candidates,
    failure_text,
    left_by,
    suspects,
)
from test_gate.read.records import StateChange, TestRecord

# one polluter often breaks many tests: the polluter set found last is tried first (one run;
# a miss costs that run, so only one is tried)
KNOWN_TRIED = 1
# the tests that changed what the victim saw are tried one by one before any search, at most
# this many (each try is one run; a miss costs it)
DIRECT_TRIES = 2
GROUP_LIMIT = 8  # the changers of one suspect tried together, when none alone did it
FLAKY_NOTE = (
    "the outcome changes between identical runs (flaky): {what}; the search's answer is not trusted"
)


@dataclass
class Diagnoser:
    prober: Probe
    log: Callable[[str], None] = print
    known: list[tuple[str, ...]] = field(default_factory=list)  # polluter sets found so far
    hang: bool = False  # the victim hung: a run that hangs is its failure
    changes: Sequence[StateChange] = ()  # what each test of the run left changed
    source: Callable[[str], str] = lambda path: ""  # a test file's text (the names it uses)
    setters: list[tuple[str, ...]] = field(default_factory=list)  # setter sets found so far

    def plan(
        self, victims: Sequence[tuple[TestRecord, Sequence[str], Sequence[StateChange]]]
    ) -> None:
        """The runs the examinations of these victims will start with, run ahead, at once
        where the prober has the cores: each victim alone; then, for those that pass alone,
        the test that changed what it saw most likely, then the victim; then, where that
        failed it, the victim alone once more. `examine` asks for the same runs, in the same
        order, and gets these results."""
        self.prober.prefetch([([t.nodeid], True) for t, _, _ in victims])
        tries: list[tuple[Sequence[str], bool]] = []
        for test, before, changes in victims:
            alone = self.prober.peek([test.nodeid], True)
            if alone is None or self._fails(alone, test.nodeid) is not False or not before:
                continue
            found = self._suspects(test, before, changes)
            first = [c for c in candidates(found, 1) if c in set(before)]
            if first:
                tries.append(([*first, test.nodeid], True))
        self.prober.prefetch(tries)
        again = []
        for tests, _ in tries:
            result = self.prober.peek(tests, True)
            if result is not None and self._fails(result, tests[-1]):
                again.append(([tests[-1]], True))
        self.prober.prefetch(again)

    def _suspects(
        self, test: TestRecord, before: Sequence[str], changes: Sequence[StateChange]
    ) -> list[Suspect]:
        return suspects(
            before,
            changes,
            failure=failure_text(test.last.message, test.last.longrepr) if test.attempts else "",
            victim_source=self.source(test.path),
            worker=test.worker,
        )

    def _try(self, victim: str, culprits: Sequence[str], why: str) -> bool | None:
        """One run: these tests, then the victim (the printed form). Whether it failed."""
        result = self.prober.run([*culprits, victim], printed=True)
        failed = self._fails(result, victim)
        self.log(
            f"  run {self.prober.runs}: {_names(list(culprits))} ({why}), then the victim: "
            f"{'no result' if failed is None else 'fails' if failed else 'passes'}"
        )
        return failed

    def _suspected(
        self, victim: str, before: Sequence[str], found: Sequence[Suspect], tries: int
    ) -> tuple[str, ...]:
        """The tests that changed what the victim saw, tried first: each alone before the
        victim, then (when none does it alone) the changers of the likeliest suspect
        together, narrowed to the ones that are needed."""
        earlier = set(before)
        tried = [c for c in candidates(found, tries) if c in earlier]
        for culprit in tried:
            what = next(s.text for s in found if culprit in s.by)
            if self._try(victim, [culprit], f"it left {what}"):
                return (culprit,)
        # a suspect many tests changed (a flag every test class sets): its changers together
        # say nothing the bisection would not
        few = bool(found) and len(found[0].by) <= GROUP_LIMIT
        group = [t for t in before if t in set(found[0].by)] if few else []
        if len(group) < 2 or tries < DIRECT_TRIES:
            return ()
        if not self._try(victim, group, f"together they changed {found[0].key}"):
            return ()
        finding, problem = self._search(victim, group, want_failure=True)
        return () if problem else finding.culprits

    def _known_polluters(self, victim: str, before: Sequence[str]) -> tuple[str, ...]:
        """A polluter set found for another victim that also breaks this one: one run each,
        and that run is the printed command."""
        earlier = set(before)
        tried = 0
        for culprits in self.known:
            if tried >= KNOWN_TRIED:
                break
            if not set(culprits) <= earlier:
                continue
            tried += 1
            result = self.prober.run([*culprits, victim], printed=True)
            failed = self._fails(result, victim)
            self.log(
                f"  run {self.prober.runs}: {', '.join(culprits)} (polluting another test), "
                f"then the victim: {'fails' if failed else 'passes'}"
            )
            if failed:
                return culprits
        return ()

    def _fails(self, result: ProbeResult, victim: str) -> bool | None:
        if self.hang and result.timed_out:
            return True
        outcome = result.outcome(victim)
        if outcome is None:
            return None
        return outcome in FAILING

    def _search(
        self, victim: str, candidates: Sequence[str], want_failure: bool
    ) -> tuple[Finding, str | None]:
        """Drive one search. Returns the finding and, when a run did not run the victim,
        why (the search is then abandoned)."""
        search: Search = find_culprits(candidates)
        try:
            ask = next(search)
            while True:
                result = self.prober.run([*ask.tests, victim], printed=ask.final)
                failed = self._fails(result, victim)
                verb = "hangs" if self.hang else "fails"
                self.log(
                    f"  run {self.prober.runs}: {len(ask.tests)} test(s), then the victim: "
                    f"{'no result' if failed is None else verb if failed else 'passes'}"
                    f"{' (the printed command)' if ask.final else ''}"
                )
                if failed is None:
                    search.close()
                    return Finding((), 0), _no_result(result, ask.tests)
                ask = search.send(failed is want_failure)
        except StopIteration as stop:
            finding: Finding = stop.value
            return finding, None

    def examine(
        self, test: TestRecord, before: Sequence[str], seed: int, *, flaky: bool = False
    ) -> Examined:
        """`flaky`: it passed on a rerun in the same process; at most three runs (alone, one
        try, alone again) unless a search is worth its cost."""
        started, runs_before = time.monotonic(), self.prober.runs
        victim = test.nodeid

        def done(category: Category, **kwargs: object) -> Examined:
            return Examined(
                victim,
                category,
                runs=self.prober.runs - runs_before,
                seconds=round(time.monotonic() - started, 3),
                seed=seed,
                **kwargs,  # type: ignore[arg-type]
            )

        alone = self.prober.run([victim], printed=True)
        alone_cmd = self.prober.command([victim])
        failed_alone = self._fails(alone, victim)
        if failed_alone is None:
            return done(UNCONFIRMED, command=alone_cmd, note=_no_result(alone, ()))
        if failed_alone:
            self.log(
                f"test-gate: diagnosis: {victim}: run alone in a fresh process, it "
                f"{'hung' if self.hang else 'failed'}"
            )
            note = "it hangs alone too" if self.hang else alone.messages.get(victim, "")
            return done(BROKEN, command=alone_cmd, note=note)
        found = self._suspects(test, before, self.changes)
        shown = f"; it saw {found[0].text}" if found else ""
        self.log(
            f"test-gate: diagnosis: {victim}: run alone in a fresh process, it passed; "
            f"{len(before)} test(s) ran before it in the run{shown}"
        )
        if not before:
            return done(
                UNCONFIRMED,
                command=alone_cmd,
                note="it passes alone and no test ran before it: not order-dependent; "
                "likely flaky (timing, resources) or affected by something outside the tests",
            )
        # a polluter found for another victim is tried first when nothing is known of what
        # this one saw; otherwise the state's candidates come first (when that polluter
        # changed what it saw most likely, it is the first of them), then it
        culprits = () if found else self._known_polluters(victim, before)
        tried = self.prober.runs - runs_before - 1
        if not culprits and found:
            # state that many tests changed (a flag every test class sets) points less
            # surely at one of them: one try, then the search
            churn = len(found[0].by) > GROUP_LIMIT
            tries = 1 - tried if flaky else 1 if churn else DIRECT_TRIES
            culprits = self._suspected(victim, before, found, tries)
        if not culprits and found and not flaky:
            culprits = self._known_polluters(victim, before)
        if not culprits and flaky:
            return done(
                UNCONFIRMED,
                candidates=len(before),
                state=tuple(found[:3]),
                note="it passed on its rerun and passes alone, and "
                + (
                    "the test that changed what it saw does not make it fail"
                    if found
                    else "no earlier test left state changed that it could have seen"
                )
                + ": flaky by itself, not through another test",
            )
        if not culprits:
            finding, problem = self._search(victim, before, want_failure=True)
            if problem:
                return done(UNCONFIRMED, candidates=len(before), note=problem)
            if not finding.culprits:
                return done(
                    UNCONFIRMED,
                    candidates=len(before),
                    note="it passes alone, but the failure did not come back after the tests "
                    "that ran before it: " + (finding.note or "likely flaky"),
                )
            culprits = finding.culprits
        # a test that fails at random would pass one run alone and fail one confirmation by
        # chance: the answer counts only if the victim passes alone once more
        unstable = self._repeat_alone(victim, expect_failure=False)
        if unstable:
            return done(UNCONFIRMED, candidates=len(before), command=alone_cmd, note=unstable)
        if culprits not in self.known:
            self.known.insert(0, culprits)
        return done(
            ORDER_DEPENDENT,
            kind=POLLUTED,
            culprits=culprits,
            candidates=len(before),
            command=self.prober.command([*culprits, victim]),
            state=tuple(left_by(found, culprits)),
        )

    def _repeat_alone(self, victim: str, *, expect_failure: bool) -> str:
        """Run the victim alone once more; why the answer is not trusted, or ""."""
        result = self.prober.run([victim], printed=True)
        failed = self._fails(result, victim)
        self.log(
            f"  run {self.prober.runs}: the victim alone, once more: "
            f"{'no result' if failed is None else 'fails' if failed else 'passes'}"
        )
        if failed is None:
            return _no_result(result, ())
        if failed is expect_failure:
            return ""
        seen = (
            "failed alone, then passed alone"
            if expect_failure
            else ("passed alone, then failed alone")
        )
        return FLAKY_NOTE.format(what=seen)

    def _known_setters(self, victim: str, after: Sequence[str]) -> tuple[str, ...]:
        """A setter set found for another victim, tried first for this one (one run)."""
        later = set(after)
        for setters in self.setters[:KNOWN_TRIED]:
            if (
                set(setters) <= later
                and self._try(victim, setters, "a setter of another test") is False
            ):
                return setters
        return ()

    def _suspected_setters(
        self, victim: str, after: Sequence[str], found: Sequence[Suspect]
    ) -> tuple[str, ...]:
        """The tests after the victim that changed state it could need, tried first."""
        for setter in candidates(found, DIRECT_TRIES):
            what = next(s.text for s in found if setter in s.by)
            if self._try(victim, [setter], f"it left {what}") is False:
                return (setter,)
        return ()

    def find_setter(
        self, broken: Examined, after: Sequence[str], test: TestRecord | None = None
    ) -> Examined:
        """A test that fails alone may pass after some test(s) that set the state it needs:
        a setter found before is tried first, then the tests after it that changed state it
        could use, then all of them, searched."""
        started, runs_before = time.monotonic(), self.prober.runs
        victim = broken.nodeid
        found = suspects(
            after,
            self.changes,
            failure=failure_text(test.last.message, test.last.longrepr)
            if test and test.attempts
            else "",
            victim_source=self.source(test.path) if test else "",
            worker=test.worker if test else "",
        )
        # most tests that fail alone are broken: a direct try before the run that shows it
        # passes at all is worth it only when its failure names what a later test changed
        named = [s for s in found if s.rank == MENTIONED]
        setters = self._known_setters(victim, after) or self._suspected_setters(
            victim, after, named
        )
        if not setters:
            result = self.prober.run([*after, victim])
            if self._fails(result, victim) is not False:
                spent = self.prober.runs - runs_before
                return _add_cost(broken, spent, time.monotonic() - started, len(after))
            self.log(
                f"test-gate: diagnosis: {victim} fails alone but passes after the {len(after)} "
                "test(s) that ran after it; searching for the state-setter"
            )
            setters = self._suspected_setters(
                victim, after, [s for s in found if s.rank != MENTIONED]
            )
        if not setters:
            finding, problem = self._search(victim, after, want_failure=False)
            cost = (self.prober.runs - runs_before, time.monotonic() - started)
            if problem or not finding.culprits:
                note = problem or finding.note or "the passing order could not be narrowed"
                return _add_cost(broken, *cost, len(after), UNCONFIRMED, note)
            setters = finding.culprits
        unstable = self._repeat_alone(victim, expect_failure=True)
        cost = (self.prober.runs - runs_before, time.monotonic() - started)
        if unstable:
            return _add_cost(broken, *cost, len(after), UNCONFIRMED, unstable)
        if setters not in self.setters:
            self.setters.insert(0, setters)
        return Examined(
            victim,
            ORDER_DEPENDENT,
            kind=NEEDS_SETTER,
            culprits=setters,
            candidates=len(after),
            runs=broken.runs + cost[0],
            seconds=round(broken.seconds + cost[1], 3),
            command=broken.command,
            passing_command=self.prober.command([*setters, victim]),
            seed=broken.seed,
            state=tuple(left_by(found, setters)),
        )


def _add_cost(
    item: Examined,
    runs: int,
    seconds: float,
    candidates: int,
    category: Category | None = None,
    note: str | None = None,
) -> Examined:
    return Examined(
        item.nodeid,
        category or item.category,
        item.kind,
        item.culprits,
        candidates,
        item.runs + runs,
        round(item.seconds + seconds, 3),
        item.command,
        item.passing_command,
        item.seed,
        item.note if note is None else note,
    )


def _no_result(result: ProbeResult, before: Sequence[str]) -> str:
    if result.timed_out:
        where = "when run alone" if not before else f"when run after {_names(before)}"
        return f"it hangs {where}: no result within {result.seconds:.0f} s, the run was stopped"
    lines = result.output_tail.splitlines()
    errors = [ln for ln in lines if "error" in ln.lower()]
    last = (errors or lines or [""])[-1].strip()
    return (
        f"the test did not run in a diagnosis run (pytest exit code {result.exit_code}"
        + (f": {last}" if last else "")
        + ")"
    )


def _names(tests: Sequence[str]) -> str:
    shown = ", ".join(tests[:3])
    return shown + (f" and {len(tests) - 3} more test(s)" if len(tests) > 3 else "")
