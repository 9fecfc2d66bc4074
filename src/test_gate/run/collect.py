"""`test-gate ignored`'s pytest run: collection only, with pytest-test-gate writing its record
to a file of its own (no JSON report plugin needed)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_test_gate.protocol import OPT_RECORD

from test_gate.read.record import RecordError, load_record
from test_gate.run import process
from test_gate.run.cancel import Cancelled
from test_gate.run.pytest_command import GATE_PLUGIN, explicit_plugins

OUTPUT_TAIL = 30


def collect_argv(python: str, user_args: Sequence[str], record: Path) -> list[str]:
    return [
        python,
        "-m",
        "pytest",
        *user_args,
        "--collect-only",
        "-q",
        *explicit_plugins(os.environ, GATE_PLUGIN),
        f"{OPT_RECORD}={record}",
    ]


def collect(path: Path, python: str, user_args: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """Run pytest's collection with the plugin: (its record, or None, and pytest's output)."""
    with tempfile.TemporaryDirectory(prefix="test-gate-") as scratch:
        record = Path(scratch) / "record.json"
        try:
            done = process.run(
                collect_argv(python, user_args, record), cwd=path, env=os.environ, forward=False
            )
        except OSError as exc:
            return None, f"{python} cannot be run: {exc.strerror}"
        if done.stopped:
            raise Cancelled(done.stopped)
        output = done.tail.strip()
        if done.exit_code not in (0, 5) or not record.is_file():
            tail = "\n".join(output.splitlines()[-OUTPUT_TAIL:])
            return None, f"pytest exited with code {done.exit_code}\n{tail}"
        try:
            section = load_record(record)
        except RecordError as exc:
            return None, str(exc)
    return section, output
