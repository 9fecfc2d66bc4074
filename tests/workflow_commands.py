"""How a GitHub Actions runner reads workflow commands from a step's output (actions/runner,
ActionCommand: the `::name ...::data` form at a line start after trimming, and the legacy
`##[name ...]data` anywhere in a line), for tests that check what test-gate prints."""

from __future__ import annotations


def command_in(line: str) -> str | None:
    """The command a runner would read from one line, or None."""
    body = line.strip()
    if body.startswith("::"):
        rest = body[2:]
        end = rest.find("::")
        if end > 0:
            return rest[:end].split(" ", 1)[0]
    at = line.find("##[")
    if at >= 0:
        rest = line[at + 3 :]
        end = rest.find("]")
        if end > 0:
            return rest[:end].split(" ", 1)[0]
    return None


def commands(text: str) -> list[tuple[str, str]]:
    """Every (command, line) a runner would act on in this output: inside a stop-commands
    window it acts on nothing but the line that ends the window."""
    found = []
    stopped = None
    for line in text.split("\n"):
        name = command_in(line)
        if name is None:
            continue
        if stopped is not None:
            if name == stopped:
                stopped = None
            continue
        if name == "stop-commands":
            stopped = line.strip().split("::")[2]
        found.append((name, line))
    return found
