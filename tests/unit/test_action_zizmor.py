"""zizmor, offline, finds nothing in the action, the example workflows or the project's own CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_zizmor_finds_nothing() -> None:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if not zizmor:
        pytest.fail("zizmor is not installed: install the dev group (pip install --group dev)")
    workflows = sorted(
        str(p)
        for folder in ("examples/workflows", ".github/workflows")
        for p in (REPO / folder).glob("*.yml")
    )
    assert len(workflows) >= 5
    done = subprocess.run(
        [
            zizmor,
            "--offline",
            "--no-progress",
            "--format",
            "plain",
            "--config",
            str(REPO / "examples" / "zizmor.yml"),
            str(REPO / "action.yml"),
            str(REPO / "merge" / "action.yml"),
            *workflows,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # exit codes: 0 clean, 10-14 findings by severity, others: zizmor could not run
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout
