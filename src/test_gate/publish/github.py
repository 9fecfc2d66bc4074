"""The one module that talks to GitHub Actions: step summary, outputs, workflow commands.

Workflow commands and output files are written through actions-toolkit, whose escaping is right;
annotations pass only the properties that have values (the toolkit's own `error()` emits empty
ones), and outputs are never written through the deprecated `::set-output` fallback.

In a runner, every other line test-gate prints (stdout and stderr) goes through one filter,
`render.escape.inert`, so that no test id, message, file name or value read from a file can
act as a workflow command; the commands test-gate issues itself are the only ones written
past it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO, TextIO

from actions_toolkit.command import Command
from actions_toolkit.file_command import issue_file_command, prepare_key_value_message

from test_gate.render.annotation import Annotation
from test_gate.render.escape import inert


class GitHubError(Exception):
    pass


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def output_guard(writing: bool = False) -> AbstractContextManager[None]:
    """Stop workflow commands while test text is printed, whenever a runner reads the output
    (`writing`: GitHub outputs were asked for even outside GITHUB_ACTIONS)."""
    return commands_stopped() if writing or in_actions() else nullcontext()


class InertStream(io.TextIOBase):
    """A text stream whose every line is made inert before it reaches the runner. Lines
    are passed on whole (a command split across two writes is still seen), and a partial
    line when flushed; `command` writes past the filter."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = ""

    @property
    def buffer(self) -> BinaryIO:  # pytest's own output is forwarded as bytes, in a window
        return self.stream.buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        done, newline, rest = self.pending.rpartition("\n")
        if newline:
            self.stream.write(inert(done) + "\n")
            self.pending = rest
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(inert(self.pending))
            self.pending = ""
        self.stream.flush()

    def command(self, line: str) -> None:
        self.flush()
        self.stream.write(line + "\n")
        self.stream.flush()


def guard_streams() -> None:
    """In a runner, stdout and stderr pass every line through the inert filter."""
    if in_actions():
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, InertStream):
                setattr(sys, name, InertStream(stream))


def command(line: str) -> None:
    """A workflow command of test-gate's own, written past the filter."""
    stream = sys.stdout
    if isinstance(stream, InertStream):
        stream.command(line)
    else:
        stream.write(line + "\n")
        stream.flush()


@contextmanager
def commands_stopped() -> Iterator[None]:
    """Everything printed inside cannot issue workflow commands."""
    token = os.urandom(16).hex()  # as secrets.token_hex, without hashlib's import
    sys.stdout.flush()
    command(f"::stop-commands::{token}")
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout.write("\n")
        command(f"::{token}::")


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
        command(str(Command(item.level, props, item.message)))
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
