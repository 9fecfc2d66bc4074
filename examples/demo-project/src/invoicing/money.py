from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal


@dataclass(frozen=True, order=True)
class Money:
    """An amount in cents: no float ever touches a price."""

    cents: int
    currency: str = "EUR"

    @classmethod
    def parse(cls, text: str, currency: str = "EUR") -> Money:
        value = Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        return cls(int(value * 100), currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.cents + other.cents, self.currency)

    def scale(self, factor: Decimal) -> Money:
        cents = (Decimal(self.cents) * factor).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return Money(int(cents), self.currency)

    def __str__(self) -> str:
        return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"
