"""A shard's account of itself (which part of which suite it ran), as the record and a result
file both hold it: one reading for both, so both fail on the same gaps."""

from __future__ import annotations

from typing import Any

from test_gate.read.records import ShardInfo
from test_gate.read.values import integer, text


class ShardUnreadable(ValueError):
    """The shard cannot be checked; the message says why, in a few words."""


def shard_info(value: Any) -> ShardInfo | None:
    """None when the run was no shard."""
    if value is None:
        return None
    found = value if isinstance(value, dict) else {}
    index, total, suite = (integer(found.get(k)) for k in ("index", "total", "suite"))
    if index is None or total is None or suite is None or not 1 <= index <= total:
        raise ShardUnreadable("its shard is not K of N with a suite count")
    ids = found.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ShardUnreadable("its shard does not list the tests it was given")
    return ShardInfo(
        index=index,
        total=total,
        suite=suite,
        suite_digest=text(found.get("suite_digest")),
        ids=tuple(text(i) for i in ids),
        ids_digest=text(found.get("ids_digest")),
        split_by=text(found.get("split_by")) or "count",
        durations_from=text(found.get("durations_from")),
    )
