"""test-gate: a truthful quality gate for pytest runs."""

__version__ = "0.6.0"
