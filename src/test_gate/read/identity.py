"""Which run this is, for the history: its key, time, commit, branch and base branch, from
GitHub Actions' environment, else from git, else left empty."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterable, Mapping
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
    pull_request: bool = False  # the run tests a change not yet in its base branch
    repository: str = ""  # owner/name: GitHub's, else git's origin, else ""
    workflow: str = ""  # the workflow's name in GitHub Actions


_SHA = re.compile(r"[0-9a-f]{7,64}")


def _git_run(path: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _git(path: Path, *args: str) -> str:
    done = _git_run(path, *args)
    return done.stdout.strip() if done is not None and done.returncode == 0 else ""


def _git_ok(path: Path, *args: str) -> bool:
    done = _git_run(path, *args)
    return done is not None and done.returncode == 0


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


PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "merge_group"})


def identify(
    path: Path,
    branch: str | None,
    base: str | None,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    pull_request: bool | None = None,
) -> Identity:
    """`branch`, `base` and `pull_request`: the user's, when given. In Actions, a pull
    request's branch is its head and its base the branch it goes into; a push's base is the
    default branch."""
    env = os.environ if env is None else env
    actions = env.get("GITHUB_ACTIONS") == "true"
    if pull_request is None:
        pull_request = actions and (
            env.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS
            or bool(env.get("GITHUB_HEAD_REF"))
        )
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
    repository = (env.get("GITHUB_REPOSITORY", "") if actions else "") or repository_of(path)
    return Identity(
        run_key,
        moment.isoformat(),
        commit,
        found_branch or "(none)",
        found_base,
        pull_request,
        repository,
        env.get("GITHUB_WORKFLOW", "") if actions else "",
    )


_REMOTE = re.compile(r"[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def repository_of(path: Path) -> str:
    """owner/name from git's `origin` remote (`git@host:owner/name.git`,
    `https://host/owner/name`), or ""."""
    url = _git(path, "remote", "get-url", "origin")
    found = _REMOTE.search(url) if url else None
    return found.group(1) if found else ""


ANCESTRY_CHECKS = 20  # commits asked about at most: git answers each in milliseconds


def in_branch(path: Path, branch: str, commits: Iterable[str]) -> frozenset[str]:
    """Which of these commits the branch already holds (its remote-tracking ref, else the
    local one), as git in `path` knows it; none when git cannot tell (no repository, a
    shallow clone without the branch): a commit git cannot place is never taken as merged."""
    refs = [f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"]
    found = next((r for r in refs if _git(path, "rev-parse", "--verify", "-q", r)), None)
    if found is None:
        return frozenset()
    held = set()
    for commit in list(dict.fromkeys(c for c in commits if _SHA.fullmatch(c)))[:ANCESTRY_CHECKS]:
        if _git_ok(path, "merge-base", "--is-ancestor", commit, found):
            held.add(commit)
    return frozenset(held)


MAX_CHANGED = 10_000  # files named by a diff at most: a larger change is not worth ordering by


def changed_files(path: Path, env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The files a pull request changes, relative to the repository's root, so that
    annotations go first where the reviewer looks. In Actions a pull request is checked out as
    a merge commit whose first parent is the base: its diff to that parent is the change (a
    clone of depth 2 or more holds it). Else the diff from the base branch's merge base. Empty
    when not a pull request, or when git cannot tell."""
    env = os.environ if env is None else env
    if env.get("GITHUB_EVENT_NAME", "") not in PULL_REQUEST_EVENTS:
        return frozenset()
    root = _git(path, "rev-parse", "--show-toplevel")
    if not root:
        return frozenset()
    listed = ""
    if _git(path, "rev-parse", "--verify", "-q", "HEAD^2"):  # a merge commit
        listed = _git(path, "diff", "--name-only", "--no-renames", "HEAD^1", "HEAD")
    base = env.get("GITHUB_BASE_REF", "")
    if not listed and base:
        listed = _git(path, "diff", "--name-only", "--no-renames", f"origin/{base}...HEAD")
    names = listed.splitlines()
    return frozenset(names) if len(names) <= MAX_CHANGED else frozenset()
