"""Escaping of text that comes from tests, so it cannot change the page it lands in."""

from __future__ import annotations

import re

# inline text: emphasis, code, links and images, tables, strikethrough, math; HTML is entity-escaped
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!$])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


# characters that reorder, hide or end text where it lands: bidi controls, zero-width ones,
# and control characters other than newline and tab. Each is shown as <U+XXXX>.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def visible(text: str) -> str:
    """Text from tests, with every invisible or reordering character made visible."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace; cut long text with a visible ellipsis."""
    flat = " ".join(visible(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def html(text: str) -> str:
    return "".join(_HTML.get(ch, ch) for ch in text)


def md(text: str, limit: int = 300) -> str:
    """Inline Markdown text: no markup, no HTML, no links, no line breaks; safe in a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", html(one_line(text, limit)))


def code(text: str, limit: int = 300, *, in_table: bool = False) -> str:
    """An inline code span. In a table, pipes are escaped: GFM splits cells before code spans."""
    flat = one_line(text, limit)
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def node_cell(nodeid: str) -> str:
    """A test id in a table cell, broken after its file with a <br>: an id has no space to
    wrap at, and a table with two long ids is wider than a job summary."""
    path, sep, rest = nodeid.partition("::")
    if not sep or len(nodeid) <= 40:
        return code(nodeid, in_table=True)
    return f"{code(path, in_table=True)}<br>{code(sep + rest, in_table=True)}"


def code_block(text: str, lang: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside it."""
    text = visible(text.replace("\r\n", "\n").replace("\r", "\n"))
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.rstrip("\n")
    return f"{fence}{lang}\n{body}\n{fence}"


# A runner reads a workflow command from a line whose first non-blank characters are "::",
# and the legacy form "##[" anywhere in a line (actions/runner, ActionCommand). A line of
# text test-gate prints has both made inert with a look-alike: the fullwidth colon U+FF1A for
# the first colon, the fullwidth bracket U+FF3B for the bracket: readable, and never a command.
_LEGACY = "##["
_LEGACY_INERT = "##\uff3b"


def inert_line(line: str) -> str:
    """One line (no newline in it) that cannot act as a workflow command."""
    line = line.replace(_LEGACY, _LEGACY_INERT)
    body = line.lstrip()
    if body.startswith("::"):
        blank = len(line) - len(body)
        line = f"{line[:blank]}\uff1a{body[1:]}"
    return line


def inert(text: str) -> str:
    """Text of any number of lines, each made inert (the runner splits lines at LF)."""
    return "\n".join(inert_line(line) for line in text.split("\n"))
