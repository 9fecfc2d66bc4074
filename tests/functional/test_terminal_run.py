"""What the terminal says after a real run of a failing project: each failing test once, with
what the diagnosis found; the skipped and xfailed tests by their reasons (the marker's, not
the assertion's); one fraction that is the rate's."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import cli, write_tree
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
