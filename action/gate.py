"""Run test-gate from the action's checked-out source, with its two pinned dependencies from
a folder of their own (the first argument). Nothing goes through PYTHONPATH, so nothing of the
gate reaches the interpreter that runs the tests."""

import sys
from pathlib import Path

ACTION = Path(__file__).resolve().parent.parent
sys.path[:0] = [sys.argv[1], str(ACTION / "src"), str(ACTION / "pytest-test-gate" / "src")]
del sys.argv[1]

from test_gate.cli import main  # noqa: E402

raise SystemExit(main())
