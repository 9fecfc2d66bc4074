"""A job's place in the workflow: its matrix cell, named from what ran the tests when the
user names none."""

from __future__ import annotations

from collections.abc import Mapping

OS_NAMES = {"darwin": "macos"}


def default_cell(environment: Mapping[str, str], runner_os: str = "") -> str:
    """`py3.12-linux`: the Python version that ran the tests and the operating system (the
    runner's name for it in GitHub Actions, else the one the record names)."""
    python = ".".join(environment.get("python", "").split(".")[:2])
    system = (runner_os or environment.get("os", "").split(" ")[0]).strip().lower()
    parts = [f"py{python}" if python else "", OS_NAMES.get(system, system)]
    return "-".join(p for p in parts if p) or "default"


def job_name(cell: str, shard: str = "") -> str:
    """How a job is named to a reader: its cell, and its shard when it ran one."""
    return f"{cell} [{shard}]" if shard else cell
