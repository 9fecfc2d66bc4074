"""Planning the search for the tests that make a victim fail (or pass): pure, no I/O.

The search is a generator: it yields a subset of the candidates (always in their original
order) and is sent back whether that subset, run before the victim, *reproduces* the effect
(the failure, for a polluter; the pass, for a state-setter). The caller owns the pytest runs,
so the planning can be tested with a simulated oracle.

Cost. One culprit among n candidates: plain bisection, ceil(log2 n) probes, the half that is
not probed being inferred (as detect-test-pollution does), then one confirmation of the single
test found (the caller runs it as the printed command), unless the bisection's last probe was
that test already (a subset of one or two tests is always run as the printed command). When the
confirmation fails (two tests pollute only together, so neither half alone reproduces) the
search does not give up: it narrows the smallest subset known to reproduce to a minimal set,
the QuickXplain way (split in two; a half that reproduces alone is enough; otherwise minimise
each half with the other kept as background), about k*log2(n) more probes for k culprits, and
confirms that set. Every answer is cached: no subset is probed twice, except the confirmations.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass

Probe = tuple[str, ...]
PRINTED_SIZE = 2  # a subset this small is run as the printed command (it may be the answer)


@dataclass(frozen=True)
class Ask:
    """Run these tests, then the victim: does the effect show? `final` marks a run of the
    printed reproduce command (the confirmation of an answer, or a subset small enough to be
    one), never answered from the cache."""

    tests: Probe
    final: bool = False


Search = Generator[Ask, bool, "Finding"]


@dataclass(frozen=True)
class Finding:
    culprits: Probe  # a minimal set, in candidate order; empty when none was found
    probes: int  # subsets actually run
    note: str = ""


class _Oracle:
    """Asks through the generator protocol, remembering every answer."""

    def __init__(self, order: Sequence[str]) -> None:
        self.rank = {name: i for i, name in enumerate(order)}
        self.known: dict[frozenset[str], bool] = {}
        self.printed: set[frozenset[str]] = set()  # run as the printed command already
        self.probes = 0

    def sorted(self, items: frozenset[str] | set[str]) -> Probe:
        return tuple(sorted(items, key=self.rank.__getitem__))

    def ask(self, items: frozenset[str], final: bool = False) -> Generator[Ask, bool, bool]:
        """`final`: the answer must come from a run of the printed command. A set small
        enough to be an answer is run that way whenever it is asked, so that the search's
        last step is not run again as its confirmation."""
        if final and items in self.printed:
            return self.known[items]
        if final or items not in self.known:
            printed = final or len(items) <= PRINTED_SIZE
            self.probes += 1
            self.known[items] = bool((yield Ask(self.sorted(items), printed)))
            if printed:
                self.printed.add(items)
        return self.known[items]


def _halves(items: Probe) -> tuple[Probe, Probe]:
    pivot = len(items) // 2
    return items[:pivot], items[pivot:]


def _quickxplain(
    oracle: _Oracle, background: frozenset[str], candidates: Probe
) -> Generator[Ask, bool, Probe]:
    """A minimal subset M of candidates with background + M reproducing.

    Precondition: background + candidates reproduces; background alone does not."""
    if len(candidates) == 1:
        return candidates
    first, second = _halves(candidates)
    if (yield from oracle.ask(background | set(first))):
        return (yield from _quickxplain(oracle, background, first))
    if (yield from oracle.ask(background | set(second))):
        return (yield from _quickxplain(oracle, background, second))
    kept_first = yield from _quickxplain(oracle, background | set(second), first)
    kept_second = yield from _quickxplain(oracle, background | set(kept_first), second)
    return oracle.sorted(set(kept_first) | set(kept_second))


def find_culprits(candidates: Sequence[str]) -> Search:
    """Search the candidates (all of them, before the victim, are known to reproduce the effect;
    the victim alone is known not to) for a minimal set that reproduces it."""
    order = list(dict.fromkeys(candidates))
    oracle = _Oracle(order)
    if not order:
        return Finding((), 0, note="no test ran before it")
    everything = frozenset(order)
    oracle.known[everything] = True
    oracle.known[frozenset()] = False
    smallest: Probe = tuple(order)
    current: Probe = tuple(order)
    while len(current) > 1:
        first, second = _halves(current)
        if (yield from oracle.ask(frozenset(first))):
            current = smallest = first
        else:
            current = second  # inferred, as plain bisection does; checked below
    if (yield from oracle.ask(frozenset(current), final=True)):
        return Finding(current, oracle.probes)
    # no single test: narrow the smallest subset seen reproducing to a minimal set
    found = yield from _quickxplain(oracle, frozenset(), smallest)
    if (yield from oracle.ask(frozenset(found), final=True)):
        return Finding(found, oracle.probes)
    return Finding(
        (),
        oracle.probes,
        note="the answers contradict each other: the effect is not deterministic "
        "or depends on more than which tests ran",
    )
