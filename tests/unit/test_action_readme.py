"""README.md documents every input and output of action.yml, with the right defaults, and
documents nothing the action does not have."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Usage (GitHub Action)"


def _section(text: str) -> str:
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1]
    return re.split(r"^## ", body, maxsplit=1, flags=re.M)[0]


def _table(section: str, heading: str) -> dict[str, list[str]]:
    """First column's `name` -> the other cells, from the table under `### heading`."""
    assert f"### {heading}" in section, f"no '### {heading}' in {SECTION!r}"
    part = re.split(r"^### ", section.split(f"### {heading}", 1)[1], maxsplit=1, flags=re.M)[0]
    rows: dict[str, list[str]] = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([\w-]+)`", cells[0]) if line.startswith("|") else None
        if match:
            assert match[1] not in rows, f"{match[1]} documented twice"
            rows[match[1]] = cells[1:]
    return rows


def _docs() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    section = _section((REPO / "README.md").read_text(encoding="utf-8"))
    return _table(section, "Inputs"), _table(section, "Outputs")


ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_every_input_is_in_the_readme_and_nothing_else() -> None:
    inputs, _ = _docs()
    assert set(inputs) == set(ACTION["inputs"])


def test_the_readme_gives_each_inputs_default() -> None:
    inputs, _ = _docs()
    for name, spec in ACTION["inputs"].items():
        shown = inputs[name][0]
        expected = f"`{spec['default']}`" if spec["default"] else '`""`'
        assert shown.startswith(expected), f"{name}: README says {shown}, action.yml {expected}"
        assert inputs[name][1], f"{name} has no description in README.md"


def test_every_output_is_in_the_readme_and_nothing_else() -> None:
    _, outputs = _docs()
    assert set(outputs) == set(ACTION["outputs"])
    assert all(cells and cells[0] for cells in outputs.values())
