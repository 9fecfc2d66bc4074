"""The history options, checked together: the store (a file or a PostgreSQL URL), the
policy over runs, the quarantine and the dashboard."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from test_gate.read.url import is_url, redacted
from test_gate.settings.values import (
    FailOn,
    UsageError,
    branch_name,
    output_file,
    parse_auto_bool,
    parse_count,
    parse_fail_on,
    parse_positive,
    parse_threshold,
    quarantine_file,
)

if TYPE_CHECKING:
    from test_gate.read.quarantine import Quarantine


@dataclass(frozen=True)
class HistorySettings:
    """The history store and the quarantine; everything off by default."""

    path: Path | None = None
    branch: str | None = None  # None: from GitHub Actions, else from git
    base: str | None = None  # None: the pull request's base, else the default branch
    fail_on: FailOn = "all"
    max_flaky_rate: Decimal | None = None
    window: int = 20
    keep: int = 200
    quarantine: Quarantine | None = None
    pull_request: bool | None = None  # None: from GitHub Actions' event
    max_quarantined: int | None = None
    require_stable: int | None = None  # the last N runs of the lane each met `threshold`
    threshold: Decimal = Decimal(98)
    dashboard: Path | None = None  # a directory: the dashboard is written there after the run
    url: str | None = None  # a PostgreSQL history, instead of the file

    @property
    def source(self) -> Path | str | None:
        """The store: a PostgreSQL URL, or a file."""
        return self.url or self.path

    @property
    def asked(self) -> bool:
        return (
            self.source is not None
            or self.quarantine is not None
            or (self.max_flaky_rate is not None)
        )


def history_settings(
    *,
    path: str | None,
    branch: str | None,
    base: str | None,
    fail_on: str,
    max_flaky_rate: str,
    window: str,
    keep: str,
    quarantine: str | None,
    pull_request: str = "auto",
    max_quarantined: str = "none",
    require_stable: str = "none",
    threshold: Decimal = Decimal(98),
    dashboard: str = "",
    url_env: str = "",
    env: Mapping[str, str] | None = None,
) -> HistorySettings:
    url = history_url(path, url_env, os.environ if env is None else env)
    history = None if url or (path and is_url(path)) else output_file(path, "--history")
    chosen = parse_fail_on(fail_on)
    if chosen == "new" and history is None and url is None:
        raise UsageError(
            "--fail-on: 'new' needs --history FILE: a failure is new against the runs before"
        )
    size = parse_positive(window, "--window", "runs")
    kept = parse_positive(keep, "--keep-runs", "runs")
    stable = parse_count(require_stable, "--require-stable", allow_none=True) or None
    if stable is not None and history is None and url is None:
        raise UsageError(
            "--require-stable: needs --history FILE: the runs before this one are read there"
        )
    if stable is not None and stable > size:
        raise UsageError(
            f"--require-stable: {stable} runs is more than the --window of {size}; raise "
            "--window to at least that"
        )
    rate = (
        None
        if max_flaky_rate.strip().lower() in ("", "none")
        else parse_threshold(max_flaky_rate, "--max-flaky-rate")
    )
    return HistorySettings(
        path=history,
        branch=branch_name(branch, "--branch"),
        base=branch_name(base, "--base-branch"),
        fail_on=chosen,
        max_flaky_rate=rate,
        window=size,
        keep=kept,
        quarantine=quarantine_file(quarantine),
        pull_request=parse_auto_bool(pull_request, "--pull-request"),
        max_quarantined=parse_count(max_quarantined, "--max-quarantined", allow_none=True),
        require_stable=stable,
        threshold=threshold,
        dashboard=_dashboard(dashboard, history or url),
        url=url,
    )


def history_url(path: str | None, url_env: str, env: Mapping[str, str]) -> str | None:
    """A PostgreSQL history: given as --history (it then shows in the process list), or,
    better, named by --history-url-env, the environment variable that holds it (a secret)."""
    from_env = env.get(url_env, "").strip() if url_env else ""
    if path and from_env:
        raise UsageError(
            f"--history-url-env: {url_env} holds a history URL, and --history names one too; "
            "give one of them"
        )
    text = from_env or (path or "")
    if not is_url(text):
        if from_env:
            raise UsageError(
                f"--history-url-env: {url_env} does not hold a postgresql:// or postgres:// URL"
            )
        return None
    if not urlsplit(text).path.strip("/"):
        raise UsageError(
            f"--history: {redacted(text)} names no database (postgresql://host/DATABASE)"
        )
    return text


def _dashboard(text: str, history: Path | str | None) -> Path | None:
    if not text:
        return None
    if history is None:
        raise UsageError("--dashboard: needs --history FILE: the dashboard shows what it holds")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--dashboard: {text!r} is not a directory; give one to write into")
    return path
