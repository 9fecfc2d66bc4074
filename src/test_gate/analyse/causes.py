"""Failure causes read from the exception text: "an external service was unreachable".

A red CI run caused by a database that did not start or a host that cannot be resolved is not a
test failure; a team wants to know that first. Pure functions over the messages pytest gave.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from test_gate.read.records import TestRecord

ServiceKind = Literal[
    "connection refused",
    "host name not resolved",
    "timed out",
    "network unreachable",
    "could not connect",
]
REFUSED: Final = "connection refused"
DNS: Final = "host name not resolved"
TIMEOUT: Final = "timed out"
NETWORK: Final = "network unreachable"
CONNECT: Final = "could not connect"

# (kind, pattern); the first that matches wins, so the specific come before the general
_PATTERNS: tuple[tuple[ServiceKind, str], ...] = (
    (DNS, r"gaierror|name or service not known|temporary failure in name resolution"),
    (DNS, r"nodename nor servname|getaddrinfo failed|no address associated with hostname"),
    (DNS, r"could not translate host name|name resolution|unknown host|NameResolutionError"),
    (REFUSED, r"connection ?refused|actively refused|errno 111\b|errno 61\b|winerror 10061"),
    (REFUSED, r"connect call failed"),
    (NETWORK, r"network is unreachable|no route to host|host is unreachable|errno 113\b"),
    # a timeout counts only with network context: subprocess.TimeoutExpired, asyncio's
    # wait_for and an assertion that says "timed out" are ordinary failures
    (TIMEOUT, r"connect ?timeout|connect(?:ion)? timed out|read timed out|errno 110\b"),
    (TIMEOUT, r"ETIMEDOUT|WinError 10060|ReadTimeout|PoolTimeout|WriteTimeout"),
    (TIMEOUT, r"socket\.timeout|ServerSelectionTimeoutError|NetworkTimeout"),
    # the socket module's own message: `TimeoutError: timed out` (socket.timeout before 3.10)
    (TIMEOUT, r"^(?:builtins\.)?(?:TimeoutError|timeout): timed out\.?$"),
    (CONNECT, r"NewConnectionError|MaxRetryError|Failed to establish a new connection"),
    (CONNECT, r"(?:httpx|requests|aiohttp|urllib3)[\w.]*\.?(?:Connect\w*Error)"),
    (CONNECT, r"ClientConnectorError|Cannot connect to host|can't connect to \w+ server"),
    (CONNECT, r"could not connect to server|Error \d+ connecting to|urlopen error"),
    (CONNECT, r"\bConnectionError\b"),
)
_KINDS = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in _PATTERNS)

_HOST = r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*)"
_ENDPOINTS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # urllib3 / requests: HTTPConnectionPool(host='db', port=5432)
        r"host=['\"](?P<host>[^'\"]+)['\"],\s*port=(?P<port>\d+)",
        # psycopg: connection to server at "db" (10.0.0.1), port 5432 failed
        r"server at \"(?P<host>[^\"]+)\"(?:\s*\([^)]*\))?,\s*port (?P<port>\d+)",
        # old libpq: Is the server running on host "db" (...) and accepting ... on port 5432?
        r"(?s)on host \"(?P<host>[^\"]+)\".*?on port (?P<port>\d+)",
        # redis, aiohttp, pymongo and most others: host:port
        r"(?:connecting to|connect to host|server on) '?" + _HOST + r":(?P<port>\d{1,5})\b",
        # asyncio: Connect call failed ('127.0.0.1', 9); socket.create_connection(("db", 5432))
        r"\(\s*['\"](?P<host>[^'\"]+)['\"],\s*(?P<port>\d+)\s*\)",
        r"(?:https?|redis|rediss|postgres(?:ql)?|mysql|mongodb|amqp)://(?:[^@/\s]*@)?"
        + _HOST
        + r"(?::(?P<port>\d{1,5}))?",
        _HOST + r":(?P<port>\d{2,5}):",
        # MySQL: Can't connect to MySQL server on 'db' (111)
        r"server on '(?P<host>[^':]+)'",
    )
)


@dataclass(frozen=True)
class Unreachable:
    """One failing test that could not reach an external service."""

    nodeid: str
    kind: ServiceKind
    endpoint: str  # host:port, host, or "" when the message does not say
    message: str


def _texts(test: TestRecord) -> list[str]:
    """The failure message first, then the exception lines of the traceback (chained causes),
    then the source lines that raised (they often name the host and port)."""
    last = test.last
    lines = last.longrepr.splitlines()
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    sources = [ln[1:].strip() for ln in lines if ln.startswith(">")]
    return [t for t in (last.message, *errors, *sources) if t]


# an assertion that mentions "connection refused" or "timed out" is the test's own check
_ASSERTION = re.compile(r"^(?:AssertionError\b|assert\s|Failed:|\+|where\s)")


def kind_of(text: str) -> ServiceKind | None:
    text = text.strip()
    if _ASSERTION.match(text):
        return None
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def endpoint_of(texts: Iterable[str]) -> str:
    for text in texts:
        for pattern in _ENDPOINTS:
            match = pattern.search(text)
            if match is None:
                continue
            host = match.group("host")
            if host.endswith((".py", ".pyc")):
                continue
            port = match.groupdict().get("port")
            return f"{host}:{port}" if port else host
    return ""


def unreachable(test: TestRecord) -> Unreachable | None:
    texts = _texts(test)
    last = test.last
    exceptions = [last.message, *(ln[1:] for ln in last.longrepr.splitlines() if ln[:2] == "E ")]
    for text in exceptions:
        kind = kind_of(text)
        if kind is not None:
            return Unreachable(test.nodeid, kind, endpoint_of(texts), texts[0])
    return None


@dataclass(frozen=True)
class ServiceGroup:
    endpoint: str
    kinds: tuple[ServiceKind, ...]
    tests: tuple[Unreachable, ...]


def group_unreachable(failures: Sequence[TestRecord]) -> list[ServiceGroup]:
    """Failures that could not reach a service, grouped by host:port (most tests first)."""
    groups: dict[str, list[Unreachable]] = {}
    for test in failures:
        found = unreachable(test)
        if found is not None:
            groups.setdefault(found.endpoint, []).append(found)
    out = [
        ServiceGroup(endpoint, tuple(dict.fromkeys(u.kind for u in items)), tuple(items))
        for endpoint, items in groups.items()
    ]
    out.sort(key=lambda g: (-len(g.tests), g.endpoint == "", g.endpoint))
    return out
