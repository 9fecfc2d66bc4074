"""The gate's scratch folder: made outside the workspace, and emptied of what no one asked to
keep (other orders' reports, diagnosis runs, records) when the run is over."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path


def work_dir() -> Path:
    """Scratch space outside the workspace: the runner's temp dir, else the system's."""
    base = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="test-gate-", dir=base))


def clean_up(folder: Path, keep: Collection[Path]) -> None:
    """Remove everything in `folder` but `keep` (and the folder when nothing is kept)."""
    kept = {p.resolve() for p in keep}
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.resolve() in kept:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
