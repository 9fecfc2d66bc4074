from invoicing import Money


def test_convert_usd_to_eur():
    assert Money(100, "USD") != Money(100, "EUR")


def test_rates_are_fresh():
    assert False, "needs the live exchange-rate provider"
