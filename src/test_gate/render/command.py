"""A shell command as a page shows it: in lines short enough to read without scrolling.

The words are kept exactly as written (quotes and all) and only the spaces between them are
changed into a backslash and a newline, so the command pasted from the page is the command
that was run."""

from __future__ import annotations

WIDTH = 80


def words(command: str) -> list[str]:
    """The command split at spaces outside quotes, each word as written."""
    found: list[str] = []
    current: list[str] = []
    quote = ""
    escaped = False
    for ch in command:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quote != "'":
            current.append(ch)
            escaped = True
        elif quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            current.append(ch)
            quote = ch
        elif ch in " \t":
            if current:
                found.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        found.append("".join(current))
    return found


def _units(split: list[str]) -> list[str]:
    """Words that stay on one line: a one-letter option and its value (`-p no:randomly`)."""
    units: list[str] = []
    for word in split:
        last = units[-1] if units else ""
        if len(last) == 2 and last[0] == "-" and last[1].isalpha() and not word.startswith("-"):
            units[-1] = f"{last} {word}"
        else:
            units.append(word)
    return units


def wrapped(command: str, width: int = WIDTH) -> str:
    """The command over several lines joined by `\\`, each at most about `width` wide; a
    command with a newline of its own, or one that fits, is left as it is."""
    if len(command) <= width or "\n" in command:
        return command
    lines: list[str] = []
    line = ""
    for word in _units(words(command)):
        if line and len(line) + 1 + len(word) > width - 2:
            lines.append(line)
            line = "  " + word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return " \\\n".join(lines)
