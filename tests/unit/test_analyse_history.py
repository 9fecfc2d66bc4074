"""What the past and the quarantine add to a verdict: pure, on records made here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from conftest import gate_result

from test_gate.analyse.history import HistoryPolicy, assess, failing_since, flakiest, flips
from test_gate.analyse.verdict import Policy
from test_gate.read.history import History, PastResult, PastRun
from test_gate.read.quarantine import Entry, Quarantine
from test_gate.read.records import Attempt, Outcome, RunData, TestRecord
from test_gate.render import history as view
from test_gate.render import summary

TODAY = dt.date(2026, 11, 29)


def rec(name: str, *outcomes: Outcome) -> TestRecord:
    return TestRecord(
        f"t.py::{name}", "t.py", 1, tuple(Attempt(o) for o in outcomes or (Outcome.PASSED,)), 0
    )


def past(n: int, failed: int = 0, flaky: int = 0) -> PastRun:
    return PastRun(
        n,
        f"2026-11-{n:02d}T00:00:00+00:00",
        f"{n:040x}",
        "main",
        "pass",
        100.0,
        10,
        failed,
        flaky,
        10,
        2.0,
    )


def run_of(*tests: TestRecord) -> RunData:
    return RunData(
        tests=tests, exit_code=1 if any(t.outcome is Outcome.FAILED for t in tests) else 0
    )


F, P = Outcome.FAILED, Outcome.PASSED


def test_failures_are_new_known_or_flaky_known() -> None:
    history = History(
        "h.db",
        runs=(past(1), past(2)),
        window=(past(1), past(2)),
        ran={("", "t.py::fresh"): 1},
        results={
            ("", "t.py::again"): (PastResult(1, "passed", False), PastResult(2, "failed", False)),
            ("", "t.py::wobbly"): (PastResult(1, "passed", True), PastResult(2, "passed", False)),
        },
        ran_here={
            ("", "t.py::again"): ((f"{2:040x}", "failed"), (f"{1:040x}", "passed")),
            ("", "t.py::fresh"): ((f"{1:040x}", "passed"),),
            ("", "t.py::wobbly"): ((f"{2:040x}", "passed"), (f"{1:040x}", "passed")),
        },
        last_base={("", "t.py::base_broke"): "error"},
    )
    run = run_of(
        rec("fresh", F),
        rec("again", F),
        rec("wobbly", F),
        rec("base_broke", F),
        rec("never_seen", F),
        rec("fine"),
    )
    facts, gating = assess(
        run, None, history, None, today=TODAY, policy=HistoryPolicy("new"), when=("", "f" * 40)
    )
    assert {k[1]: c for k, c in facts.classes.items()} == {
        "t.py::fresh": "new",
        "t.py::again": "known",
        "t.py::wobbly": "flaky-known",
        "t.py::base_broke": "known",
        "t.py::never_seen": "new",
    }
    result = gate_result(run, Policy(), history=(facts, gating))
    # new failures first, in run order; the gate fails on the two new ones only
    assert [t.nodeid for t in result.verdict.failures][:2] == ["t.py::fresh", "t.py::never_seen"]
    assert result.verdict.reasons == (
        "2 new failure(s) (--fail-on new: failures that also failed before do not count): "
        "t.py::fresh, t.py::never_seen",
    )


def test_the_flaky_rate_counts_tests_flaky_once_in_the_window_this_run_included() -> None:
    # runs 2 and 3 before this one (a window of 3): a was flaky in run 1 only
    history = History(
        "h.db", window=(past(2), past(3)), ran={("", "t.py::a"): 1, ("", "t.py::b"): 1}
    )
    run = run_of(rec("a"), rec("b"), rec("c", F, P), rec("d"))
    policy = HistoryPolicy(max_flaky_rate=Decimal(40), window=3)
    facts, gating = assess(run, None, history, None, today=TODAY, policy=policy)
    assert (facts.flaky_tests, facts.ran, facts.window) == (1, 4, 3)  # c only
    assert gating.reasons == ()
    # runs 1 to 3 before this one (a window of 4): a's flaky run is in it
    history = History(
        "h.db",
        window=(past(1), past(2), past(3)),
        ran={("", "t.py::b"): 1},
        results={("", "t.py::a"): (PastResult(1, "passed", True), PastResult(3, "passed", False))},
    )
    policy = HistoryPolicy(max_flaky_rate=Decimal(40), window=4)
    facts, gating = assess(run, None, history, None, today=TODAY, policy=policy)
    assert facts.flaky_rate == 50
    assert gating.reasons[0].startswith("flaky rate 50.00% over the last 4 run(s) is above")


def test_flip_rate_and_the_newest_failures_since_when() -> None:
    runs = (past(1), past(2), past(3), past(4))
    results = {
        ("", "t.py::flips"): tuple(
            PastResult(n, o, False)
            for n, o in [(1, "passed"), (2, "failed"), (3, "passed"), (4, "failed")]
        ),
        ("", "t.py::broke"): tuple(
            PastResult(n, o, False)
            for n, o in [(1, "passed"), (2, "passed"), (3, "failed"), (4, "error")]
        ),
    }
    ranked = flakiest(flips({}, results))
    assert [(f.key[1], f.flips, f.flip_rate) for f in ranked] == [
        ("t.py::flips", 3, 100),
        ("t.py::broke", 1, Fraction(100, 3)),
    ]
    since = failing_since(runs, results)
    assert [(f.key[1], f.since.id, f.runs) for f in since] == [
        ("t.py::broke", 3, 2),
        ("t.py::flips", 4, 1),
    ]


def entry(test_id: str, expires: dt.date = dt.date(2027, 1, 1), line: int = 1) -> Entry:
    return Entry(test_id, "waits for a fix", "@team", expires, line)


def test_quarantine_excuses_failures_fails_on_expired_entries_and_proposes_releases() -> None:
    quarantine = Quarantine(
        "q.toml",
        (
            entry("t.py::broken"),
            entry("t.py::old", dt.date(2026, 11, 28), 7),
            entry("t.py::healed", line=13),
            entry("t.py::gone_*", line=19),
        ),
    )
    # healed passed plainly in both runs before this one
    history = History("h.db", window=(past(1), past(2)), ran={("", "t.py::healed"): 2})
    run = run_of(rec("broken", F), rec("old", F), rec("healed"), rec("ok"))
    facts, gating = assess(run, None, history, quarantine, today=TODAY, policy=HistoryPolicy())
    result = gate_result(run, Policy(threshold=Decimal(50)), history=(facts, gating))
    verdict = result.verdict
    assert verdict.excused == 1 and verdict.counts.failed == 2
    assert verdict.pass_rate == Fraction(200, 3)  # 2 of 3: broken is left out, old counts
    assert verdict.reasons == (
        "quarantine entry 't.py::old' (q.toml:7, owner @team) expired on 2026-11-28: fix the "
        "test, or extend the entry",
    )
    assert [e.id for e in facts.unmatched] == ["t.py::gone_*"]
    assert [(r.nodeid, r.runs) for r in facts.release] == [("t.py::healed", 3)]
    assert [t.nodeid for t in verdict.failures] == ["t.py::old", "t.py::broken"]
    page = summary.render(result)
    assert "Quarantine (3 tests)" in page and "remove its entry (line 13)" in page
    assert "matches no test of this run" in page


def test_hostile_names_are_escaped_and_the_chart_holds_numbers_only() -> None:
    hostile = "t.py::test_x[<img src=x>|`` ``\u202e]"
    history = History(
        "h.db",
        runs=(past(1), past(2)),
        window=(past(1), past(2)),
        results={("", hostile): (PastResult(1, "passed", True), PastResult(2, "failed", False))},
        ran_here={("", hostile): ((f"{2:040x}", "failed"),)},
    )
    quarantine = Quarantine("q.toml", (Entry(hostile, "<script>|x", "@a|b", TODAY, 1),))
    bad = TestRecord(hostile, "t.py", 1, (Attempt(F),), 0)
    run = run_of(bad)
    facts, gating = assess(run, None, history, quarantine, today=TODAY, policy=HistoryPolicy())
    facts = type(facts)(**{**facts.__dict__, "branch": "main<b>|", "lane": "py|3"})
    page = summary.render(gate_result(run, Policy(), history=(facts, gating)))
    assert "<script>" not in page and "&lt;script&gt;" in page  # reasons and owners: text
    assert "\u202e" not in page and "<U+202E>" in page
    assert "main&lt;b&gt;\\|" in page  # a branch name cannot open a tag or a table cell
    chart = page[page.index("```mermaid") : page.index("```", page.index("```mermaid") + 3)]
    assert "t.py" not in chart and "main" not in chart
    assert view.terminal_lines(facts).count("\n") >= 1


def test_only_code_the_change_did_not_write_is_evidence() -> None:
    from test_gate.analyse.history import Evidence

    a, b = "a" * 40, "b" * 40
    branch = Evidence(commit=a)
    assert not branch.counts(a)  # a re-run of this commit
    assert branch.counts(b)
    assert not branch.counts("")  # an unknown commit cannot be told apart
    assert not Evidence(commit="").counts(b)
    pull = Evidence(commit=a, pull_request=True, in_base=frozenset({b}))
    assert pull.counts(b)  # its base holds it
    assert not pull.counts("c" * 40)  # the pull request's own earlier commit
    # a test that failed at this very commit and passed before: new
    history = History(
        "h.db",
        window=(past(1),),
        ran_here={("", "t.py::x"): ((a, "failed"), (b, "passed"))},
        results={("", "t.py::y"): (PastResult(1, "passed", True),)},
    )
    run = run_of(rec("x", F), rec("y", F))
    facts, _ = assess(
        run, None, history, None, today=TODAY, policy=HistoryPolicy("new"), when=("", a)
    )
    assert facts.classes == {("", "t.py::x"): "new", ("", "t.py::y"): "flaky-known"}
    facts, _ = assess(
        run,
        None,
        history,
        None,
        today=TODAY,
        policy=HistoryPolicy("new"),
        evidence=Evidence(commit=a, pull_request=True),
    )
    assert facts.classes == {("", "t.py::x"): "new", ("", "t.py::y"): "new"}


def test_tests_flaky_in_pull_requests_into_the_branch_count_toward_its_flaky_rate() -> None:
    history = History(
        "h.db",
        runs=(past(1),),
        window=(past(1),),
        ran={("", "t.py::a"): 1, ("", "t.py::b"): 1},
        pull_request_flaky=frozenset({("", "t.py::a"), ("", "t.py::gone")}),
    )
    facts, _ = assess(
        run_of(rec("a"), rec("b")), None, history, None, today=TODAY, policy=HistoryPolicy()
    )
    # t.py::a counts (it ran here); t.py::gone did not run in the window: it does not
    assert (facts.flaky_tests, facts.ran, facts.pull_request_flaky) == (1, 2, 1)
    assert "1 of them only in pull requests into this branch" in view.headline(facts)
