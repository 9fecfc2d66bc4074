"""The job summary as a reader sees it: rendered from its Markdown as GitHub renders Markdown,
opened in headless Chromium. Nothing is clipped behind a scrollbar, the page logs nothing to
its console, the verdict is the headline, and a failing project's summary shows its failures
within one screen, above the details."""

from __future__ import annotations

from pathlib import Path

import pytest
from summary_pages import PAGES, SCREEN, check, page


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pages")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_summary_reads_in_a_browser(name: str, work: Path) -> None:
    markdown = PAGES[name](work / name).read_text(encoding="utf-8")
    html_file = work / f"{name}.html"
    html_file.write_text(page(markdown, name), encoding="utf-8")
    found = check(html_file)
    assert found["clipped"] == [], "a code block needs a horizontal scrollbar"
    assert found["wide_tables"] == [], "a table is wider than a job summary"
    assert found["console"] == []
    verdict = "✅ test-gate passed" if name == "demo" else "❌ test-gate failed"
    assert found["headline"] == verdict
    if name == "failing":
        assert found["tables"] >= 1
        assert found["details_at"] is not None and found["details_at"] <= SCREEN, found
