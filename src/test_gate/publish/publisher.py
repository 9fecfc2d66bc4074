"""Publishing a result: the result file, the summary file, and, in GitHub Actions, the job
summary, the step outputs and the annotations. Everything is rendered before anything is
written."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from test_gate.analyse.result import GateResult
from test_gate.publish import github
from test_gate.render import annotations as annotation_view
from test_gate.render import outputs, result_json, summary
from test_gate.render.annotation import Annotation
from test_gate.render.markdown import SUMMARY_LIMIT
from test_gate.settings import Outputs


def summary_limit(outputs: Outputs) -> int:
    """Room left under GitHub's per-step summary limit, keeping a floor for the verdict."""
    if not (outputs.github and outputs.step_summary):
        return SUMMARY_LIMIT
    return max(20_000, SUMMARY_LIMIT - github.summary_size())


@dataclass(frozen=True)
class Rendered:
    result_json: str
    summary: str
    outputs: dict[str, str]
    annotations: list[Annotation]
    junit: str = ""  # "" when not asked for
    ctrf: str = ""


def render(result: GateResult, settings: Outputs, now: float | None = None) -> Rendered:
    ended = time.time() if now is None else now
    interchange = {}
    if settings.junit_file:  # the XML writer is imported only when a JUnit file is asked for
        from test_gate.render import junit

        interchange["junit"] = junit.render(result, ended)
    if settings.ctrf_file:
        from test_gate.render import ctrf

        interchange["ctrf"] = ctrf.render(result, ended)
    return Rendered(
        result_json=result_json.render(result),
        summary=summary.render(result, summary_limit(settings)),
        outputs=outputs.render(result, settings),
        annotations=annotation_view.render(result),
        **interchange,
    )


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="backslashreplace")


def publish(result: GateResult, settings: Outputs) -> None:
    """Write every output the user asked for."""
    done = render(result, settings)
    write_file(result.files.result, done.result_json)
    write_file(result.files.summary, done.summary)
    print(f"  result: {result.files.result}\n  summary: {result.files.summary}")
    for path, text, name in (
        (settings.junit_file, done.junit, "junit"),
        (settings.ctrf_file, done.ctrf, "ctrf"),
    ):
        if path is not None:
            write_file(path, text)
            print(f"  {name}: {path}")
    if not settings.github:
        return
    if settings.step_summary:
        github.append_summary(done.summary)
    github.set_outputs(done.outputs)
    if settings.annotations:
        github.annotate(done.annotations)
