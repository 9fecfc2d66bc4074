"""Which run this is, for the history: its key, time, commit, branch and base branch, from
GitHub Actions' environment, else from git, else left empty."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from test_gate.read.files import CONFIG_LIMIT, read_text


@dataclass(frozen=True)
class Identity:
    run_key: str  # the workflow run and attempt, or a fresh id outside Actions
    time: str  # ISO 8601, UTC, to the second
    commit: str
    branch: str
    base: str | None  # the branch a failure is compared with when it never ran here


def _git(path: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _event(env: Mapping[str, str]) -> dict[str, object]:
    """The payload of the event that started the workflow run, or {}."""
    where = env.get("GITHUB_EVENT_PATH", "")
    text = read_text(Path(where), CONFIG_LIMIT) if where else None
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _field(data: dict[str, object], *path: str) -> str:
    for name in path[:-1]:
        inner = data.get(name)
        data = inner if isinstance(inner, dict) else {}
    value = data.get(path[-1])
    return value if isinstance(value, str) else ""


def identify(
    path: Path,
    branch: str | None,
    base: str | None,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Identity:
    """`branch` and `base`: the user's, when given. In Actions, a pull request's branch is its
    head and its base the branch it goes into; a push's base is the default branch."""
    env = os.environ if env is None else env
    actions = env.get("GITHUB_ACTIONS") == "true"
    if actions and env.get("GITHUB_RUN_ID"):
        run_key = f"{env['GITHUB_RUN_ID']}.{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    else:
        run_key = uuid.uuid4().hex
    found_branch = branch or (
        (env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME", "")) if actions else ""
    )
    if not found_branch:
        found_branch = _git(path, "rev-parse", "--abbrev-ref", "HEAD")
        found_branch = "" if found_branch == "HEAD" else found_branch
    event = _event(env) if actions else {}
    found_base = base
    if found_base is None and actions:
        found_base = (
            env.get("GITHUB_BASE_REF") or _field(event, "repository", "default_branch") or None
        )
    if found_base == found_branch:
        found_base = None
    # a pull request's GITHUB_SHA is a merge commit nobody pushed: its head is what was tested
    commit = (
        _field(event, "pull_request", "head", "sha")
        or (env.get("GITHUB_SHA", "") if actions else "")
    ) or _git(path, "rev-parse", "HEAD")
    moment = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    return Identity(run_key, moment.isoformat(), commit, found_branch or "(none)", found_base)
