import time

from invoicing.numbering import invoice_number


class FakeClock:
    def __init__(self, when: float) -> None:
        self.when = when

    def time(self) -> float:
        return self.when


def test_number_format():
    assert invoice_number(42, FakeClock(1_700_000_000)) == "INV-2023-00042"


def test_number_uses_the_clock_year():
    assert invoice_number(1, FakeClock(0)).startswith("INV-1970-")


_first_call = []


def test_numbering_service_answers_quickly():
    # Flaky, like many real timing tests: the first call in a process pays a cold start.
    started = time.perf_counter()
    if not _first_call:
        _first_call.append(True)
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.04, f"numbering service took {elapsed:.3f}s (cold start)"
    assert invoice_number(7, FakeClock(0)) == "INV-1970-00007"
