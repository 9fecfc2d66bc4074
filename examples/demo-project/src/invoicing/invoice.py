from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from invoicing.money import Money


@dataclass(frozen=True)
class LineItem:
    description: str
    unit_price: Money
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("quantity must be at least 1")

    @property
    def total(self) -> Money:
        return Money(self.unit_price.cents * self.quantity, self.unit_price.currency)


@dataclass
class Invoice:
    currency: str = "EUR"
    tax_rate: Decimal = Decimal("0.20")
    items: list[LineItem] = field(default_factory=list)
    discount: Decimal = Decimal(0)

    def add(self, item: LineItem) -> None:
        if item.unit_price.currency != self.currency:
            raise ValueError("line item currency differs from the invoice's")
        self.items.append(item)

    @property
    def subtotal(self) -> Money:
        total = Money(0, self.currency)
        for item in self.items:
            total = total + item.total
        return total.scale(1 - self.discount)

    @property
    def tax(self) -> Money:
        return self.subtotal.scale(self.tax_rate)

    @property
    def total(self) -> Money:
        return self.subtotal + self.tax
