"""The command line through a subprocess: validation, `gate` on reports, GitHub outputs."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from conftest import GateRun, clean_env, cli

Project = Callable[[Mapping[str, str]], Path]
Run = Callable[..., GateRun]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--threshold", "abc"], "--threshold"),
        (["--threshold", "nan"], "--threshold"),
        (["--threshold", "-1"], "--threshold"),
        (["--threshold", "100.5"], "--threshold"),
        (["--threshold", "98%%"], "--threshold"),
        (["--seed", "-3"], "--seed"),
        (["--seed", "1.5"], "--seed"),
        (["--reruns", "two"], "--reruns"),
        (["--max-ignored", "-1"], "--max-ignored"),
        (["--fail-on-gate", "maybe"], "--fail-on-gate"),
        (["--pytest-args", "'unbalanced"], "--pytest-args"),
        (["--python", "/nonexistent/python"], "--python"),
        (["/no/such/dir"], "PATH"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], option: str, tmp_path: Path) -> None:
    proc = cli("run", *args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("test-gate: error: ")
    assert option in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["98", "98.5", "98%", " 97.25 % ", "0", "100"])
def test_threshold_forms_are_accepted(value: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text('{"exitcode": 5, "tests": []}')
    proc = cli("gate", str(empty), "--threshold", value)
    assert proc.returncode == 1  # nothing ran, but the option was fine
    assert "no test was attempted" in proc.stdout


def test_a_mistyped_report_path_is_bad_input_named_in_one_line(tmp_path: Path) -> None:
    proc = cli("gate", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"test-gate: error: REPORT: '{tmp_path / 'nope.json'}' cannot be read: it does not "
        "exist; give the JSON file pytest-json-report wrote"
    ]


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli("run", "--colour", "red", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--colour" in proc.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"tests": [{"nodeid": "a", "outcome": "passed"', "not valid JSON"),
        ("", "not valid JSON"),
        ('["not", "a", "report"]', "not a pytest-json-report file"),
        ('{"summary": {}}', "not a pytest-json-report file"),
        ('{"tests": [], "exitcode": 0}', "no test was attempted"),
    ],
)
def test_gate_fails_on_malformed_reports(content: str, needle: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(content)
    result = tmp_path / "result.json"
    proc = cli("gate", str(report), "--result-file", str(result))
    assert proc.returncode == 1
    data = json.loads(result.read_text())
    assert data["verdict"] == "fail"
    assert any(needle in r for r in data["reasons"]), data["reasons"]


def test_gate_reads_reports_made_elsewhere(project: Project, tmp_path: Path) -> None:
    root = project(
        {
            "test_a.py": """
                calls = []
                def test_flaky():
                    calls.append(1)
                    assert len(calls) > 1
                def test_ok(): pass
                def test_bad(): assert 0
            """
        }
    )
    report = tmp_path / "plain.json"
    import subprocess

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:random_order",
            "--reruns=1",
            "--json-report",
            f"--json-report-file={report}",
            "-q",
        ],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        check=False,
    )
    result = tmp_path / "result.json"
    proc = cli("gate", str(report), "--result-file", str(result), "--threshold", "60")
    data = json.loads(result.read_text())
    # without our plugin the report says `rerun` for the flaky test: still counted as passed
    assert data["counts"]["passed"] == 2 and data["counts"]["failed"] == 1
    assert data["counts"]["flaky"] == 1
    assert proc.returncode == 0, proc.stdout
    assert data["pass_rate"] == 66.66


def test_gate_merges_shards_and_refuses_overlap(
    project: Project, gate_run: Run, tmp_path: Path
) -> None:
    root = project({"test_a.py": "def test_a(): pass\n", "test_b.py": "def test_b(): pass\n"})
    reports = []
    for name in ("test_a.py", "test_b.py"):
        report = tmp_path / f"{name}.json"
        run = gate_run(root, "--report-file", str(report), "--", name)
        assert run.code == 0
        reports.append(str(report))
    result = tmp_path / "merged.json"
    proc = cli("gate", *reports, "--result-file", str(result))
    assert proc.returncode == 0
    assert json.loads(result.read_text())["counts"]["passed"] == 2
    proc = cli("gate", reports[0], reports[0], "--result-file", str(result))
    assert proc.returncode == 1
    assert "more than one report" in proc.stdout


def test_report_only_mode(project: Project, gate_run: Run) -> None:
    root = project({"test_a.py": "def test_a(): assert 0\ndef test_b(): pass\n"})
    run = gate_run(root, "--fail-on-gate", "false", "--reruns", "0")
    assert run.code == 0 and run.result["verdict"] == "fail"
    # but never 0 when the gate could not see the truth
    empty = gate_run(root, "--fail-on-gate", "false", "--", "-k", "nothing_matches")
    assert empty.code == 1


def test_github_outputs_summary_and_guarded_output(project: Project, tmp_path: Path) -> None:
    root = project(
        {
            "test_evil.py": """
                def test_prints_commands():
                    print("::warning::pwned")
                    print("::set-output name=verdict::pass")
                    assert False, "boom | <b>bold</b> %0A"
                def test_ok(): pass
            """
        }
    )
    out, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(out),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_WORKSPACE=str(root.parent),
        RUNNER_TEMP=str(tmp_path),
    )
    proc = cli("run", str(root), "--python", sys.executable, "--reruns", "0", env=env)
    assert proc.returncode == 1
    stdout = proc.stdout
    token = re.search(r"^::stop-commands::(\w+)$", stdout, flags=re.M)
    assert token, stdout
    start, end = token.end(), stdout.index(f"::{token.group(1)}::")
    assert "::warning::pwned" in stdout[start:end]
    after = stdout[end:].split("\n", 1)[1]
    # after the window only our own commands, each one line with its data escaped
    commands = [ln for ln in after.splitlines() if ln.lstrip().startswith("::")]
    assert commands and all(re.match(r"::(error|warning|notice)[ :]", ln) for ln in commands)
    assert not any(
        ln.strip() in ("::warning::pwned", "::set-output name=verdict::pass")
        for ln in after.splitlines()
    )
    error = re.search(r"^::error (.*?)::(.*)$", after, flags=re.M)
    assert error
    assert "file=project/test_evil.py" in after
    outputs = out.read_text()
    assert re.search(r"^verdict<<ghadelimiter_[-\w]+\nfail\n", outputs, flags=re.M)
    assert re.search(r"^passed<<ghadelimiter_[-\w]+\n1\n", outputs, flags=re.M)
    page = summary.read_text()
    assert "❌ test-gate failed" in page
    outside_code = re.sub(r"^ *(`{3,})text\n.*?^ *\1$", "", page, flags=re.M | re.S)
    assert "<b>" not in outside_code and "&lt;b&gt;" in outside_code


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_a_report_file_that_is_a_device_is_refused_and_kept(tmp_path: Path) -> None:
    proc = cli("run", str(tmp_path), "--report-file", "/dev/null")
    assert proc.returncode == 2
    assert "--report-file: '/dev/null' is not a regular file" in proc.stderr
    assert Path("/dev/null").is_char_device()


def test_a_bare_command_prints_usage() -> None:
    proc = cli()
    assert proc.returncode == 2
    assert proc.stdout.startswith("usage: test-gate")


def test_pytest_arguments_before_the_separator_get_a_hint(tmp_path: Path) -> None:
    proc = cli("run", "-k", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unrecognized arguments: -k; pytest's own arguments go after `--`" in proc.stderr
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n")
    proc = cli("run", "test_a.py", cwd=tmp_path)
    assert "is a file; give the directory to run in, and test paths after `--`" in proc.stderr


def test_run_help_shows_where_pytest_arguments_go() -> None:
    assert "[-- PYTEST_ARGS ...]" in cli("run", "--help").stdout


def test_an_interpreter_that_is_a_directory_is_named_so(tmp_path: Path) -> None:
    proc = cli("run", str(tmp_path), "--python", str(tmp_path))
    assert proc.returncode == 2
    assert "is a directory; give the interpreter in it" in proc.stderr


def test_a_missing_plugin_is_named_by_its_package(tmp_path: Path) -> None:
    import venv

    venv.create(tmp_path / "bare", with_pip=False)
    python = tmp_path / "bare" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    proc = cli("run", str(tmp_path), "--python", str(python))
    assert proc.returncode == 2
    assert (
        "lacks pytest, pytest-json-report, pytest-random-order, pytest-rerunfailures, "
        "pytest-test-gate; install the pinned plugins with `test-gate install-plugins --python"
    ) in proc.stderr


def test_gate_leaves_no_scratch_folder_behind(tmp_path: Path) -> None:
    report = tmp_path / "empty.json"
    report.write_text('{"exitcode": 5, "tests": []}')
    scratch = tmp_path / "runner-temp"
    scratch.mkdir()
    out = tmp_path / "out"
    proc = cli(
        "gate",
        str(report),
        f"--result-file={out / 'result.json'}",
        f"--summary-file={out / 'summary.md'}",
        env=clean_env(RUNNER_TEMP=str(scratch)),
    )
    assert proc.returncode == 1
    assert list(scratch.iterdir()) == []


def test_a_mistyped_option_gets_the_option_it_was_meant_to_be(tmp_path: Path) -> None:
    # the 90 would have been taken as PATH: the mistyped option is named first, nothing else
    proc = cli("run", "--treshold", "90", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "test-gate: error: --treshold: no such option of run; did you mean --threshold?"
    )
    proc = cli("gate", "--histroy=h.db", "report.json")
    assert "--histroy: no such option of gate; did you mean --history?" in proc.stderr
    proc = cli("merge", "--expect-shrads", "3", str(tmp_path))
    assert "did you mean --expect-shards?" in proc.stderr
