"""The step outputs: names and values, as the action's `outputs:` declares them."""

from __future__ import annotations

from test_gate.analyse.result import GateResult
from test_gate.render.result_json import rate_number
from test_gate.settings import Outputs


def render(result: GateResult, settings: Outputs | None = None) -> dict[str, str]:
    verdict = result.verdict
    c = verdict.counts
    rate = rate_number(verdict)
    files = result.files
    return {
        "verdict": verdict.label,
        "pass-rate": "" if rate is None else f"{rate:.2f}",
        "passed": str(c.passed),
        "failed": str(c.failed),
        "errors": str(c.error),
        "skipped": str(c.skipped),
        "flaky": str(c.flaky),
        "seed": "" if result.seed is None else str(result.seed),
        "ignored": str(result.ignored_files),
        "result-file": str(files.result),
        "report-file": str(files.report) if files.report else "",
        "summary-file": str(files.summary),
        "junit-file": str(settings.junit_file) if settings and settings.junit_file else "",
        "ctrf-file": str(settings.ctrf_file) if settings and settings.ctrf_file else "",
    }
