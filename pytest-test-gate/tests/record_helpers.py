"""A real pytest run with the record turned on, and the record it wrote, one event a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def read_events(path: Path) -> dict[str, Any]:
    """The record's events folded into one object, as in the JSON report's section."""
    data: dict[str, Any] = {"reports": [], "collect_errors": []}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event.pop("event")
        if kind == "report":
            data["reports"].append(event)
        elif kind == "collect_error":
            data["collect_errors"].append(event)
        elif kind == "test_end":
            for when, seconds in event.get("passed", []):
                data["reports"].append(
                    {
                        "nodeid": event["nodeid"],
                        "when": when,
                        "outcome": "passed",
                        "duration": seconds,
                        "location": event["location"],
                    }
                )
        else:
            data.update(event)
    return data


def record(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    path = pytester.path / "record.jsonl"
    pytester.runpytest_subprocess("-p", "no:randomly", f"--test-gate-record={path}", *args)
    return read_events(path)
