"""What the terminal says after a real run of a failing project: each failing test once, with
what the diagnosis found; the skipped and xfailed tests by their reasons (the marker's, not
the assertion's); one fraction that is the rate's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import clean_env, cli, write_tree
from summary_pages import FAILING


def test_the_terminal_names_each_test_once_and_the_skips_by_reason(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", FAILING)
    proc = cli("run", str(root), "--seed", "1", "--bucket", "none", "--python", sys.executable)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout[proc.stdout.index("= test-gate =") :]
    assert "test-gate FAILED: pass rate 71.42% (5 of 7), threshold 98%" in out
    assert "  5 passed, 2 failed, 1 skipped, 1 xfailed, 4 reruns, 9 collected" in out
    lines = out.splitlines()
    for test in ("test_money.py::test_rounding", "test_orders.py::test_invoice_total_in_default"):
        # listed once (its reproduce command names it again)
        assert sum(line.strip().startswith(f"tests/{test}") for line in lines) == 1, out
    assert "tests/test_money.py::test_rounding (broken)" in out
    assert "tests/test_orders.py::test_invoice_total_in_default_mode (order-dependent" in out
    at = lines.index("  skipped and xfailed, by reason:")
    assert sorted(lines[at + 1 : at + 3]) == [
        "    skipped: needs the payment sandbox (1)",
        "    xfailed: known bug 4711: negative zero (1)",
    ]
    # the diagnosis' progress lines say what happened, and leave the verdict to the block
    progress = [ln for ln in proc.stdout.splitlines() if ln.startswith("test-gate: diagnosis:")]
    assert (
        "test-gate: diagnosis: tests/test_money.py::test_rounding: run alone in a fresh "
        "process, it failed" in progress
    )
    assert not any(word in ln for ln in progress for word in ("broken", "flaky"))


def test_the_state_watchs_note_on_a_busy_temp_directory_reaches_every_output(
    tmp_path: Path,
) -> None:
    # a temp directory of a thousand entries that every test moves, as another process would
    busy = tmp_path / "busy"
    busy.mkdir()
    for number in range(1000):
        (busy / f"entry-{number}").touch()
    churn = "fd, name = tempfile.mkstemp()\n    os.close(fd)\n    os.remove(name)\n"
    root = write_tree(
        tmp_path / "project",
        {
            "test_busy.py": "import os\nimport tempfile\n\nimport pytest\n\n\n"
            f"@pytest.mark.parametrize('n', range(20))\ndef test_churn(n):\n    {churn}"
        },
    )
    result, summary = tmp_path / "result.json", tmp_path / "summary.md"
    proc = cli(
        *("run", str(root), "--seed", "1", "--python", sys.executable),
        *("--result-file", str(result), "--summary-file", str(summary)),
        env=clean_env(TMPDIR=str(busy)),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    note = "state watch: the temp directory ("
    assert f"  note: {note}" in proc.stdout
    assert "changed during 16 tests in a row (the tests or another process" in proc.stdout
    assert any(n.startswith(note) for n in json.loads(result.read_text())["notices"])
    assert f"> ℹ️ {note}" in summary.read_text()
