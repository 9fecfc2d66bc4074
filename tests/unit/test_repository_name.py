"""The action's repository is written in one place, and everything else names that one."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = (REPO / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib on 3.10
NAME = re.findall(r'^repository = "([^"]+)"', PYPROJECT.split("[tool.test-gate]")[1], re.M)[0]
URLS = re.findall(r'^\w+ = "(https://[^"]+)"', PYPROJECT.split("[project.urls]")[1], re.M)


def test_every_use_of_the_action_names_the_one_repository() -> None:
    texts = [REPO / "README.md", *sorted((REPO / "examples" / "workflows").glob("*.yml"))]
    for path in texts:
        for used in re.findall(r"uses: ([\w.-]+/test-gate)(?:/\w+)?@", path.read_text()):
            assert used == NAME, path


def test_the_metadata_points_to_it() -> None:
    assert URLS
    for url in URLS:
        assert f"github.com/{NAME}" in url
