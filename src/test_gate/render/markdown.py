"""A Markdown page under a byte budget: blocks, sections, and what to do when they do not fit.

GitHub drops a step's whole summary when it passes 1 MiB, so the page is built block by block
under a byte budget; what does not fit is replaced by its compact form, then by a visible note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from test_gate.render.escape import html

SUMMARY_LIMIT = 1_000_000
NOTE_RESERVE = 400


@dataclass(frozen=True)
class Block:
    """A piece of the page; `compact` stands in when `full` does not fit. An `optional` block
    (details of what another block names) has no compact form: it is shown whole or not."""

    full: str
    compact: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    intro: str = ""
    what: str = "entries"  # named in the note when entries are cut


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> tuple[Block, ...]:
    """A Markdown table: the header is kept whole, each row is a block of its own."""
    header = "| " + " | ".join(head) + " |\n|" + "---|" * len(head)
    return (Block(header, header), *(Block("| " + " | ".join(r) + " |") for r in rows))


def _size(text: str) -> int:
    return len(text.encode("utf-8", "backslashreplace"))


def page(head: str, ordered: Sequence[Section], limit: int = SUMMARY_LIMIT) -> str:
    """`head` (always whole), then the sections in order, never over `limit` bytes."""
    parts = [head]
    used = _size(head)
    reserve = NOTE_RESERVE * (len(ordered) + 1)  # room for every "not shown" note
    cut_notes: list[str] = []
    # first every section with one line per entry, so that no name is lost to a traceback;
    # then, with the room left, entries get their full form, the most useful sections first
    plans: list[tuple[Section, str, list[str]]] = []
    for section in ordered:
        title = f"### {html(section.title)}"
        opening = title + (f"\n\n{section.intro}" if section.intro else "")
        if used + _size(opening) + 2 + reserve > limit:
            cut_notes.append(f"section “{html(section.title)}”")
            continue
        used += _size(opening) + 2
        chosen: list[str] = []
        for block in section.blocks:
            text = "" if block.optional else block.compact or block.full
            if used + _size(text) + 1 + reserve > limit:
                break
            chosen.append(text)
            used += _size(text) + 1
        plans.append((section, opening, chosen))
    for section, _, chosen in plans:
        for index, text in enumerate(chosen):
            full = section.blocks[index].full
            grow = _size(full) - _size(text)
            if grow > 0 and used + grow + reserve <= limit:
                chosen[index] = full
                used += grow
    for section, opening, chosen in plans:
        lines = [opening, "", *(text for text in chosen if text)]
        left = [
            section.blocks[i] for i, text in enumerate(chosen) if text != section.blocks[i].full
        ]
        short = sum(1 for block in left if not block.optional)
        if len(left) > short:
            lines.append(
                f"\n> ✂️ {len(left) - short} {section.what} not shown: the summary has a size "
                "limit; the result file has every message."
            )
        if short:
            lines.append(
                f"\n> ✂️ {short} {section.what} shown without details: the summary has a size "
                "limit; the result file has every message."
            )
        hidden = len(section.blocks) - len(chosen)
        if hidden:
            lines.append(
                f"\n> ✂️ {hidden} more {section.what} not shown: the summary has a size limit."
            )
        parts.append("\n".join(lines))
    if cut_notes:
        parts.append(
            "> ✂️ Not shown, to stay within GitHub's summary size limit: "
            + ", ".join(cut_notes)
            + ". The result file has everything."
        )
    return "\n\n".join(parts) + "\n"
