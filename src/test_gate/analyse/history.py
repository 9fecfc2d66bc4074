"""What the past and the quarantine add to a verdict. Pure: the history as read, the
quarantine as parsed and this run's records in; the classes of the failures, the flaky rate,
the trend and the quarantine's findings out, and the `Gating` that `decide` applies.

- A failure is *known* when it also failed the last time it ran on this branch, or the last
  time it ran on the base branch; *flaky-known* when it was flaky in the window there; *new*
  otherwise (it passed there, or it never ran there). Only code the change under test did not
  write is evidence (`Evidence`): a run is never its own evidence through a re-run of its
  commit, and a pull request's own runs count only at commits its base already holds.
- The flaky rate: tests flaky at least once in the window (this run and the runs before it
  in the same lane of the branch) over the tests that ran in it. A test is flaky in a run when
  it passed on a rerun, or the diagnosis found it flaky.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Literal

from test_gate.analyse.findings import Diagnosis
from test_gate.analyse.stability import Stable, stable, stable_reasons
from test_gate.analyse.verdict import Gating, count, format_percent, format_threshold, pass_rate
from test_gate.read.history import History, Key, PastResult, PastRun
from test_gate.read.quarantine import Entry, Quarantine
from test_gate.read.records import RunData, TestRecord

FailureClass = Literal["new", "known", "flaky-known", "quarantined"]
FAILING = frozenset({"failed", "error", "interrupted"})
FAILED = frozenset({"failed", "error"})
RAN = FAILING | {"passed"}
RANK: dict[FailureClass, int] = {"new": 0, "flaky-known": 1, "known": 2, "quarantined": 3}
TREND = 10  # runs in the trend table, this one included
FLAKIEST = 10
RELEASE_RUNS = 5  # a quarantined test passes this many runs in a row (or the whole window)
BROAD_TESTS = 20  # an entry matching more tests than this is broad,
BROAD_SHARE = Fraction(5, 100)  # or more than this share of the run's tests (2 at least)


def key(test: TestRecord) -> Key:
    return (test.cell, test.nodeid)


@dataclass(frozen=True)
class TestFlips:
    """How unstable one test was over the window."""

    key: Key
    runs: int  # runs it ran in (passed or failed)
    flaky: int  # runs it was flaky in
    flips: int  # changes between passing and failing from one run to the next

    @property
    def flip_rate(self) -> Fraction | None:
        return Fraction(self.flips * 100, self.runs - 1) if self.runs > 1 else None


@dataclass(frozen=True)
class Quarantined:
    nodeid: str
    cell: str
    outcome: str
    entry: Entry
    expired: bool  # its entry expired: its failure counts again


@dataclass(frozen=True)
class Broad:
    """A quarantine entry that matches a large part of the suite: a glob such as `*` would
    excuse every failure, so it is shown as loudly as a warning."""

    entry: Entry
    matched: int
    tests: int  # of the run


def is_broad(matched: int, tests: int) -> bool:
    return matched > BROAD_TESTS or (matched >= 2 and matched > BROAD_SHARE * tests)


@dataclass(frozen=True)
class Release:
    """A quarantined test that passed in every run of the window: the entry can go."""

    entry: Entry
    nodeid: str
    runs: int


@dataclass(frozen=True)
class HistoryFacts:
    """What the renderers show of the past and of the quarantine."""

    path: str = ""  # "" when no history was asked for (a quarantine alone)
    branch: str = ""
    base: str | None = None
    lane: str = ""
    classes: Mapping[Key, FailureClass] = field(default_factory=dict)
    window: int = 1  # runs in the window, this one included
    ran: int = 0  # tests that ran in the window
    flaky_tests: int = 0  # of those, flaky at least once
    max_flaky_rate: Decimal | None = None
    flakiest: tuple[TestFlips, ...] = ()
    trend: tuple[PastRun, ...] = ()  # the runs before this one, oldest first
    quarantine_file: str = ""
    quarantined: tuple[Quarantined, ...] = ()
    expired: tuple[Entry, ...] = ()
    unmatched: tuple[Entry, ...] = ()
    release: tuple[Release, ...] = ()
    broad: tuple[Broad, ...] = ()
    max_quarantined: int | None = None
    notices: tuple[str, ...] = ()  # the history could not be used, was made, was recorded
    fail_on: Literal["all", "new"] = "all"
    time: str = ""  # this run's, as the store keeps it
    commit: str = ""
    stable: Stable | None = None  # with --require-stable
    pull_request_flaky: int = 0  # of `flaky_tests`, those flaky only in pull requests into it

    @property
    def flaky_rate(self) -> Fraction | None:
        return Fraction(self.flaky_tests * 100, self.ran) if self.ran else None

    def count(self, kind: FailureClass) -> int:
        return sum(1 for c in self.classes.values() if c == kind)


@dataclass(frozen=True)
class HistoryPolicy:
    fail_on: Literal["all", "new"] = "all"
    max_flaky_rate: Decimal | None = None
    window: int = 20
    max_quarantined: int | None = None  # tests of a run the quarantine may match
    require_stable: int | None = None  # the last N runs, this one included, each met:
    threshold: Decimal = Decimal(98)


def flaky_now(run: RunData, diagnosis: Diagnosis | None) -> frozenset[Key]:
    """This run's flaky tests: passed on a rerun, or failed and passed again when the
    diagnosis ran them."""
    found = {key(t) for t in run.tests if t.flaky}
    if diagnosis is not None:
        by_id = {t.nodeid: t for t in run.tests}
        found.update(key(by_id[n]) for n in diagnosis.flaky if n in by_id)
    return frozenset(found)


def categories(run: RunData, diagnosis: Diagnosis | None) -> dict[Key, str]:
    """What the store keeps as each test's diagnosis category."""
    out: dict[Key, str] = {}
    if diagnosis is not None:
        by_id = {t.nodeid: t for t in run.tests}
        for examined in diagnosis.examined:
            if examined.nodeid in by_id:
                out[key(by_id[examined.nodeid])] = examined.category
    for flaky in flaky_now(run, diagnosis):
        out[flaky] = "flaky"
    return out


@dataclass(frozen=True)
class Evidence:
    """Which of this branch's own earlier runs may make a failure known or flaky-known. The
    base branch's runs always may: the change under test did not write them."""

    commit: str = ""  # this run's
    pull_request: bool = False
    in_base: frozenset[str] = frozenset()  # commits of this branch the base already holds

    def counts(self, commit: str) -> bool:
        """A pull request's own commits are the change under review: only those its base
        already holds count. On a branch, any other commit counts, but never this one (a
        re-run is not evidence of itself), and an unknown commit cannot be told apart."""
        if not commit or not self.commit:
            return False
        if self.pull_request:
            return commit in self.in_base
        return commit != self.commit


def _classify(
    test: Key, history: History, evidence: Evidence, commits: Mapping[int, str]
) -> FailureClass:
    here = next((o for c, o in history.ran_here.get(test, ()) if evidence.counts(c)), None)
    if here in FAILED or history.last_base.get(test) in FAILED:
        return "known"
    if test in history.base_flaky or any(
        r.flaky and evidence.counts(commits.get(r.run, "")) for r in history.results.get(test, ())
    ):
        return "flaky-known"
    return "new"


def flips(
    ran: Mapping[Key, int],
    results: Mapping[Key, Sequence[PastResult]],
    now: Mapping[Key, str] | None = None,
) -> list[TestFlips]:
    """Each test's runs, flaky runs and flips over the window (`ran`: the runs each test ran
    in; `results`: every row of the tests that did not always pass plainly) and this run
    (`now`: its outcome, or "flaky")."""
    now = now or {}
    out = []
    for test in set(ran) | set(results) | set(now):
        rows = results.get(test)
        if rows is None:  # passed plainly in every run of the window it ran in
            outcomes = [("passed", False)] * ran.get(test, 0)
        else:
            outcomes = [(r.outcome, r.flaky) for r in rows if r.outcome in RAN]
        if test in now and now[test] in RAN | {"flaky"}:
            outcomes.append(("passed", True) if now[test] == "flaky" else (now[test], False))
        if not outcomes:
            continue
        states = [o == "passed" for o, _ in outcomes]
        changes = sum(1 for a, b in pairwise(states) if a != b)
        out.append(TestFlips(test, len(outcomes), sum(1 for _, f in outcomes if f), changes))
    return out


def flakiest(ran: Iterable[TestFlips], limit: int = FLAKIEST) -> tuple[TestFlips, ...]:
    """The tests flaky most often, then those whose outcome flipped most often."""
    unstable = (f for f in ran if f.flaky or f.flips)
    return tuple(sorted(unstable, key=lambda f: (-f.flaky, -(f.flip_rate or 0), f.key))[:limit])


@dataclass(frozen=True)
class Failing:
    """A test failing in the newest run, and since when (within the window)."""

    key: Key
    since: PastRun
    runs: int  # failing runs in a row, the newest included


def failing_since(
    runs: Sequence[PastRun], results: Mapping[Key, Sequence[PastResult]]
) -> list[Failing]:
    """The newest run's failures, the longest-failing first."""
    if not runs:
        return []
    order = {r.id: i for i, r in enumerate(runs)}
    newest = runs[-1].id
    out = []
    for test, past in results.items():
        seen = [r for r in past if r.run in order]
        if not seen or seen[-1].run != newest or seen[-1].outcome not in FAILING:
            continue
        streak = 0
        for result in reversed(seen):
            if result.outcome not in FAILING:
                break
            streak += 1
        out.append(Failing(test, runs[order[seen[-streak].run]], streak))
    return sorted(out, key=lambda f: (-f.runs, f.key))


def broad_entries(found: Sequence[tuple[TestRecord, Entry]], tests: int) -> tuple[Broad, ...]:
    """The entries that match a large part of the run, the broadest first."""
    matched: dict[Entry, int] = {}
    for _, entry in found:
        matched[entry] = matched.get(entry, 0) + 1
    wide = [Broad(e, n, tests) for e, n in matched.items() if is_broad(n, tests)]
    return tuple(sorted(wide, key=lambda b: (-b.matched, b.entry.line)))


def _quarantine(
    tests: Sequence[TestRecord],
    quarantine: Quarantine,
    today: dt.date,
    history: History,
    window: Sequence[PastRun],
) -> tuple[list[Quarantined], list[Entry], list[Entry], list[Release], tuple[Broad, ...]]:
    found = [(t, e) for t in tests if (e := quarantine.entry_for(t.nodeid)) is not None]
    quarantined = [
        Quarantined(t.nodeid, t.cell, t.outcome.value, e, e.expired(today)) for t, e in found
    ]
    matched = {e for _, e in found}
    expired = [e for e in quarantine.entries if e.expired(today)]
    unmatched = [e for e in quarantine.entries if e not in matched]
    needed = min(RELEASE_RUNS, len(window) + 1)
    release = []
    for (test, _), item in zip(found, quarantined, strict=True):
        keyed = (item.cell, item.nodeid)
        if item.outcome != "passed" or item.expired or keyed in history.results:
            continue  # a test with a failing or flaky run in the window stays
        runs = history.ran.get(keyed, 0) + 1
        if not test.flaky and runs >= needed > 1:
            release.append(Release(item.entry, item.nodeid, runs))
    return quarantined, expired, unmatched, release, broad_entries(found, len(tests))


def _stable(
    run: RunData, history: History, policy: HistoryPolicy, excused: frozenset[Key]
) -> Stable | None:
    if policy.require_stable is None:
        return None
    counts = count(run)
    left_out = sum(1 for t in run.tests if key(t) in excused)
    now = pass_rate(counts, left_out)
    return stable(history.window, now, policy.require_stable, policy.threshold)


def assess(
    run: RunData,
    diagnosis: Diagnosis | None,
    history: History | None,
    quarantine: Quarantine | None,
    *,
    today: dt.date,
    policy: HistoryPolicy,
    lane: tuple[str, str | None, str] = ("", None, ""),
    notices: Iterable[str] = (),
    when: tuple[str, str] = ("", ""),
    evidence: Evidence | None = None,
) -> tuple[HistoryFacts, Gating]:
    """The facts the summary shows, and the gating the verdict applies. `lane`: the branch,
    the base branch and the lane; `when`: this run's time and commit; `evidence`: which of
    this branch's runs may make a failure known (by default, those at another commit)."""
    history = history or History(path="")
    evidence = evidence or Evidence(commit=when[1])
    commits = {r.id: r.commit for r in history.window}
    failing = [t for t in run.tests if t.outcome.value in FAILING]
    window = history.window
    now_flaky = flaky_now(run, diagnosis)
    now = {key(t): ("flaky" if key(t) in now_flaky else t.outcome.value) for t in run.tests}
    ran = flips(history.ran, history.results, now)
    flaky_here = {f.key for f in ran if f.flaky}
    # a test that failed and then passed on one commit is flaky wherever it ran: pull
    # requests into this branch count, when the store holds them
    from_pull_requests = (history.pull_request_flaky & {f.key for f in ran}) - flaky_here
    flaky_tests = len(flaky_here) + len(from_pull_requests)
    quarantined: list[Quarantined] = []
    expired: list[Entry] = []
    unmatched: list[Entry] = []
    release: list[Release] = []
    broad: tuple[Broad, ...] = ()
    if quarantine is not None:
        quarantined, expired, unmatched, release, broad = _quarantine(
            run.tests, quarantine, today, history, window
        )
    excused = frozenset(
        (q.cell, q.nodeid) for q in quarantined if q.outcome in FAILING and not q.expired
    )
    classes: dict[Key, FailureClass] = {
        key(t): "quarantined"
        if key(t) in excused
        else _classify(key(t), history, evidence, commits)
        for t in failing
    }
    facts = HistoryFacts(
        path=history.path,
        branch=lane[0],
        base=lane[1],
        lane=lane[2],
        classes=classes,
        window=len(window) + 1,
        ran=len(ran),
        flaky_tests=flaky_tests,
        max_flaky_rate=policy.max_flaky_rate,
        flakiest=flakiest(ran),
        trend=tuple(history.runs[-(TREND - 1) :]),
        quarantine_file=quarantine.path if quarantine else "",
        quarantined=tuple(quarantined),
        expired=tuple(expired),
        unmatched=tuple(unmatched),
        release=tuple(release),
        broad=broad,
        max_quarantined=policy.max_quarantined,
        notices=tuple(notices),
        fail_on=policy.fail_on,
        time=when[0],
        commit=when[1],
        stable=_stable(run, history, policy, excused),
        pull_request_flaky=len(from_pull_requests),
    )
    reasons = [
        f"quarantine entry {e.id!r} ({facts.quarantine_file}:{e.line}, owner {e.owner}) expired "
        f"on {e.expires.isoformat()}: fix the test, or extend the entry"
        for e in expired
    ]
    cap = policy.max_quarantined
    if cap is not None and len(quarantined) > cap:
        reasons.append(
            f"{len(quarantined)} test(s) of this run are quarantined, more than "
            f"--max-quarantined {cap} allows ({facts.quarantine_file})"
        )
    rate = facts.flaky_rate
    limit = policy.max_flaky_rate
    if limit is not None and rate is not None and rate > Fraction(limit):
        reasons.append(
            f"flaky rate {format_percent(rate)}% over the last {facts.window} run(s) is above "
            f"--max-flaky-rate {format_threshold(limit)}% ({flaky_tests} of {len(ran)} tests "
            "were flaky at least once)"
        )
    if facts.stable is not None and not facts.stable.met:
        reasons.extend(stable_reasons(facts.stable))
    gating = Gating(
        excused=excused,
        known=frozenset(k for k, c in classes.items() if c in ("known", "flaky-known")),
        rank={k: RANK[c] for k, c in classes.items()},
        reasons=tuple(reasons),
        fail_on=policy.fail_on,
    )
    return facts, gating
