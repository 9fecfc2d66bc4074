"""The history commands (`test-gate history`, `quarantine suggest`) and the dashboard, from
validated settings to an exit code. Apart from `pipeline.py`: `gate`, `merge` and `run`
import the stores and the page only when a history is asked for."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from test_gate.across_runs import today
from test_gate.analyse.history import failing_since, flakiest, flips
from test_gate.pipeline import EXIT_PASS
from test_gate.publish import github
from test_gate.publish.history import MAX_MERGED, merge_stores
from test_gate.read.history import History, Lane, display, latest_lane, load_history, load_lanes
from test_gate.read.quarantine import Quarantine
from test_gate.read.store import HistoryUnusable
from test_gate.read.url import is_url
from test_gate.render import dashboard, history_report
from test_gate.settings import UsageError


def store_source(file: str) -> Path | str:
    """FILE of the history commands: a file that must be there, or a PostgreSQL URL."""
    if is_url(file):
        return file
    if not Path(file).is_file():
        raise UsageError(f"FILE: {file!r} is not a file; give the history store (--history)")
    return Path(file)


def _stored(file: str, branch: str | None, lane: str | None, window: int) -> tuple[History, Lane]:
    """A history store as `test-gate history` reads it, and the lane read: the newest run's
    branch and lane unless named."""
    source = store_source(file)
    try:
        latest = latest_lane(source)
        if latest is None:
            raise UsageError(f"FILE: {display(source)} holds no runs yet")
        chosen = Lane(branch or latest[0], None, lane or latest[1])
        return load_history(source, chosen, window, (), trend=window), chosen
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None


def show_history(
    file: str,
    branch: str | None,
    lane: str | None,
    window: int,
    as_json: bool,
    threshold: Decimal = Decimal(98),
) -> int:
    """`test-gate history FILE`: the trend, the flakiest tests and the newest failures."""
    history, chosen = _stored(file, branch, lane, window)
    text = history_report.report(
        chosen.branch,
        chosen.lane,
        history.runs,
        flakiest(flips(history.ran, history.results)),
        failing_since(history.window, history.results),
        as_json,
        threshold,
    )
    with github.output_guard():  # test ids come from the project
        print(text, end="")
    return EXIT_PASS


def merge_history(file: str, other: str, keep: int, as_json: bool) -> int:
    """`test-gate history FILE --merge-from OTHER`: FILE takes the runs of OTHER it lacks."""
    target, source = Path(file), Path(other)
    if is_url(file) or is_url(other):
        raise UsageError("--merge-from: merges two history files; a PostgreSQL store loses no run")
    try:
        merged = merge_stores(target, source, keep)
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None
    older = f"; {merged.left_out} older run(s) left out (at most {MAX_MERGED} a merge)"
    with github.output_guard():  # the paths are the caller's
        if as_json:
            found = {"added": merged.added, "runs": merged.runs, "left_out": merged.left_out}
            print(json.dumps(found))
        else:
            print(
                f"history {file}: {merged.added} run(s) added from {other}; "
                f"{merged.runs} run(s) in all{older if merged.left_out else ''}"
            )
    return EXIT_PASS


MAX_LANES = 50  # lanes on the dashboard, the most recently run first


def write_dashboard(file: str, directory: Path, window: int, quarantine: Quarantine | None) -> int:
    """`test-gate history FILE --html DIR`: one self-contained page of every lane."""
    source = store_source(file)
    try:
        lanes = load_lanes(source, window, MAX_LANES)
    except HistoryUnusable as exc:
        raise UsageError(str(exc)) from None
    views = [
        dashboard.LaneView(
            lane,
            flakiest(flips(lane.ran, lane.results), dashboard.MAX_STRIPS),
            tuple(failing_since(lane.runs, lane.results)),
        )
        for lane in lanes
    ]
    page = dashboard.render(
        views,
        source=source.name if isinstance(source, Path) else display(source),
        generated=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        quarantine=quarantine.entries if quarantine else (),
        quarantine_file=quarantine.path if quarantine else "",
        today=today(),
    )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "index.html"
    target.write_text(page, encoding="utf-8", errors="backslashreplace")
    runs = sum(len(lane.runs) for lane in lanes)
    print(
        f"test-gate history: {target} ({len(lanes)} lane(s), {runs} run(s), "
        f"{len(page.encode()) // 1024} KiB)"
    )
    return EXIT_PASS


def suggest_quarantine(
    file: str, branch: str | None, lane: str | None, window: int, days: int
) -> int:
    """`test-gate quarantine suggest`: entries for the flakiest tests, to review and paste."""
    history, _ = _stored(file, branch, lane, window)
    ran = flips(history.ran, history.results)
    text = history_report.suggestions(
        flakiest(ran), len(history.window), today() + dt.timedelta(days=days)
    )
    with github.output_guard():
        print(text, end="")
    return EXIT_PASS
