"""--require-stable: whether this run and the runs before it in its lane, newest first, each
met the threshold, and what to say when they did not. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from test_gate.analyse.verdict import format_threshold
from test_gate.read.history import PastRun


@dataclass(frozen=True)
class Stable:
    """--require-stable: how many runs in a row, newest first, met the threshold."""

    required: int
    threshold: Decimal
    streak: int  # this run and the earlier ones in a row that met it
    earlier: int  # earlier runs of the lane in the history
    below: tuple[PastRun, ...] = ()  # the earlier runs of the last N that did not

    @property
    def met(self) -> bool:
        return self.streak >= self.required


def met_threshold(rate: float | None, threshold: Decimal) -> bool:
    """A stored pass rate (rounded down to two decimals) at or above the threshold."""
    return rate is not None and Decimal(str(rate)) >= threshold


def stable(
    earlier: Sequence[PastRun], now_rate: Fraction | None, required: int, threshold: Decimal
) -> Stable:
    """This run and the runs before it in the lane (oldest first), against the threshold."""
    streak = 0
    if now_rate is not None and now_rate >= Fraction(threshold):
        streak = 1
        for run in reversed(earlier):
            if not met_threshold(run.pass_rate, threshold):
                break
            streak += 1
    last = list(earlier)[-(required - 1) :] if required > 1 else []
    below = tuple(r for r in last if not met_threshold(r.pass_rate, threshold))
    return Stable(required, threshold, streak, len(earlier), below)


def stable_reasons(found: Stable) -> list[str]:
    """Why the runs in a row fall short, when earlier runs do (this run's own rate has a
    reason of its own)."""
    n, limit = found.required, format_threshold(found.threshold)
    if found.earlier < n - 1:
        return [
            f"--require-stable {n}: {n} runs in a row must each meet the threshold {limit}%, "
            f"and this lane has {found.earlier} earlier run(s) in the history"
        ]
    if not found.below:
        return []
    shown = ", ".join(
        f"run #{r.id} ({r.time}, "
        + (f"{r.pass_rate:.2f}%" if r.pass_rate is not None else "no test attempted")
        + ")"
        for r in found.below[:3]
    )
    return [
        f"--require-stable {n}: of the last {n} runs of this lane, {len(found.below)} earlier "
        f"one(s) did not meet the threshold {limit}%: {shown}"
    ]
