"""`test-gate`: the command line. Parses and validates the arguments into settings, then hands
them to a pipeline. Exit 0 pass, 1 fail, 2 bad usage. One module per group of commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from test_gate import __version__, pipeline
from test_gate.cli import gate, history, options, run
from test_gate.cli.run import diagnose_settings
from test_gate.publish import console, github
from test_gate.render.annotation import Annotation
from test_gate.run.cancel import Cancelled, cancellation
from test_gate.settings import UsageError

__all__ = ["build_parser", "diagnose_settings", "main"]

Command = Callable[[argparse.Namespace, Sequence[str]], int]
AddParser = Callable[["argparse._SubParsersAction[options.Parser]"], None]

COMMANDS: dict[str, tuple[AddParser, Command]] = {
    "run": (run.add_run, run.run),
    "gate": (gate.add_gate, gate.gate),
    "merge": (gate.add_merge, gate.merge),
    "history": (history.add_history, history.history),
    "quarantine": (history.add_quarantine, history.quarantine),
    "ignored": (run.add_ignored, run.ignored),
    "install-plugins": (run.add_install, run.install),
}
TAKE_PYTEST_ARGS = ("run", "ignored")


def build_parser() -> options.Parser:
    parser = options.Parser(
        prog="test-gate", description="A truthful quality gate for pytest runs."
    )
    parser.add_argument("--version", action="version", version=f"test-gate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=options.Parser)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def _subparser(parser: options.Parser, command: str) -> options.Parser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: options.Parser = action.choices[command]
            return found
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text from tests may hold undecodable bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    console.survive()  # a terminal that went away does not stop a run
    github.guard_streams()  # in a runner, nothing printed can act as a workflow command
    words = list(sys.argv[1:] if argv is None else argv)
    if not words:  # a bare `test-gate`: what it can do
        print(build_parser().format_help(), end="")
        return pipeline.EXIT_USAGE
    extra: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, extra = words[:at], words[at + 1 :]
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(words)
        if unknown:
            raise options.unknown_words(_subparser(parser, args.command), args.command, unknown)
        if extra and args.command not in TAKE_PYTEST_ARGS:
            raise UsageError(f"{args.command}: takes no pytest arguments after `--`")
        with cancellation():
            return COMMANDS[args.command][1](args, extra)
    except Cancelled as cancelled:
        print(f"test-gate: cancelled ({cancelled.name})", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
    except UsageError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "bad usage"
        print(f"test-gate: error: {message}", file=sys.stderr, flush=True)
        if github.in_actions():
            github.annotate([Annotation("error", message, title="test-gate: bad input")])
        return pipeline.EXIT_USAGE
    except github.GitHubError as exc:
        print(f"test-gate: error: {exc}", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
    except OSError as exc:  # a file test-gate must write or read: one line, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"test-gate: error: {where}{exc.strerror or exc}", file=sys.stderr, flush=True)
        return pipeline.EXIT_FAIL
