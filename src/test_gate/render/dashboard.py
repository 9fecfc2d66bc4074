"""The history as one static page people open: per branch and lane, the pass-rate and
flaky-rate trend (inline SVG), the flakiest tests with their flip rates, the failing tests and
since when, and a heat strip of each unstable test's outcome run by run; the quarantine with
its expiry dates; filters by branch and lane.

One file, no network: the styles, the charts and the few lines of script that filter are
inline. Every name from the store (a branch, a lane, a test id, a commit) is HTML-escaped
text, so a hostile one stays text.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from test_gate.analyse.history import Failing, TestFlips
from test_gate.analyse.verdict import percent_text
from test_gate.read.history import Key, LaneHistory, PastResult, PastRun
from test_gate.read.quarantine import Entry
from test_gate.render.escape import visible

CHART_WIDTH = 640
CHART_HEIGHT = 140
PAD = 28
MAX_STRIPS = 60  # unstable tests shown with a heat strip, per lane (the flakiest first)
# a test's outcome in one run, as a cell of its heat strip: (class, words)
CELLS = {
    "passed": ("p", "passed"),
    "flaky": ("k", "flaky"),
    "failed": ("f", "failed"),
    "error": ("f", "error"),
    "interrupted": ("f", "never finished"),
    "skipped": ("s", "skipped"),
    "xfailed": ("s", "xfailed"),
    "xpassed": ("s", "xpassed"),
}


@dataclass(frozen=True)
class LaneView:
    """A lane with what the analysis found in it."""

    lane: LaneHistory
    flakiest: tuple[TestFlips, ...]
    failing: tuple[Failing, ...]


def text(value: object) -> str:
    """Any value from the store, as inert HTML text (invisible characters shown)."""
    return html.escape(visible(str(value)), quote=True)


def _name(key: Key) -> str:
    return f"{key[1]} [{key[0]}]" if key[0] else key[1]


def _flaky_rate(run: PastRun) -> float | None:
    return run.flaky * 100 / run.tests if run.tests else None


def _polyline(values: Sequence[float | None], css: str, label: str) -> str:
    """A line of points, one per run, on a 0-100% scale; a run without a value has none."""
    count = len(values)
    step = (CHART_WIDTH - 2 * PAD) / max(count - 1, 1)
    points = [
        (PAD + i * step, PAD + (100 - v) * (CHART_HEIGHT - 2 * PAD) / 100)
        for i, v in enumerate(values)
        if v is not None
    ]
    if not points:
        return ""
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{label} '
        f"{v:.2f}%</title></circle>"
        for (x, y), v in zip(points, [v for v in values if v is not None], strict=True)
    )
    return f'<polyline class="{css}-line" points="{line}"/>{dots}'


def chart(runs: Sequence[PastRun]) -> str:
    """The pass rate and the flaky rate of each run, oldest on the left."""
    grid = "".join(
        f'<line class="grid" x1="{PAD}" x2="{CHART_WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}"/>'
        f'<text class="axis" x="2" y="{y + 4:.1f}">{pct}%</text>'
        for pct in (0, 50, 100)
        for y in [PAD + (100 - pct) * (CHART_HEIGHT - 2 * PAD) / 100]
    )
    return (
        f'<svg class="chart" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" role="img" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}"><title>pass rate and flaky rate, '
        f"{len(runs)} runs</title>{grid}"
        + _polyline([r.pass_rate for r in runs], "pass", "pass rate")
        + _polyline([_flaky_rate(r) for r in runs], "flaky", "flaky rate")
        + "</svg>"
    )


def _cell(result: PastResult | None, run: PastRun) -> str:
    if result is None:
        css, words = "n", "did not run"
    elif result.flaky and result.outcome == "passed":
        css, words = CELLS["flaky"]
    else:
        css, words = CELLS.get(result.outcome, ("s", result.outcome))
    return f'<i class="{css}" title="#{run.id} {text(run.time)}: {text(words)}"></i>'


def strip(runs: Sequence[PastRun], rows: Sequence[PastResult]) -> str:
    """One test's outcome in each run of the lane, oldest on the left."""
    by_run = {r.run: r for r in rows}
    return '<span class="strip">' + "".join(_cell(by_run.get(r.id), r) for r in runs) + "</span>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of cells already made HTML; the headers are plain words."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _flaky_table(view: LaneView) -> str:
    if not view.flakiest:
        return "<p>No test failed or was flaky in these runs.</p>"
    return _table(
        ("test", "flaky in", "flip rate", "outcome by run, oldest first"),
        (
            (
                f"<code>{text(_name(f.key))}</code>",
                f"{f.flaky} of {f.runs}",
                percent_text(f.flip_rate),
                strip(view.lane.runs, view.lane.results.get(f.key, ())),
            )
            for f in view.flakiest[:MAX_STRIPS]
        ),
    )


def _at_commit(commit: str) -> str:
    """A run recorded outside git has no commit: nothing is said of it."""
    return f", <code>{text(commit[:12])}</code>" if commit else ""


def _failing_table(view: LaneView) -> str:
    if not view.failing:
        return ""
    return f"<h4>Failing in the newest run ({len(view.failing)})</h4>" + _table(
        ("test", "failing since", "runs in a row", "outcome by run, oldest first"),
        (
            (
                f"<code>{text(_name(f.key))}</code>",
                f"run #{f.since.id}, {text(f.since.time)}{_at_commit(f.since.commit)}",
                str(f.runs),
                strip(view.lane.runs, view.lane.results.get(f.key, ())),
            )
            for f in view.failing
        ),
    )


def _lane(view: LaneView) -> str:
    lane = view.lane
    newest = lane.runs[-1] if lane.runs else None
    summary = (
        f"{len(lane.runs)} runs; newest #{newest.id} at {text(newest.time)}: "
        f"{text(newest.verdict)}, pass rate "
        + (f"{newest.pass_rate:.2f}%" if newest.pass_rate is not None else "n/a")
        if newest
        else "no runs"
    )
    return (
        f'<section class="lane" data-repository="{text(lane.repository)}" '
        f'data-branch="{text(lane.branch)}" data-lane="{text(lane.lane)}">'
        f"<h3>{text(lane.repository) + ' · ' if lane.repository else ''}"
        f"{text(lane.branch)} · {text(lane.lane or 'run')}</h3><p>{summary}</p>"
        f"{chart(lane.runs)}"
        '<p class="legend"><span class="key pass"></span> pass rate '
        '<span class="key flaky"></span> flaky rate (tests flaky in the run)</p>'
        f"{_failing_table(view)}<h4>Flakiest tests</h4>{_flaky_table(view)}</section>"
    )


def _quarantine(entries: Sequence[Entry], today: dt.date, source: str) -> str:
    if not entries:
        return ""
    return (
        f"<h2>Quarantine</h2><p>{len(entries)} entries in <code>{text(source)}</code>.</p>"
        + _table(
            ("entry", "reason", "owner", "expires"),
            (
                (
                    f"<code>{text(e.id)}</code>",
                    text(e.reason),
                    text(e.owner),
                    e.expires.isoformat()
                    + (' <b class="expired">expired</b>' if e.expires < today else ""),
                )
                for e in entries
            ),
        )
    )


def _options(values: Sequence[str], empty: str = "run") -> str:
    return '<option value="">all</option>' + "".join(
        f'<option value="{text(v)}">{text(v or empty)}</option>' for v in values
    )


STYLE = """
body{font:14px/1.5 system-ui,sans-serif;color:#1f2328;margin:24px;max-width:1100px}
h1{font-size:1.6em}h3{margin-top:2em;border-bottom:1px solid #d1d9e0}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #d1d9e0;
padding:4px 8px;text-align:left;vertical-align:top}code{font-size:90%;word-break:break-all}
.chart .grid{stroke:#eee}.chart .axis{font-size:10px;fill:#59636e}
.pass-line{fill:none;stroke:#1a7f37;stroke-width:2}.pass{fill:#1a7f37}
.flaky-line{fill:none;stroke:#bf8700;stroke-width:2}.flaky{fill:#bf8700}
.key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
.key.pass{background:#1a7f37}.key.flaky{background:#bf8700}
.strip{display:inline-flex;gap:1px}.strip i{width:6px;height:14px;display:inline-block}
.strip .p{background:#2da44e}.strip .k{background:#d4a72c}.strip .f{background:#cf222e}
.strip .s{background:#afb8c1}.strip .n{background:#eaeef2}.expired{color:#cf222e}
"""

SCRIPT = """
const FILTERS = ["repository", "branch", "lane"];
const pick = () => {
  const chosen = FILTERS.map(name => [name, document.getElementById(name).value]);
  for (const section of document.querySelectorAll("section.lane")) {
    section.hidden = !chosen.every(([name, value]) => !value || section.dataset[name] === value);
  }
};
for (const name of FILTERS) document.getElementById(name).addEventListener("change", pick);
"""


def render(
    views: Sequence[LaneView],
    *,
    source: str,
    generated: str,
    quarantine: Sequence[Entry] = (),
    quarantine_file: str = "",
    today: dt.date | None = None,
) -> str:
    """The whole page."""
    repositories = sorted({v.lane.repository for v in views})
    branches = sorted({v.lane.branch for v in views})
    lanes = sorted({v.lane.lane for v in views})
    runs = sum(len(v.lane.runs) for v in views)
    body = "".join(_lane(v) for v in views) or "<p>The history holds no runs yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>test-gate history: {text(source)}</title><style>{STYLE}</style></head><body>"
        f"<h1>test-gate history</h1><p><code>{text(source)}</code>: {len(views)} lane(s), "
        f"{runs} run(s) shown; made {text(generated)}.</p>"
        '<p><label>repository <select id="repository">'
        f"{_options(repositories, '(any)')}</select></label> "
        '<label>branch <select id="branch">'
        f"{_options(branches)}</select></label> "
        f'<label>lane <select id="lane">{_options(lanes)}</select></label></p>'
        f"{body}"
        + _quarantine(quarantine, today or dt.date.today(), quarantine_file)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
