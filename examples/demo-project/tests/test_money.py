from decimal import Decimal

import pytest

from invoicing import Money


def test_parse_rounds_half_even():
    assert Money.parse("2.345").cents == 234
    assert Money.parse("2.355").cents == 236


def test_add_same_currency():
    assert Money(150) + Money(250) == Money(400)


def test_add_other_currency_is_refused():
    with pytest.raises(ValueError, match="cannot add USD to EUR"):
        Money(1) + Money(1, "USD")


@pytest.mark.parametrize("factor, cents", [("0.5", 50), ("0.2", 20), ("1.125", 112)])
def test_scale(factor, cents):
    assert Money(100).scale(Decimal(factor)).cents == cents


def test_str():
    assert str(Money(1234)) == "12.34 EUR"
