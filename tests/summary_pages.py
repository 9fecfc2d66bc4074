"""Job summaries of real runs, as a browser shows them: the demo, a failing project, a merge of
two shards and a run with a history; each rendered from Markdown the way GitHub's Markdown is
(CommonMark with tables, raw HTML for <details>), styled like a job summary, and opened in
headless Chromium. Used by the browser test and by `docs/screenshots.py`."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from conftest import clean_env, cli, write_tree  # noqa: E402

WIDTH = 1012  # a job summary's width on a laptop screen, about
SCREEN = 900  # what one screen shows of the page, below the job's header

FAILING = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
    """,
    "tests/test_orders.py": """
        import os

        def test_checkout_in_strict_mode():
            os.environ["BILLING_MODE"] = "strict"

        def test_invoice_total_in_default_mode():
            assert os.environ.get("BILLING_MODE", "default") == "default", "billing mode leaked"
    """,
    "tests/test_money.py": """
        import pytest

        def test_rounding():
            assert round(2.675, 2) == 2.68, "banker's rounding strikes again"

        @pytest.mark.xfail(reason="known bug 4711: negative zero")
        def test_negative_zero():
            assert str(-0.0) == "0.0"

        @pytest.mark.skip(reason="needs the payment sandbox")
        def test_payment():
            pass

        @pytest.mark.parametrize("amount", [1, 10, 100, 1000])
        def test_amounts(amount):
            assert amount > 0
    """,
}

CSS = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       color: #1f2328; background: #fff; margin: 0; padding: 16px 24px; width: WIDTHpx;
       box-sizing: border-box; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em;
     margin: 0 0 16px; }
h3 { font-size: 1.25em; margin: 24px 0 16px; }
p, ul, table, pre, details { margin: 0 0 16px; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, monospace; background: #eff1f3;
       white-space: break-spaces;
       padding: .2em .4em; border-radius: 6px; }
pre { font: 85% ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa;
      padding: 16px; overflow: auto; white-space: pre; border-radius: 6px; }
pre code { background: none; padding: 0; font-size: 100%; }
table { border-collapse: collapse; display: block; width: max-content; max-width: 100%;
        overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; }
blockquote { margin: 0 0 16px; padding: 0 1em; color: #59636e;
             border-left: .25em solid #d1d9e0; }
summary { cursor: pointer; }
""".replace("WIDTH", str(WIDTH))

# what the page says about itself once laid out: code blocks that need a horizontal scrollbar
# (GitHub clips them), tables, the headline, and how far down the details begin
CHECK = """
<script>
window.addEventListener("load", () => {
  const pres = [...document.querySelectorAll("pre")];
  const details = [...document.querySelectorAll("h3")]
    .find(h => h.textContent.startsWith("Details"));
  const found = {
    clipped: pres.filter(p => p.scrollWidth > p.clientWidth + 1)
      .map(p => p.textContent.slice(0, 120)),
    tables: document.querySelectorAll("table").length,
    wide_tables: [...document.querySelectorAll("table")]
      .filter(t => t.scrollWidth > t.clientWidth + 1)
      .map(t => t.textContent.slice(0, 120)),
    headline: (document.querySelector("h2") || {}).textContent || "",
    details_at: details ? details.getBoundingClientRect().top : null,
    height: document.documentElement.scrollHeight,
  };
  document.getElementById("test-gate-check").textContent = JSON.stringify(found);
});
</script>
"""


def page(markdown: str, title: str) -> str:
    body = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body>{body.render(markdown)}"
        f"<pre id='test-gate-check' hidden></pre>{CHECK}</body></html>"
    )


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("no chromium on PATH: apt-get install chromium (as .ci/run does)")
    return found


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check(html_file: Path) -> dict[str, Any]:
    """What the page says about itself in Chromium, and what it logged to its console."""
    done = _browser(
        "--virtual-time-budget=5000",
        f"--window-size={WIDTH},{SCREEN}",
        "--dump-dom",
        html_file.as_uri(),
    )
    marker = '<pre id="test-gate-check" hidden="">'
    assert marker in done.stdout, done.stderr[-2000:]
    found: dict[str, Any] = json.loads(
        html.unescape(done.stdout.split(marker, 1)[1].split("</pre>", 1)[0])
    )
    found["console"] = [ln for ln in done.stderr.splitlines() if "CONSOLE" in ln]
    return found


def screenshot(html_file: Path, png: Path, height: int) -> None:
    done = _browser(f"--window-size={WIDTH},{height}", f"--screenshot={png}", html_file.as_uri())
    assert png.is_file(), done.stderr[-2000:]


def _run(root: Path, out: Path, *args: str) -> Path:
    summary = out / "summary.md"
    proc = cli(
        "run",
        str(root),
        "--python",
        sys.executable,
        "--github=false",
        f"--summary-file={summary}",
        f"--result-file={out / 'result.json'}",
        *args,
        env=clean_env(),
    )
    assert summary.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return summary


def demo(work: Path) -> Path:
    return _run(REPO / "examples" / "demo-project", work / "demo", "--seed", "1")


def failing(work: Path) -> Path:
    root = write_tree(work / "failing-project", FAILING)
    return _run(root, work / "failing", "--seed", "1", "--bucket", "none")


def merged(work: Path) -> Path:
    """Two shards of the failing project, merged."""
    root = write_tree(work / "merge-project", FAILING)
    results = work / "shards"
    results.mkdir(parents=True, exist_ok=True)
    for k in (1, 2):
        _run(
            root,
            work / f"shard{k}",
            "--seed",
            "1",
            "--bucket",
            "none",
            "--shard",
            f"{k}/2",
            "--diagnose=false",
            "--cell",
            "py3.12-linux",
        )
        shutil.copy(work / f"shard{k}" / "result.json", results / f"shard-{k}.json")
    summary = work / "merged" / "summary.md"
    cli(
        "merge",
        str(results),
        "--github=false",
        f"--summary-file={summary}",
        f"--result-file={work / 'merged' / 'result.json'}",
    )
    assert summary.is_file()
    return summary


def with_history(work: Path) -> Path:
    """The failing project's second run, on a history that holds its first."""
    root = write_tree(work / "history-project", FAILING)
    store = work / "history.db"
    for n in (1, 2):
        summary = _run(
            root,
            work / f"history{n}",
            "--seed",
            "1",
            "--bucket",
            "none",
            f"--history={store}",
            "--branch=main",
            "--diagnose=false",
        )
    return summary


PAGES = {"demo": demo, "failing": failing, "merge": merged, "history": with_history}
