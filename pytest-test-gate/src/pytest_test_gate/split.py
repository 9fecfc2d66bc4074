"""How a suite is split into shards: pure functions of the collected ids (and of the durations
a previous run recorded), standard library only, so that test-gate checks a `--shard` value
and a durations file with the very code every shard uses.

The split is deterministic: the ids are sorted, so it does not depend on the order in which a
machine collected them, and every shard that collected the same suite computes the same split.
It keeps the sorted ids contiguous (a module's tests stay together, so its fixtures are set up
in one shard) and balances the shards by weight: each test goes to the shard whose share of
the total weight holds the middle of the test. A shard is then off its ideal share by at most
one test's weight. The weight is the recorded duration, else 1 (a split by count).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_SHARD = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")
MAX_SHARDS = 1000
MAX_DURATIONS_BYTES = 2_000_000_000
MAX_SECONDS = 7 * 24 * 3600.0  # a recorded duration longer than a week is no duration


class SplitError(ValueError):
    """A bad `--shard` value or durations file; the message is one line."""


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N`: this job runs part K (1-based) of N."""
    found = _SHARD.fullmatch(text.strip())
    if found:
        index, total = int(found.group(1)), int(found.group(2))
        if 1 <= index <= total <= MAX_SHARDS:
            return index, total
    raise SplitError(
        f"{text[:40]!r} is not a shard; use K/N with whole numbers 1 <= K <= N <= {MAX_SHARDS}, "
        "such as 2/3"
    )


def digest(ids: Iterable[str]) -> str:
    """One hash of a set of test ids, whatever order they came in."""
    text = "\n".join(sorted(ids))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def assign(
    ids: Sequence[str], total: int, durations: Mapping[str, float] | None = None
) -> dict[str, int]:
    """Each distinct id's shard, 1-based."""
    ordered = sorted(set(ids))
    if not ordered:
        return {}
    weights = _weights(ordered, durations or {})
    whole = math.fsum(weights)
    shards: dict[str, int] = {}
    before = 0.0
    for nodeid, weight in zip(ordered, weights):
        middle = (before + weight / 2) * total / whole
        shards[nodeid] = min(total, int(middle) + 1)
        before += weight
    return shards


def _weights(ordered: Sequence[str], durations: Mapping[str, float]) -> list[float]:
    known = [durations[i] for i in ordered if i in durations and durations[i] > 0]
    if not known:
        return [1.0] * len(ordered)
    # a test new since the durations were recorded weighs as a typical one
    typical = statistics.median(known)
    return [durations[i] if durations.get(i, 0) > 0 else typical for i in ordered]


def read_durations(path: str) -> dict[str, float]:
    """Seconds per test id, from a test-gate result file, a pytest-json-report report, or a
    plain JSON object of id -> seconds. Only a regular file within the size bound is read (a
    FIFO would block, /dev/zero never ends)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SplitError(f"{path!r} does not exist") from None
    except OSError as exc:
        raise SplitError(f"{path!r} cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SplitError(f"{path!r} is a directory; give a result or report file")
    if not stat.S_ISREG(info.st_mode):
        raise SplitError(f"{path!r} is not a regular file (a pipe, a device or a socket)")
    if info.st_size > MAX_DURATIONS_BYTES:
        raise SplitError(f"{path!r} is over the {MAX_DURATIONS_BYTES:,} bytes read")
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_DURATIONS_BYTES + 1))
    except (OSError, ValueError, RecursionError) as exc:
        raise SplitError(f"{path!r} cannot be read as JSON ({type(exc).__name__})") from None
    found = durations_of(data)
    if found is None:
        raise SplitError(
            f"{path!r} holds no test durations; give a test-gate result file, a "
            "pytest-json-report report, or a JSON object of test id -> seconds (each from 0 "
            f"to {MAX_SECONDS:.0f})"
        )
    return found


def durations_of(data: Any) -> dict[str, float] | None:
    if not isinstance(data, dict):
        return None
    tests = data.get("tests")
    if isinstance(tests, list):
        out: dict[str, float] = {}
        for entry in tests:
            nodeid, seconds = _entry_duration(entry)
            if nodeid is not None:
                # a merged result holds each test once per cell: the slowest one counts
                out[nodeid] = max(seconds, out.get(nodeid, 0.0))
        return out
    if data and all(_duration(v) for v in data.values()):
        return {str(k): float(v) for k, v in data.items()}
    return None


def _duration(value: Any) -> bool:
    """A number of seconds a test could have taken: finite, from 0 to a week."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_SECONDS
    )


def _entry_duration(entry: Any) -> tuple[str | None, float]:
    if isinstance(entry, list) and len(entry) >= 4 and isinstance(entry[0], str):
        return entry[0], _seconds(entry[3])  # test-gate: [id, outcome, attempts, seconds, ...]
    if isinstance(entry, dict) and isinstance(entry.get("nodeid"), str):
        phases = (entry.get(when) for when in ("setup", "call", "teardown"))
        seconds = sum(_seconds(p.get("duration")) for p in phases if isinstance(p, dict))
        return entry["nodeid"], seconds
    return None, 0.0


def _seconds(value: Any) -> float:
    """A report's duration, or 0 (unknown: weighed as a typical test) when it is not one a
    test could have taken (time travel in a test makes pytest print years)."""
    return float(value) if _duration(value) else 0.0
