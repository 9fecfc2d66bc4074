"""Which run this is, for the history: from GitHub Actions' environment, else from git."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from test_gate.read.identity import identify

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
