"""`test-gate`: the command line. Parses, validates, then runs the pipeline:
pytest -> report -> verdict -> render -> outputs. Exit 0 pass, 1 fail, 2 bad usage."""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from test_gate import __version__, audit, diagnosis_run, github
from test_gate import ignored as ignored_paths
from test_gate.diagnose import Diagnosis
from test_gate.pytest_run import (
    check_plugins,
    default_python,
    draw_seed,
    install_plugins,
    run_pytest,
)
from test_gate.records import RunData
from test_gate.render import annotations as notes
from test_gate.render import diagnosis as diagnosis_view
from test_gate.render import ignored as ignored_render
from test_gate.render import markdown, terminal
from test_gate.render.result import rate_number, result
from test_gate.report import ReportError, load_json, merge, read_report
from test_gate.settings import (
    Outputs,
    RunSettings,
    UsageError,
    existing_dir,
    output_file,
    parse_bool,
    parse_count,
    parse_pytest_args,
    parse_seed,
    parse_threshold,
)
from test_gate.verdict import Policy, Verdict, decide

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
PLUGINS_FILE = Path(__file__).parent / "pytest_plugins.txt"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", default="98", help="minimum pass rate in percent (98)")
    parser.add_argument(
        "--allow-no-tests",
        nargs="?",
        const="true",
        default="false",
        help="an empty run passes instead of failing; also --allow-no-tests=true|false",
    )
    parser.add_argument(
        "--max-ignored",
        default="none",
        help="fail when more test files than this are ignored (default: none, report only)",
    )
    parser.add_argument("--result-file", help="write the result JSON here")
    parser.add_argument("--summary-file", help="write the Markdown summary here")
    parser.add_argument(
        "--github",
        default="auto",
        help="write step summary, outputs and annotations: true, false or auto "
        "(auto: when GITHUB_ACTIONS=true)",
    )
    parser.add_argument("--annotations", default="true", help="add annotations (true)")
    parser.add_argument("--step-summary", default="true", help="write the job summary (true)")
    parser.add_argument(
        "--fail-on-gate",
        default="true",
        help="false: report only, exit 0 when the gate fails on policy "
        "(never when the data is missing or contradictory)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="test-gate", description="A truthful quality gate for pytest runs.")
    parser.add_argument("--version", action="version", version=f"test-gate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run pytest and gate the result")
    run.add_argument("path", nargs="?", default=".", help="directory pytest runs in (.)")
    run.add_argument(
        "--path", dest="path_option", help="the same as PATH; safe for a value starting with -"
    )
    run.add_argument("--seed", default="random", help="random-order seed, or 'random' (random)")
    run.add_argument("--reruns", default="2", help="reruns of a failed test (2)")
    run.add_argument("--python", help="interpreter that runs the tests (python on PATH)")
    run.add_argument("--pytest-args", default="", help="extra pytest arguments, one string")
    run.add_argument("--report-file", help="where pytest writes its JSON report")
    diagnosis_run.add_options(run)
    _policy_options(run)

    gate = sub.add_parser("gate", help="gate existing pytest-json-report files")
    gate.add_argument("reports", nargs="+", help="JSON report files")
    _policy_options(gate)

    audit.add_parser(sub)

    install = sub.add_parser("install-plugins", help="install the pinned pytest plugins")
    install.add_argument("--python", help="interpreter to install into (python on PATH)")
    install.add_argument("--print", action="store_true", help="only print the pinned list")
    return parser


def _outputs(args: argparse.Namespace) -> Outputs:
    github_mode = str(args.github).strip().lower()
    if github_mode == "auto":
        use_github = github.in_actions()
    else:
        use_github = parse_bool(args.github, "--github")
    return Outputs(
        result_file=output_file(args.result_file, "--result-file"),
        summary_file=output_file(args.summary_file, "--summary-file"),
        github=use_github,
        annotations=parse_bool(args.annotations, "--annotations"),
        step_summary=parse_bool(args.step_summary, "--step-summary"),
    )


def _policy(args: argparse.Namespace) -> Policy:
    return Policy(
        threshold=parse_threshold(args.threshold),
        allow_no_tests=parse_bool(args.allow_no_tests, "--allow-no-tests"),
        max_ignored=parse_count(args.max_ignored, "--max-ignored", allow_none=True),
    )


def _interpreter(text: str | None) -> str:
    """A relative path to an interpreter is made absolute: pytest runs in PATH, elsewhere.
    Not resolved: a venv's python is a symlink whose target would leave the venv."""
    if not text:
        return default_python()
    if os.sep in text or (os.altsep and os.altsep in text):
        return str(Path(text).absolute())
    return text


def run_settings(args: argparse.Namespace, extra: Sequence[str] = ()) -> RunSettings:
    """`extra`: the words after `--`, passed to pytest as they are."""
    reruns = parse_count(args.reruns, "--reruns")
    assert reruns is not None
    if args.path_option is not None and args.path != ".":
        raise UsageError("PATH: give the directory either as PATH or as --path, not both")
    path_option = "--path" if args.path_option is not None else "PATH"
    path_text = args.path_option if args.path_option is not None else args.path
    return RunSettings(
        path=existing_dir(path_text, path_option),
        policy=_policy(args),
        seed=parse_seed(args.seed),
        reruns=reruns,
        python=_interpreter(args.python),
        pytest_args=(*parse_pytest_args(args.pytest_args), *extra),
        report_file=output_file(args.report_file, "--report-file"),
        outputs=_outputs(args),
        fail_on_gate=parse_bool(args.fail_on_gate, "--fail-on-gate"),
    )


def _work_dir() -> Path:
    """Scratch space outside the workspace: the runner's temp dir, else the system's."""
    base = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="test-gate-", dir=base))


def _read(paths: Sequence[Path], run_id: str | None = None) -> RunData:
    runs = []
    for path in paths:
        try:
            runs.append(read_report(load_json(path), run_id=run_id, source=str(path)))
        except ReportError as exc:
            runs.append(RunData(tests=(), problems=(str(exc),), sources=(str(path),)))
    return merge(runs)


def _annotation_prefix(run: RunData) -> str:
    """Test paths are relative to pytest's rootdir; annotations want the repository root."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace or not run.root:
        return ""
    try:
        rel = Path(run.root).resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return ""
    return "" if str(rel) == "." else rel.as_posix() + "/"


def _prefixed(items: list[notes.Annotation], prefix: str) -> list[notes.Annotation]:
    if not prefix:
        return items
    return [replace(a, file=posixpath.normpath(prefix + a.file)) if a.file else a for a in items]


def _github_outputs(
    verdict: Verdict, files: dict[str, Path | None], seed: int | None
) -> dict[str, str]:
    c = verdict.counts
    rate = rate_number(verdict)
    return {
        "verdict": verdict.label,
        "pass-rate": "" if rate is None else f"{rate:.2f}",
        "passed": str(c.passed),
        "failed": str(c.failed),
        "errors": str(c.error),
        "skipped": str(c.skipped),
        "flaky": str(c.flaky),
        "seed": "" if seed is None else str(seed),
        "ignored": str(ignored_paths.ignored_files(verdict.ignored)),
        **{name: str(path) if path else "" for name, path in files.items()},
    }


def _summary_limit(outputs: Outputs) -> int:
    """Room left under GitHub's per-step summary limit, keeping a floor for the verdict."""
    if not (outputs.github and outputs.step_summary):
        return markdown.SUMMARY_LIMIT
    return max(20_000, markdown.SUMMARY_LIMIT - github.summary_size())


def publish(
    verdict: Verdict,
    run: RunData,
    outputs: Outputs,
    *,
    command: str | None,
    seed: int | None,
    report_file: Path | None,
    work_dir: Path,
    diagnosis: Diagnosis | None = None,
    reproduce: dict[int, str] | None = None,
) -> None:
    """Write every output the user asked for; print the terminal block."""
    result_file = outputs.result_file or work_dir / "result.json"
    summary_file = outputs.summary_file or work_dir / "summary.md"
    diagnosis_sections = [
        s
        for s in (
            diagnosis_view.unreachable_section(verdict.failures),
            diagnosis and diagnosis_view.diagnosis_section(diagnosis, seed),
            diagnosis and diagnosis_view.order_section(diagnosis, reproduce or {}),
        )
        if s
    ]
    page = markdown.render(
        verdict,
        command,
        extra=ignored_render.sections(run),
        position=ignored_render.position(verdict),
        after_failures=diagnosis_sections,
        limit=_summary_limit(outputs),
    )
    keys = {
        **ignored_render.result_extra(run),
        **diagnosis_view.result_keys(diagnosis, verdict.failures, reproduce or {}),
    }
    data = result(verdict, command=command, extra=keys)
    for path, text in (
        (result_file, json.dumps(data, indent=2) + "\n"),
        (summary_file, page),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="backslashreplace")
    print(f"  result: {result_file}\n  summary: {summary_file}")
    if not outputs.github:
        return
    if outputs.step_summary:
        github.append_summary(page)
    github.set_outputs(
        _github_outputs(
            verdict,
            {"result-file": result_file, "report-file": report_file, "summary-file": summary_file},
            seed,
        )
    )
    if outputs.annotations:
        extra_notes = [
            *ignored_render.warnings_for(run),
            *diagnosis_view.notices(diagnosis, verdict.failures),
        ]
        github.annotate(
            _prefixed(notes.from_verdict(verdict, extra_notes), _annotation_prefix(run))
        )


def _exit_code(verdict: Verdict, fail_on_gate: bool) -> int:
    if verdict.passed:
        return EXIT_PASS
    if not fail_on_gate and not verdict.blind:
        print("test-gate: report-only mode (--fail-on-gate false): the gate failed, exit code 0")
        return EXIT_PASS
    return EXIT_FAIL


def cmd_run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    settings = run_settings(args, extra)
    diag = diagnosis_run.settings_from(args)
    check_plugins(settings.python, settings.path)
    seed = settings.seed if settings.seed is not None else draw_seed()
    work_dir = _work_dir()
    report_file = settings.report_file or work_dir / "report.json"
    print(f"test-gate: seed {seed}, reruns {settings.reruns}, in {settings.path}", flush=True)
    # pytest's output and ours stay inept as workflow commands whenever a runner reads them
    with github.output_guard(settings.outputs.github):
        done = run_pytest(
            path=settings.path,
            python=settings.python,
            user_args=settings.pytest_args,
            seed=seed,
            reruns=settings.reruns,
            report_file=report_file,
        )
        run = replace(_read([report_file], run_id=done.run_id), exit_code=done.exit_code)
        run = ignored_paths.attribute(run)
        if run.seed not in (None, str(seed)):
            run = replace(
                run,
                problems=(
                    *run.problems,
                    f"the report's random-order seed {run.seed} is not the seed {seed} "
                    "test-gate asked for: the order cannot be reproduced",
                ),
            )
        run = replace(run, seed=str(seed))
        verdict = decide(run, settings.policy)
        diagnosis, reproduce = diagnosis_run.after_main_run(
            diag, settings, run, seed, done.command, work_dir, main_seconds=done.duration
        )
        print(terminal.render(verdict, done.command), end="", flush=True)
        print(ignored_render.terminal_lines(run), end="", flush=True)
        if diagnosis is not None:
            print(diagnosis_view.terminal_lines(diagnosis), end="", flush=True)
    publish(
        verdict,
        run,
        settings.outputs,
        command=done.command,
        seed=seed,
        report_file=report_file,
        work_dir=work_dir,
        diagnosis=diagnosis,
        reproduce=reproduce,
    )
    return _exit_code(verdict, settings.fail_on_gate)


def cmd_gate(args: argparse.Namespace, extra: Sequence[str]) -> int:
    policy = _policy(args)
    outputs = _outputs(args)
    fail_on_gate = parse_bool(args.fail_on_gate, "--fail-on-gate")
    run = ignored_paths.attribute(_read([Path(p) for p in args.reports]))
    verdict = decide(run, policy)
    with github.output_guard(outputs.github):
        print(terminal.render(verdict), end="", flush=True)
        print(ignored_render.terminal_lines(run), end="", flush=True)
    publish(
        verdict,
        run,
        outputs,
        command=None,
        seed=None,
        report_file=Path(args.reports[0]),
        work_dir=_work_dir(),
    )
    return _exit_code(verdict, fail_on_gate)


def cmd_install_plugins(args: argparse.Namespace, extra: Sequence[str]) -> int:
    if args.print:
        print(PLUGINS_FILE.read_text(encoding="utf-8"), end="")
        return EXIT_PASS
    code = install_plugins(args.python or default_python(), PLUGINS_FILE)
    return EXIT_PASS if code == 0 else EXIT_FAIL


COMMANDS = {
    "run": cmd_run,
    "gate": cmd_gate,
    "ignored": audit.cmd_ignored,
    "install-plugins": cmd_install_plugins,
}


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text from tests may hold undecodable bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    words = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, extra = words[:at], words[at + 1 :]
    try:
        args = build_parser().parse_args(words)
        if extra and args.command not in ("run", "ignored"):
            raise UsageError(f"{args.command}: takes no pytest arguments after `--`")
        return COMMANDS[args.command](args, extra)
    except UsageError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "bad usage"
        print(f"test-gate: error: {message}", file=sys.stderr, flush=True)
        if github.in_actions():
            github.annotate([notes.Annotation("error", message, title="test-gate: bad input")])
        return EXIT_USAGE
    except github.GitHubError as exc:
        print(f"test-gate: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAIL
    except OSError as exc:  # a file test-gate must write or read: one line, never a traceback
        where = f" {exc.filename}" if exc.filename else ""
        print(f"test-gate: error:{where}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return EXIT_FAIL
