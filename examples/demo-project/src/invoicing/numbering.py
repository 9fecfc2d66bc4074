"""Invoice numbers: INV-<year>-<sequence>, from a clock that tests can replace."""

from __future__ import annotations

import time


def invoice_number(sequence: int, clock: object = time) -> str:
    year = time.gmtime(clock.time()).tm_year  # type: ignore[attr-defined]
    return f"INV-{year}-{sequence:05d}"
