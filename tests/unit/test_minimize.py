"""The polluter search planned against a simulated, deterministic test suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from test_gate.analyse.minimize import Ask, Finding, Probe, Search, find_culprits


def run_search(search: Search, reproduces: Callable[[Probe], bool]) -> Finding:
    """Drive a search with a plain function: a simulated, deterministic suite."""
    try:
        ask = next(search)
        while True:
            ask = search.send(reproduces(ask.tests))
    except StopIteration as stop:
        finding: Finding = stop.value
        return finding


def bisection_probes(n: int) -> int:
    """Probes plain bisection needs for n candidates: ceil(log2 n)."""
    return max(0, (n - 1).bit_length())


def names(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


def search(n: int, culprits: set[str]) -> tuple[tuple[str, ...], int, list[tuple[str, ...]]]:
    asked: list[tuple[str, ...]] = []

    def reproduces(tests: tuple[str, ...]) -> bool:
        asked.append(tests)
        return culprits <= set(tests)

    finding = run_search(find_culprits(names(n)), reproduces)
    assert finding.probes == len(asked)
    return finding.culprits, finding.probes, asked


def test_one_polluter_costs_ceil_log2_n_probes_plus_the_confirmation() -> None:
    for n in (1, 2, 3, 5, 8, 13, 100, 1000):
        worst = 0
        for i in range(n):
            found, probes, _ = search(n, {f"t{i}"})
            assert found == (f"t{i}",)
            worst = max(worst, probes)
        assert worst == bisection_probes(n) + 1


def test_the_confirmation_is_the_last_ask_and_is_final() -> None:
    gen = find_culprits(names(4))
    ask = next(gen)
    seen: list[Ask] = [ask]
    try:
        while True:
            ask = gen.send("t3" in ask.tests)
            seen.append(ask)
    except StopIteration as stop:
        assert stop.value.culprits == ("t3",)
    # the confirmation is final; so is every subset small enough to be the answer (it is run
    # as the printed command, and not run again when it turns out to be the answer)
    assert [a.final for a in seen] == [len(a.tests) <= 2 or a is seen[-1] for a in seen]
    assert seen[-1].final and seen[-1].tests == ("t3",)


def test_the_last_probe_is_not_run_again_as_the_confirmation() -> None:
    gen = find_culprits(names(4))
    asked = [next(gen)]
    try:
        while True:  # t2 is the culprit: the bisection's last probe runs it, printed
            asked.append(gen.send("t2" in asked[-1].tests))
    except StopIteration as stop:
        assert stop.value.culprits == ("t2",)
    assert [a.tests for a in asked] == [("t0", "t1"), ("t2",)]


def test_probes_keep_the_run_order() -> None:
    _, _, asked = search(16, {"t3", "t11"})
    for tests in asked:
        assert list(tests) == sorted(tests, key=lambda t: int(t[1:]))


def test_every_pair_is_found() -> None:
    for n in (2, 3, 4, 7, 8):
        for a, b in itertools.combinations(range(n), 2):
            found, probes, _ = search(n, {f"t{a}", f"t{b}"})
            assert found == (f"t{a}", f"t{b}")
            assert probes <= 4 * (bisection_probes(n) + 1)


@given(
    st.integers(1, 200).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1, max_size=3))
    )
)
def test_any_small_set_of_culprits_is_found_minimal(case: tuple[int, set[int]]) -> None:
    n, picked = case
    culprits = {f"t{i}" for i in picked}
    found, probes, _ = search(n, culprits)
    assert set(found) == culprits
    assert probes <= len(culprits) * 3 * (bisection_probes(n) + 2)


def test_no_candidates_is_no_culprit_not_a_crash() -> None:
    finding = run_search(find_culprits([]), lambda tests: True)
    assert finding.culprits == () and finding.note == "no test ran before it"


def test_an_effect_that_never_reproduces_is_reported_as_inconsistent() -> None:
    finding = run_search(find_culprits(names(6)), lambda tests: False)
    assert finding.culprits == ()
    assert "contradict" in finding.note
