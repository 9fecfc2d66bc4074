"""pytest-test-gate: the part of test-gate that runs inside pytest (pytest + standard library).

Importing this package does not import pytest: test-gate reads the shared names of
`pytest_test_gate.protocol` without it.
"""

from pytest_test_gate.protocol import __version__

__all__ = ["__version__"]
