"""What a diagnosis finds, as plain records: the category of each examined test, the result
of one probe run, and the whole diagnosis that the renderers read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, Protocol

from test_gate.read.records import RunData

if TYPE_CHECKING:
    from test_gate.analyse.suspects import Suspect

FAILING = ("failed", "error")

Category = Literal["order_dependent", "broken", "unconfirmed"]
Kind = Literal["", "polluted", "needs_setter"]
ORDER_DEPENDENT: Final = "order_dependent"
BROKEN: Final = "broken"
UNCONFIRMED: Final = "unconfirmed"
POLLUTED: Final = "polluted"  # fails after some test(s), passes alone
NEEDS_SETTER: Final = "needs_setter"  # fails alone, passes after some test(s)


@dataclass(frozen=True)
class ProbeResult:
    outcomes: Mapping[str, str]  # nodeid -> passed, failed, error, skipped, xfailed
    messages: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    output_tail: str = ""

    def outcome(self, nodeid: str) -> str | None:
        return self.outcomes.get(nodeid)


class BudgetSpent(Exception):
    """The diagnosis time budget ran out during a run."""


class Probe(Protocol):
    """Runs chosen tests in a chosen order in a fresh pytest process (`run.prober.Prober`)."""

    runs: int  # results handed out
    started: int  # pytest processes started: more when a prefetched run went unused

    def run(self, tests: Sequence[str], *, printed: bool = False) -> ProbeResult: ...

    def prefetch(self, plans: Sequence[tuple[Sequence[str], bool]]) -> None:
        """Runs known to come, independent of each other: run them now, at once where the
        machine has the cores (a no-op where it has not)."""

    def peek(self, tests: Sequence[str], printed: bool) -> ProbeResult | None:
        """The next prefetched result of this run, left in place; None when there is none."""

    def command(self, tests: Sequence[str]) -> str: ...


@dataclass(frozen=True)
class Examined:
    """What the diagnosis found out about one failing test."""

    nodeid: str
    category: Category
    kind: Kind = ""  # for order_dependent: polluted or needs_setter
    culprits: tuple[str, ...] = ()  # polluters, or state-setters
    candidates: int = 0  # tests searched (ran before it; or after it, for a setter)
    runs: int = 0
    seconds: float = 0.0
    command: str = ""  # reproduces the failure, as printed
    passing_command: str = ""  # for needs_setter: the order in which it passes
    seed: int | None = None  # the order it failed in
    note: str = ""
    masked: bool = False  # flaky: it failed, then passed on a rerun in the same process
    hang: bool = False  # it hung the main run: "fails" means "hangs" here
    state: tuple[Suspect, ...] = ()  # what the culprits left changed, as the victim saw it

    @property
    def polluters(self) -> tuple[str, ...]:
        return self.culprits if self.kind == POLLUTED else ()

    @property
    def setters(self) -> tuple[str, ...]:
        return self.culprits if self.kind == NEEDS_SETTER else ()


@dataclass(frozen=True)
class OrderChange:
    """A test whose outcome changed with the order: (seed, outcome) per run."""

    nodeid: str
    outcomes: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Diagnosis:
    examined: tuple[Examined, ...] = ()
    flaky: tuple[str, ...] = ()
    not_examined: tuple[tuple[str, str], ...] = ()  # (nodeid, why)
    runs: int = 0
    seconds: float = 0.0
    order_sensitive: tuple[OrderChange, ...] = ()
    seeds: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    ran: bool = True  # False: only the orders of --orders, no failing test was examined
    order_notes: tuple[str, ...] = ()  # --orders runs that gave no result, and why

    def by_category(self, category: Category) -> list[Examined]:
        return [e for e in self.examined if e.category == category]


@dataclass(frozen=True)
class OrderedRun:
    """One full run of the suite: its records in execution order, and the seed of that order."""

    run: RunData
    seed: int
