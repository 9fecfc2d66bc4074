"""Nothing a test, a quarantine file or a history store holds can act as a workflow command
in a runner: every line test-gate prints goes through one filter, in every form a runner
reads (`::cmd` after blanks, `##[cmd]` anywhere), on stdout and on stderr. Only test-gate's
own commands pass: its stop-commands window and its annotations."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from conftest import clean_env, cli, write_tree
from stored_run import stored_run
from workflow_commands import commands

from test_gate.publish import history as store
from test_gate.read.history_runs import RunEntry

TOKEN = re.compile(r"[0-9a-f]{32}")
FORGED = "##[error title=forged]forged ::error::forged"


def _runner(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "gh").mkdir(exist_ok=True)
    return clean_env(
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(tmp_path / "gh" / "summary.md"),
        GITHUB_OUTPUT=str(tmp_path / "gh" / "output"),
    )


def _only_our_own(output: str) -> None:
    for name, line in commands(output):
        if name == "stop-commands" or TOKEN.fullmatch(name):
            continue
        assert name in ("error", "warning", "notice"), line
        assert line.strip().startswith(f"::{name} title="), line  # an annotation of ours


def test_a_quarantine_files_values_never_issue_a_command(tmp_path: Path) -> None:
    suite = write_tree(tmp_path / "project", {"tests/test_a.py": "def test_a():\n    pass\n"})
    for key, value in [
        ("expires", f'"{FORGED}"'),
        ("owner", '"::error::forged\\n::warning::forged"'),
        ("id", f'"{FORGED}"\nid = "again"'),
    ]:
        fields = {"id": '"t.py::x"', "reason": '"r"', "owner": '"@o"', "expires": "2999-01-01"}
        fields[key] = value
        quarantine = tmp_path / "q.toml"
        quarantine.write_text("[[test]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))
        done = cli("run", str(suite), "--quarantine", str(quarantine), env=_runner(tmp_path))
        assert done.returncode == 2, done.stdout + done.stderr
        _only_our_own(done.stdout + "\n" + done.stderr)


def _entry(nodeid: str, outcome: str) -> RunEntry:
    run = stored_run(
        commit_sha="a" * 40, lane="lane", cell="", verdict="fail", pass_rate=0.0, failed=1,
        collected=1,
    )  # fmt: skip
    return RunEntry(run, [("", nodeid, outcome, 1, 3, None)])


def test_a_stored_test_id_never_issues_a_command(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    store.record_run(history, _entry(f"t.py::test[{FORGED}]", "failed"), 200)
    for argv in (
        ("history", str(history)),
        ("history", str(history), "--branch", FORGED),
        ("quarantine", "suggest", "--history", str(history)),
    ):
        done = cli(*argv, env=_runner(tmp_path))
        assert "Traceback" not in done.stderr
        _only_our_own(done.stdout + "\n" + done.stderr)


SUITE = {
    "tests/test_hostile.py": """
        import pytest

        @pytest.mark.parametrize("x", [1], ids=["##[error title=forged]forged"])
        def test_named(x):
            print("::error::forged from a test")
            print("  ##[warning]forged from a test")
            assert 0, "::error::forged in a message"

        def test_ok():
            pass
    """,
}


def test_test_ids_and_messages_never_issue_a_command(tmp_path: Path) -> None:
    suite = write_tree(tmp_path / "project", SUITE)
    done = cli(
        "run", str(suite), "--python", sys.executable, "--diagnose", "true", env=_runner(tmp_path)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "forged" in done.stdout
    _only_our_own(done.stdout + "\n" + done.stderr)
