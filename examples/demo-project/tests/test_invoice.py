import sys
from decimal import Decimal

import pytest

from invoicing import Invoice, LineItem, Money


@pytest.fixture
def invoice():
    inv = Invoice()
    inv.add(LineItem("consulting", Money(10_000), 3))
    inv.add(LineItem("travel", Money(2_550)))
    return inv


def test_subtotal(invoice):
    assert invoice.subtotal == Money(32_550)


def test_tax(invoice):
    assert invoice.tax == Money(6_510)


def test_total(invoice):
    assert invoice.total == Money(39_060)


def test_discount(invoice):
    invoice.discount = Decimal("0.10")
    assert invoice.subtotal == Money(29_295)


def test_quantity_must_be_positive():
    with pytest.raises(ValueError):
        LineItem("nothing", Money(100), 0)


def test_currency_mismatch():
    with pytest.raises(ValueError):
        Invoice().add(LineItem("import", Money(100, "USD")))


@pytest.mark.skipif(sys.platform != "win32", reason="PDF export runs on the Windows build only")
def test_pdf_export(invoice):
    raise NotImplementedError
