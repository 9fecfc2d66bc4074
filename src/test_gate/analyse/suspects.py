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
    "fixture ",
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
MENTIONED, IN_SOURCE, RARE_RANK, GLOBAL, QUIET = 0, 1, 2, 3, 4
# a failure that cannot find a file by a relative path: the working directory moved
MISSING_FILE = ("FileNotFoundError", "No such file or directory")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{2,}")
_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# words every failure and every value has: a match on them says nothing
STOP = frozenset(
    {
        *("true", "false", "none", "null", "unset", "another", "object", "items", "results"),
        *("gained", "lost", "was", "not", "the", "and", "for", "with", "assert", "error"),
        *("assertionerror", "where", "function", "class", "module", "self", "return"),
        *("value", "values", "type", "item", "key", "keys"),
    }
)


@dataclass(frozen=True)
class Suspect:
    """State the prefix left changed, as the victim found it."""

    key: str
    was: str  # before the first change in the prefix
    now: str  # after the last one: what the victim saw
    by: tuple[str, ...]  # the tests that changed it, the latest first
    rank: int
    via: str = ""  # the fixture whose setup changed it (in those tests' setup)

    @property
    def text(self) -> str:
        """`os.environ['MODE'] = 'strict' (was unset)`, or `formats.HANDLERS gained 'csv'`,
        and the fixture that did it when one did."""
        if not self.was:  # a change described in words: "gained 'csv'", "lost 'x'"
            said = f"{self.key} {self.now}"
        elif self.now == UNSET:
            said = f"{self.key} unset (was {self.was})"
        else:
            said = f"{self.key} = {self.now} (was {self.was})"
        return f"{said}, set up by {self.via}" if self.via else said


def _words(text: str) -> set[str]:
    return {w.strip(".-").lower() for w in _TOKEN.findall(text)} - STOP


def _parts(name: str) -> set[str]:
    """An identifier's words: `_packratEnabled` -> packrat, enabled; `APP_MODE` -> app,
    mode; only the telling ones (four letters or more, not a stop word)."""
    found = {w.lower() for w in _PART.findall(name)}
    return {w for w in found if len(w) >= 4 and w not in STOP}


def _key_name(key: str) -> str:
    """The specific part of a key: `APP_MODE` of `os.environ['APP_MODE']`, `HANDLERS` of
    `formats.HANDLERS`, `service` of `logging: logger 'service' level` (not `os`, `sys`)."""
    quoted = re.search(r"'([^']+)'", key)
    if quoted:
        return quoted.group(1)
    return key.split(" ")[0].rsplit(".", 1)[-1]


def _rank(key: str, source: set[str]) -> int:
    """How likely the victim tripped on this key, by its kind and by whether the victim's
    own file names it (`source`: the words of that file)."""
    if key.startswith(NOISY):
        return QUIET
    name = _key_name(key)
    named = name.lower() in source or bool(_parts(name) & source)
    if key.startswith(RARE):
        return IN_SOURCE if named else RARE_RANK
    module, _, _ = key.partition(" ")[0].rpartition(".")
    if named or module.rsplit(".", 1)[-1].lower() in source:
        return IN_SOURCE
    return GLOBAL


@dataclass
class _Seen:
    """One key over the prefix: its value before the first change, after the last, and who
    changed it (in run order)."""

    was: str
    now: str
    by: list[tuple[int, str]]


def suspects(
    prefix: Sequence[str],
    changes: Sequence[StateChange],
    failure: str = "",
    victim_source: str = "",
    worker: str = "",
) -> list[Suspect]:
    """The state the prefix left changed for the victim, most likely first. `failure`: the
    victim's message and traceback; `victim_source`: its file's text (the names it uses);
    `worker`: under pytest-xdist, the process the victim ran in (only its tests count).

    A value (an environment variable, a level, a global bound to another object) is a suspect
    when it differs at the victim's start from before the prefix. A set of names (what a
    registry or `sys.modules` holds) is a suspect per name that came or went and stayed so,
    with the test that changed it: the failure may name one of them."""
    ran = {nodeid: index for index, nodeid in enumerate(prefix)}
    values: dict[str, _Seen] = {}
    members: dict[tuple[str, str], tuple[int, str, bool, str]] = {}  # -> at, by, came, via
    for change in changes:
        at = ran.get(change.nodeid)
        if at is None or change.worker != worker or change.key == "…":
            continue
        if change.gained or change.lost:
            for name in change.gained:
                members[(change.key, name)] = (at, change.nodeid, True, change.by)
            for name in change.lost:
                members[(change.key, name)] = (at, change.nodeid, False, change.by)
            continue
        seen = values.setdefault(change.key, _Seen(change.before, change.after, []))
        seen.now = change.after
        seen.by.append((at, change.nodeid))
    words = _words(failure)
    source = _words(victim_source)
    moved = any(sign in failure for sign in MISSING_FILE)
    found: list[tuple[Suspect, int]] = []
    for key, seen in values.items():
        if seen.was and seen.was == seen.now:  # set back to what it was before the prefix
            continue
        changers = tuple(dict.fromkeys(n for _, n in sorted(seen.by, reverse=True)))
        name = _key_name(key)
        named = bool(({name.lower()} | _parts(name) | _words(seen.now)) & words)
        named = named or (moved and key == "the working directory")
        rank = MENTIONED if named else _rank(key, source)
        if rank != QUIET:
            found.append((Suspect(key, seen.was, seen.now, changers, rank), max(seen.by)[0]))
    for (key, name), (at, nodeid, came, via) in members.items():
        named = bool(_words(name) & words)
        rank = MENTIONED if named else _rank(key, source)
        if rank != QUIET:
            now = f"{'gained' if came else 'lost'} {name}"
            found.append((Suspect(key, "", now, (nodeid,), rank, via), at))
    found.sort(key=lambda pair: (pair[0].rank, -pair[1], pair[0].key, pair[0].now))
    return [suspect for suspect, _ in found]


_WHERE = re.compile(r"^\s*(File \"|[\w./\\-]+\.(py|rst|txt|md):\d+)")


def failure_text(message: str, longrepr: str) -> str:
    """What a failure says about the state it met: its message, and the lines of the
    traceback that show code (`>`) and errors (`E`); a report without them (a doctest's)
    whole, but for the lines that only say where. Not the file paths: `tests/` in a path
    would name every package called `tests`."""
    lines = longrepr.splitlines()
    shown = [ln for ln in lines if ln.startswith((">", "E "))]
    if not shown:
        shown = [ln for ln in lines if not _WHERE.match(ln)]
    return "\n".join([message, *shown])


def candidates(found: Sequence[Suspect], limit: int) -> list[str]:
    """The tests to try first, at most `limit`: the latest changer of each suspect, the
    likeliest suspect first, then each one's next changer, and so on; each test once."""
    out: list[str] = []
    depth = max((len(s.by) for s in found), default=0)
    for level in range(depth):
        for suspect in found:
            if level < len(suspect.by) and suspect.by[level] not in out:
                out.append(suspect.by[level])
                if len(out) >= limit:
                    return out
    return out


def left_by(found: Sequence[Suspect], culprits: Sequence[str]) -> list[Suspect]:
    """The suspects the culprits changed: the state to name beside a polluter. Also what
    the failure names that a fixture set up: any test that runs that fixture sets it (an
    autouse conftest fixture), so the culprit found may not be the test that ran it first."""
    chosen = set(culprits)
    return [s for s in found if chosen & set(s.by) or (s.via and s.rank == MENTIONED)]
