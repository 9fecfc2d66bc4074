"""A tiny invoicing library: line items, discounts, tax, and totals in cents."""

from invoicing.money import Money
from invoicing.invoice import Invoice, LineItem

__all__ = ["Invoice", "LineItem", "Money"]
