"""A real pytest run with the record turned on, and the record it wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest


def record(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    path = pytester.path / "record.json"
    pytester.runpytest_subprocess("-p", "no:randomly", f"--test-gate-record={path}", *args)
    data: dict[str, Any] = json.loads(path.read_text())["test_gate"]
    return data
