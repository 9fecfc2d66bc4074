"""The hook through which the plugin's parts add to the record (instead of shared globals)."""

from __future__ import annotations

from typing import Any


def pytest_test_gate_sections(config: Any) -> dict[str, Any]:  # type: ignore[empty-body]
    """Sections to add to test-gate's record, keyed by name; called once, when the record is
    written (in the controller under pytest-xdist)."""
