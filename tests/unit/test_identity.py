"""Which run this is, for the history: from GitHub Actions' environment, else from git."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from test_gate.read.identity import changed_files, identify

NOW = dt.datetime(2026, 11, 29, 10, 30, 15, 123456, tzinfo=dt.timezone.utc)


def test_a_pull_request_is_its_head_branch_against_its_base_at_its_head_commit(
    tmp_path: Path,
) -> None:
    event = tmp_path / "event.json"
    head = "a" * 40
    event.write_text(
        json.dumps(
            {"pull_request": {"head": {"sha": head}}, "repository": {"default_branch": "main"}}
        )
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_HEAD_REF": "fix/flaky",
        "GITHUB_REF_NAME": "17/merge",
        "GITHUB_BASE_REF": "release",
        "GITHUB_SHA": "b" * 40,
        "GITHUB_EVENT_PATH": str(event),
    }
    found = identify(tmp_path, None, None, env, NOW)
    assert (found.run_key, found.branch, found.base, found.commit, found.time) == (
        "42.2",
        "fix/flaky",
        "release",
        head,
        "2026-11-29T10:30:15+00:00",
    )


def test_a_push_compares_with_the_default_branch_and_not_with_itself(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": "main"}}))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": "7",
        "GITHUB_REF_NAME": "feature",
        "GITHUB_SHA": "c" * 40,
        "GITHUB_EVENT_PATH": str(event),
    }
    assert identify(tmp_path, None, None, env, NOW).base == "main"
    assert identify(tmp_path, None, None, {**env, "GITHUB_REF_NAME": "main"}, NOW).base is None
    # the user's names win
    chosen = identify(tmp_path, "mine", "theirs", env, NOW)
    assert (chosen.branch, chosen.base) == ("mine", "theirs")


def test_outside_actions_git_says_the_branch_and_commit(tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "topic"], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "add", "f"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    found = identify(tmp_path, None, None, {}, NOW)
    assert (found.branch, found.base, found.commit) == ("topic", None, sha)
    assert len(found.run_key) == 32  # a fresh id per run


def test_a_pull_request_event_is_a_pull_request_unless_the_user_says_otherwise(
    tmp_path: Path,
) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1", "GITHUB_REF_NAME": "main"}
    assert not identify(tmp_path, None, None, env, NOW).pull_request
    for event in ("pull_request", "pull_request_target", "merge_group"):
        assert identify(tmp_path, None, None, {**env, "GITHUB_EVENT_NAME": event}, NOW).pull_request
    assert identify(tmp_path, None, None, {**env, "GITHUB_HEAD_REF": "x"}, NOW).pull_request
    assert not identify(
        tmp_path, None, None, {**env, "GITHUB_HEAD_REF": "x"}, NOW, pull_request=False
    ).pull_request
    assert identify(tmp_path, None, None, {}, NOW, pull_request=True).pull_request


def _git(path: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=path,
        check=True,
        capture_output=True,
    )


def test_a_pull_requests_changed_files_come_from_its_merge_commit(tmp_path: Path) -> None:
    """As actions/checkout leaves a pull request: a merge commit of the head into the base."""
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_old.py").write_text("def test_old():\n    pass\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    _git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "change")
    _git(tmp_path, "checkout", "-q", "main")
    (tmp_path / "README").write_text("base moved on\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base moves")
    _git(tmp_path, "merge", "-q", "--no-ff", "feature", "-m", "merge")
    event = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}
    assert changed_files(tmp_path, event) == {"tests/test_new.py"}
    assert changed_files(tmp_path / "tests", event) == {"tests/test_new.py"}  # from the root
    assert changed_files(tmp_path, {"GITHUB_EVENT_NAME": "push"}) == frozenset()
    assert changed_files(tmp_path.parent, event) == frozenset()  # no repository: nothing
