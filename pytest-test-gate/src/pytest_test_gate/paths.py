"""Paths as pytest sees them: which directories hold test files, and pytest's own matching."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

from pytest_test_gate.protocol import NOT_NEWS, WALK_LIMIT


def is_venv(path: Path) -> bool:
    try:
        return (
            (path / "pyvenv.cfg").is_file()
            or (path / "conda-meta").is_dir()
            or any((path / d / "activate").is_file() for d in ("bin", "Scripts"))
        )
    except OSError:
        return False


def match_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns if "/" not in p and os.sep not in p)


def holds_test_files(path: Path, patterns: Iterable[str], limit: int = WALK_LIMIT) -> bool:
    """Whether a directory holds a test file, looking at no more than `limit` entries and
    never inside a virtualenv, site-packages or node_modules."""
    pats = list(patterns)
    seen = 0
    stack = [path]
    while stack:
        here = stack.pop()
        if here.name in NOT_NEWS or is_venv(here):
            continue
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return False
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.name.endswith(".py") and match_any(entry.name, pats):
                    return True
            except OSError:
                continue
    return False


def fnmatch_ex(pattern: str, path: Path) -> bool:
    """pytest's norecursedirs matching: a pattern without a separator matches the name."""
    if os.sep not in pattern and "/" not in pattern:
        return fnmatch.fnmatch(path.name, pattern)
    pat = pattern.replace("/", os.sep)
    if not os.path.isabs(pat):
        pat = f"*{os.sep}{pat}"
    return fnmatch.fnmatch(str(path), pat)
