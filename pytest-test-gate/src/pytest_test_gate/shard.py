"""Run one shard of the suite (``--test-gate-shard K/N``).

Every shard collects the whole suite, so each one can prove which suite it split: the record
gets a digest of the collected ids, the ids this shard kept, and their digest. The items are
narrowed after every other plugin has sorted and deselected them (a hook wrapper), so the
user's ``-k`` and ``-m`` shape the suite first, and pytest-random-order's order of the kept
items stays as the seed made it: the same seed and shard replay the same order. The other
shards' items are reported to ``pytest_deselected``, as pytest's own deselection is.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pytest_test_gate.split import assign, digest

WORKER_KEY = "test_gate_shard"


class Shard:
    def __init__(
        self, index: int, total: int, durations: dict[str, float] | None, source: str
    ) -> None:
        self.index = index
        self.total = total
        self.durations = durations
        self.source = source
        self.info: dict[str, Any] | None = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_collection_modifyitems(
        self, config: Any, items: list[Any]
    ) -> Generator[None, Any, None]:
        yield
        ids = [item.nodeid for item in items]
        shards = assign(ids, self.total, self.durations)
        kept = [item for item in items if shards[item.nodeid] == self.index]
        others = [item for item in items if shards[item.nodeid] != self.index]
        mine = [item.nodeid for item in kept]
        self.info = {
            "index": self.index,
            "total": self.total,
            "suite": len(ids),
            "suite_digest": digest(ids),
            "split_by": "durations" if self.durations else "count",
            "durations_from": self.source,
            "ids": mine,
            "ids_digest": digest(mine),
        }
        if others:
            config.hook.pytest_deselected(items=others)
        items[:] = kept
        if hasattr(config, "workeroutput"):  # a pytest-xdist worker: tell the controller
            config.workeroutput[WORKER_KEY] = self.info

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist's controller collects nothing: each worker collected and split the
        same suite, and the first to finish says what it was."""
        found = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if self.info is None and isinstance(found, dict):
            self.info = found

    def pytest_test_gate_sections(self, config: Any) -> dict[str, Any]:
        return {"shard": self.info}
