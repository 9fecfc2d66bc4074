"""`test-gate ignored`: which test files never run, and why, without running any test.

pytest runs with `--collect-only` and the gate's plugin, which writes what it saw to a side file
(no JSON report plugin needed); the same attribution as `test-gate run` then finds each rule's line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from test_gate import github, ignored
from test_gate.pytest_run import PLUGIN_DIR, PLUGIN_MODULE, default_python
from test_gate.records import RunData
from test_gate.render import ignored as render
from test_gate.render.result import ignored_entry
from test_gate.report import read_unrun
from test_gate.settings import existing_dir, output_file, parse_count, parse_pytest_args

SIDECAR_ENV = "TEST_GATE_IGNORED_FILE"
OUTPUT_TAIL = 30


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    audit = sub.add_parser(
        "ignored", help="list the test files pytest never runs, and why, without running tests"
    )
    audit.add_argument("path", nargs="?", default=".", help="directory pytest runs in (.)")
    audit.add_argument("--python", help="interpreter that runs the tests (python on PATH)")
    audit.add_argument("--pytest-args", default="", help="extra pytest arguments, one string")
    audit.add_argument(
        "--max-ignored",
        default="none",
        help="exit 1 when more test files than this are ignored (default: none)",
    )
    audit.add_argument("--result-file", help="write the findings as JSON here")


def collect_argv(python: str, user_args: Sequence[str]) -> list[str]:
    return [python, "-m", "pytest", *user_args, "--collect-only", "-q", "-p", PLUGIN_MODULE]


def _collect(path: Path, python: str, user_args: Sequence[str]) -> tuple[RunData | None, str]:
    """Run pytest's collection with the plugin; (what it saw, or None, and pytest's output)."""
    with tempfile.TemporaryDirectory(prefix="test-gate-") as scratch:
        sidecar = Path(scratch) / "ignored.json"
        env = dict(os.environ)
        env[SIDECAR_ENV] = str(sidecar)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PLUGIN_DIR), env.get("PYTHONPATH", "")) if p
        )
        try:
            done = subprocess.run(
                collect_argv(python, user_args),
                cwd=path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            return None, f"{python} cannot be run: {exc.strerror}"
        output = (done.stdout + done.stderr).strip()
        if done.returncode not in (0, 5) or not sidecar.is_file():
            tail = "\n".join(output.splitlines()[-OUTPUT_TAIL:])
            return None, f"pytest exited with code {done.returncode}\n{tail}"
        try:
            section = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return None, f"the plugin's file cannot be read: {exc}"
    if not isinstance(section, dict):
        return None, "the plugin's file is malformed"
    return read_unrun(section), output


def cmd_ignored(args: argparse.Namespace, extra: Sequence[str]) -> int:
    path = existing_dir(args.path, "PATH")
    python = args.python or default_python()
    user_args = (*parse_pytest_args(args.pytest_args), *extra)
    limit = parse_count(args.max_ignored, "--max-ignored", allow_none=True)
    target = output_file(args.result_file, "--result-file")
    run, output = _collect(path, python, user_args)
    if run is None:
        with github.output_guard():  # pytest's output, and paths, come from the project
            print(
                f"test-gate ignored: pytest could not collect the tests, so the list would be "
                f"incomplete: {output}"
            )
        return 1
    run = ignored.attribute(run, ignored.Context.from_env())
    with github.output_guard():
        print(render.audit(run), end="")
    files = ignored.ignored_files(run.ignored)
    if target is not None:
        data = {
            "ignored": [ignored_entry(i) for i in run.ignored],
            **render.result_extra(run),
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if limit is not None and files > limit:
        print(
            f"test-gate ignored: {files} test file(s) are ignored, more than the allowed "
            f"{limit} (--max-ignored)"
        )
        return 1
    return 0
