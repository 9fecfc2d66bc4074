"""Benchmark-only (hooks.py loads it with `-p test_gate_hook_timer`, before pytest-test-gate's
plugin registers its parts): each hook method of pytest-test-gate's parts, and of the floor
hooks.py compares them with (test_gate_minimal_record), is timed where it runs, inside a
real run, with the same clock; the totals are written to HOOK_TIMES_FILE as the process
exits. A hook wrapper is timed in its two halves, before and after the hooks it wraps."""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import json
import os
import time
from collections.abc import Callable, Generator
from typing import Any

import test_gate_minimal_record
from pytest_test_gate import recorder, save, state, unrun

TOTALS: dict[str, list[int]] = {}  # "Class.hook" -> [nanoseconds, calls]
clock = time.perf_counter_ns


def _add(key: str, started: int) -> None:
    total = TOTALS.setdefault(key, [0, 0])
    total[0] += clock() - started
    total[1] += 1


def _timed(key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, None]:
            started = clock()
            inner = function(*args, **kwargs)
            value = next(inner)
            _add(key, started)
            result = yield value
            started = clock()
            with contextlib.suppress(StopIteration):  # the wrapper's end
                inner.send(result)
            TOTALS[key][0] += clock() - started

        return wrapper

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            _add(key, started)

    return timed


PARTS = (recorder.Recorder, state.StateWatch, unrun.UnrunRecorder, save.ReportSaver)
for part in (*PARTS, test_gate_minimal_record.MinimalRecord):
    for name, value in list(vars(part).items()):
        if name.startswith("pytest_") and callable(value):
            setattr(part, name, _timed(f"{part.__name__}.{name}", value))


@atexit.register
def _write() -> None:
    path = os.environ.get("HOOK_TIMES_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(TOTALS, out)
