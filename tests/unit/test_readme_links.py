"""The README reads the same on PyPI: links to files are absolute."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_link_is_absolute_or_an_anchor() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert links
    for link in links:
        assert link.startswith(("https://", "#")), link
