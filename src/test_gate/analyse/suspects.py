"""What a victim saw that it would not see alone: the process-global state the tests before
it left changed (pytest-test-gate's state watch records it in the main run), ranked, and the
tests that changed it, to be tried first. Pure: the run's state changes and the victim's
failure in; the suspects and the candidates out.

A victim that passes alone starts from the state a fresh process has; after its prefix it
starts from what the prefix left. The keys whose value at the victim's start differs from
the one before the prefix are the suspects. They are ranked by how likely they are to be what
the victim tripped on:

1. the key, or its new value, is named in the victim's failure (the message or the traceback):
   `assert 'html.parser' not in sys.modules` names what `sys.modules` gained;
2. state a test rarely leaves changed by accident: the environment, logging, the working
   directory, signal handlers, the locale and time zone, the decimal context, the clock,
   files, `sys.path`, and globals of the project's modules the victim's file names;
3. other project module globals;
4. `sys.modules` and other growth almost every run has: only when the failure names it.

The tests that changed a suspect, the latest first, are the candidates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from test_gate.read.records import StateChange

UNSET = "unset"
# the kinds of state a test rarely leaves changed by accident (keys start with these)
RARE = (
    "os.environ[",
    "logging",
    "the working directory",
    "signal handler",
    "locale",
    "time.tzname",
    "decimal context",
    "socket default timeout",
    "time and datetime",
    "files in",
    "warnings.filters",
    "sys.path",
)
NOISY = ("sys.modules",)  # grows in almost every run: a suspect only when the failure names it
MENTIONED, RARE_RANK, GLOBAL, QUIET = 0, 1, 2, 3
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{2,}")


@dataclass(frozen=True)
class Suspect:
    """State the prefix left changed, as the victim found it."""

    key: str
    was: str  # before the first change in the prefix
    now: str  # after the last one: what the victim saw
    by: tuple[str, ...]  # the tests that changed it, the latest first
    rank: int

    @property
    def text(self) -> str:
        """`os.environ['MODE'] = 'strict' (was unset)`, or `formats.HANDLERS gained 'csv'`."""
        if not self.was:  # a change described in words: "gained 'csv'", "lost 'x'"
            return f"{self.key} {self.now}"
        if self.now == UNSET:
            return f"{self.key} unset (was {self.was})"
        return f"{self.key} = {self.now} (was {self.was})"


def _words(text: str) -> set[str]:
    return {w.strip(".-").lower() for w in _TOKEN.findall(text)}


def _mentioned(change: Suspect, failure: set[str]) -> bool:
    """The failure names the key's last part, or a word of the new value."""
    if not failure:
        return False
    key_words = _words(change.key.replace("os.environ[", " ").replace("'", " "))
    value_words = _words(change.now.removeprefix("gained ").removeprefix("lost "))
    return bool((key_words | value_words) & failure)


def _rank(key: str, victim_source: str) -> int:
    if key.startswith(NOISY):
        return QUIET
    if key.startswith(RARE):
        return RARE_RANK
    module, _, name = key.partition(" ")[0].rpartition(".")
    names = {module.rsplit(".", 1)[-1], name}
    if victim_source and any(n and n in victim_source for n in names):
        return RARE_RANK
    return GLOBAL


def suspects(
    prefix: Sequence[str],
    changes: Sequence[StateChange],
    failure: str = "",
    victim_source: str = "",
    worker: str = "",
) -> list[Suspect]:
    """The state the prefix left changed for the victim, most likely first. `failure`: the
    victim's message and traceback; `victim_source`: its file's text (the names it uses);
    `worker`: under pytest-xdist, the process the victim ran in (only its tests count)."""
    ran = {nodeid: index for index, nodeid in enumerate(prefix)}
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    by: dict[str, list[tuple[int, str]]] = {}
    for change in changes:
        at = ran.get(change.nodeid)
        if at is None or change.worker != worker or change.key == "…":
            continue
        first.setdefault(change.key, change.before)
        last[change.key] = change.after
        by.setdefault(change.key, []).append((at, change.nodeid))
    words = _words(failure)
    found = []
    for key, now in last.items():
        was = first[key]
        if was and was == now:  # set back to what it was before the prefix
            continue
        changers = tuple(dict.fromkeys(n for _, n in sorted(by[key], reverse=True)))
        suspect = Suspect(key, was, now, changers, _rank(key, victim_source))
        if _mentioned(suspect, words):
            suspect = Suspect(key, was, now, changers, MENTIONED)
        elif suspect.rank == QUIET:
            continue
        found.append(suspect)
    latest = {key: max(at for at, _ in by[key]) for key in by}
    return sorted(found, key=lambda s: (s.rank, -latest[s.key], s.key))


def candidates(found: Sequence[Suspect], limit: int) -> list[str]:
    """The tests to try first, at most `limit`: the changers of the best suspects, each
    once, the latest first."""
    out: list[str] = []
    for suspect in found:
        for nodeid in suspect.by:
            if nodeid not in out:
                out.append(nodeid)
            if len(out) >= limit:
                return out
    return out


def left_by(found: Sequence[Suspect], culprits: Sequence[str]) -> list[Suspect]:
    """The suspects the culprits changed: the state to name beside a polluter."""
    chosen = set(culprits)
    return [s for s in found if chosen & set(s.by)]
