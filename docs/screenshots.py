"""The pictures in the README: the job summary of the demo, a failing project, a merge and a
run with a history, and the dashboard, each from a real run, rendered as GitHub renders
Markdown and photographed by headless Chromium.

    .venv/bin/python docs/screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import cli  # noqa: E402
from summary_pages import PAGES, check, page, screenshot  # noqa: E402

TALLEST = 1800  # pixels: a page taller than this is cut at the bottom


def dashboard(work: Path) -> Path:
    """The demo project over ten runs on two branches (a seed each: its order-dependent pair
    fails in some orders, its timing test is flaky), and the dashboard of that history."""
    root = work / "dash-project"
    shutil.copytree(HERE.parent / "examples" / "demo-project", root)
    store = work / "history.db"
    for n, branch in enumerate(["main"] * 7 + ["feature/faster-invoices"] * 3):
        cli(
            "run", str(root), "--seed", str(1 + n), "--diagnose=false", "--github=false",
            f"--history={store}", f"--branch={branch}", "--python", sys.executable,
        )  # fmt: skip
    site = work / "site"
    cli("history", str(store), "--html", str(site))
    return site / "index.html"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(HERE / "images"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tg-shots-") as name:
        work = Path(name)
        for key, make in PAGES.items():
            markdown = make(work / key).read_text(encoding="utf-8")
            html_file = work / f"{key}.html"
            html_file.write_text(page(markdown, key), encoding="utf-8")
            height = min(check(html_file)["height"] + 20, TALLEST)
            screenshot(html_file, out / f"summary-{key}.png", height)
            print(f"{out / f'summary-{key}.png'}: {height} px high")
        board = dashboard(work)
        screenshot(board, out / "dashboard.png", 1300)
        print(f"{out / 'dashboard.png'}")


if __name__ == "__main__":
    main()
