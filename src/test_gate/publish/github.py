"""The one module that talks to GitHub Actions: step summary, outputs, workflow commands.

Workflow commands and output files are written through actions-toolkit, whose escaping is right;
annotations pass only the properties that have values (the toolkit's own `error()` emits empty
ones), and outputs are never written through the deprecated `::set-output` fallback.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from actions_toolkit.command import issue_command
from actions_toolkit.file_command import issue_file_command, prepare_key_value_message

from test_gate.render.annotation import Annotation


class GitHubError(Exception):
    pass


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def output_guard(writing: bool = False) -> AbstractContextManager[None]:
    """Stop workflow commands while test text is printed, whenever a runner reads the output
    (`writing`: GitHub outputs were asked for even outside GITHUB_ACTIONS)."""
    return commands_stopped() if writing or in_actions() else nullcontext()


@contextmanager
def commands_stopped() -> Iterator[None]:
    """Everything printed inside cannot issue workflow commands."""
    token = secrets.token_hex(16)
    sys.stdout.flush()
    print(f"::stop-commands::{token}", flush=True)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        print(f"\n::{token}::", flush=True)


def workspace_prefix(root: str, env: Mapping[str, str] | None = None) -> str:
    """pytest's rootdir relative to the repository (GITHUB_WORKSPACE), as a path prefix:
    test paths are relative to the rootdir, annotations to the repository."""
    workspace = (env if env is not None else os.environ).get("GITHUB_WORKSPACE")
    if not workspace or not root:
        return ""
    try:
        rel = Path(root).resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return ""
    return "" if str(rel) == "." else rel.as_posix() + "/"


def annotate(annotations: list[Annotation]) -> None:
    for item in annotations:
        props: dict[str, str] = {}
        if item.title:
            props["title"] = item.title
        if item.file:
            props["file"] = item.file
            if item.line:
                props["line"] = str(item.line)
        props.update(item.properties)
        issue_command(item.level, props, item.message)
    sys.stdout.flush()


def _env_file(name: str) -> Path:
    value = os.environ.get(name, "")
    if not value:
        raise GitHubError(f"{name} is not set: this is not a GitHub Actions step")
    path = Path(value)
    if not path.parent.is_dir():
        raise GitHubError(f"{name} points to {value}, whose directory does not exist")
    if path.is_dir():
        raise GitHubError(f"{name} points to {value}, which is a directory")
    path.touch(exist_ok=True)
    return path


def set_outputs(outputs: Mapping[str, str]) -> None:
    _env_file("GITHUB_OUTPUT")
    for name, value in outputs.items():
        issue_file_command("OUTPUT", prepare_key_value_message(name, value))


def summary_size() -> int:
    """Bytes this step already wrote to its summary: GitHub's limit counts them too."""
    value = os.environ.get("GITHUB_STEP_SUMMARY", "")
    try:
        return Path(value).stat().st_size if value else 0
    except OSError:
        return 0


def append_summary(markdown: str) -> None:
    path = _env_file("GITHUB_STEP_SUMMARY")
    with path.open("a", encoding="utf-8", errors="backslashreplace") as handle:
        handle.write(markdown)
