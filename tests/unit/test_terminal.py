"""The verdict block printed after pytest."""

from __future__ import annotations

from decimal import Decimal

from render_helpers import failing, result_of

from test_gate.analyse.verdict import Policy, decide
from test_gate.read.records import RunData
from test_gate.render import terminal


def test_terminal_block_is_short_and_names_the_reasons() -> None:
    text = terminal.render(result_of(failing(30), command="python -m pytest"))
    assert "test-gate FAILED: pass rate 0.00% (0 of 30), threshold 98%" in text
    assert "… and 20 more" in text
    assert "reproduce: python -m pytest" in text
    assert len(text.splitlines()) < 30
    assert decide(RunData(tests=(), exit_code=5), Policy(threshold=Decimal(1))).pass_rate is None
