"""External-service failures told from the exception text; the texts are made for real where
the library is at hand (a closed localhost port, an unresolvable name, a silent server)."""

from __future__ import annotations

import asyncio
import socket
import traceback
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from test_gate.analyse import causes
from test_gate.read.records import Attempt, Outcome
from test_gate.read.records import TestRecord as Record


def record(message: str, longrepr: str = "", nodeid: str = "tests/test_x.py::test_x") -> Record:
    return Record(nodeid, "tests/test_x.py", 1, (Attempt(Outcome.FAILED, message, longrepr),), 0)


def raised(action: Callable[[], object]) -> str:
    """The message pytest shows for the exception `action` raises (its `exconly`)."""
    try:
        action()
    except Exception as exc:
        return traceback.format_exception_only(type(exc), exc)[-1].strip()
    raise AssertionError("no exception")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_connection_refused_by_the_socket_module(closed_port: int) -> None:
    text = raised(lambda: socket.create_connection(("127.0.0.1", closed_port), timeout=2))
    assert text.startswith("ConnectionRefusedError")
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.REFUSED and found.endpoint == ""


def test_host_and_port_from_the_source_line_that_raised(closed_port: int) -> None:
    text = raised(lambda: socket.create_connection(("127.0.0.1", closed_port), timeout=2))
    longrepr = (
        "    def test_db():\n"
        f'>       socket.create_connection(("127.0.0.1", {closed_port}), timeout=2)\n'
        f"E       {text}\n"
    )
    found = causes.unreachable(record(text, longrepr))
    assert found is not None and found.endpoint == f"127.0.0.1:{closed_port}"


def test_asyncio_connect_call_failed(closed_port: int) -> None:
    text = raised(lambda: asyncio.run(asyncio.open_connection("127.0.0.1", closed_port)))
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.REFUSED
    assert found.endpoint == f"127.0.0.1:{closed_port}"


def test_urllib_url_error(closed_port: int) -> None:
    text = raised(lambda: urllib.request.urlopen(f"http://127.0.0.1:{closed_port}/", timeout=2))
    assert text.startswith("urllib.error.URLError")
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.REFUSED


def test_dns_failure() -> None:
    text = raised(lambda: socket.getaddrinfo("no-such-host.invalid", 80))
    assert text.startswith("socket.gaierror")
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.DNS


def test_socket_read_timeout(silent_port: int) -> None:
    def read() -> bytes:
        with socket.create_connection(("127.0.0.1", silent_port), timeout=0.05) as conn:
            return conn.recv(1)

    text = raised(read)
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.TIMEOUT


def test_requests_connection_error_names_host_and_port(closed_port: int) -> None:
    requests = pytest.importorskip("requests")
    text = raised(lambda: requests.get(f"http://127.0.0.1:{closed_port}/", timeout=2))
    assert text.startswith("requests.exceptions.ConnectionError")
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.REFUSED
    assert found.endpoint == f"127.0.0.1:{closed_port}"


def test_requests_read_timeout(silent_port: int) -> None:
    requests = pytest.importorskip("requests")
    text = raised(lambda: requests.get(f"http://127.0.0.1:{silent_port}/", timeout=0.05))
    found = causes.unreachable(record(text))
    assert found is not None and found.kind == causes.TIMEOUT
    assert found.endpoint == f"127.0.0.1:{silent_port}"


@pytest.mark.parametrize(
    ("message", "kind", "endpoint"),
    [
        (
            'psycopg2.OperationalError: connection to server at "db" (10.1.2.3), port 5432 '
            "failed: Connection refused",
            causes.REFUSED,
            "db:5432",
        ),
        (
            "psycopg2.OperationalError: could not connect to server: Connection refused\n\tIs "
            'the server running on host "localhost" (127.0.0.1) and accepting\n\tTCP/IP '
            "connections on port 5433?",
            causes.REFUSED,
            "localhost:5433",
        ),
        (
            'psycopg2.OperationalError: could not translate host name "postgres" to address: '
            "Name or service not known",
            causes.DNS,
            "",
        ),
        (
            "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. "
            "Connection refused.",
            causes.REFUSED,
            "localhost:6379",
        ),
        (
            "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. "
            "Name or service not known.",
            causes.DNS,
            "redis:6379",
        ),
        (
            "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on 'mysql' "
            '([Errno 111] Connection refused)")',
            causes.REFUSED,
            "mysql",
        ),
        (
            "pymongo.errors.ServerSelectionTimeoutError: mongo:27017: [Errno 111] Connection "
            "refused, Timeout: 30s",
            causes.REFUSED,
            "mongo:27017",
        ),
        ("httpx.ConnectError: [Errno 111] Connection refused", causes.REFUSED, ""),
        ("httpx.ConnectTimeout: timed out", causes.TIMEOUT, ""),
        (
            "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host "
            "api.example.com:443 ssl:default [Connect call failed ('93.184.216.34', 443)]",
            causes.REFUSED,
            "api.example.com:443",
        ),
        ("OSError: [Errno 101] Network is unreachable", causes.NETWORK, ""),
        (
            "ConnectionRefusedError: [WinError 10061] No connection could be made because the "
            "target machine actively refused it",
            causes.REFUSED,
            "",
        ),
    ],
)
def test_client_library_messages(message: str, kind: str, endpoint: str) -> None:
    found = causes.unreachable(record(message))
    assert found is not None
    assert (found.kind, found.endpoint) == (kind, endpoint)


@pytest.mark.parametrize(
    "message",
    [
        "AssertionError: assert 2 == 3",
        "KeyError: 'connection'",
        "ValueError: port must be 0-65535",
        "ConnectionResetError: [Errno 104] Connection reset by peer",
    ],
)
def test_ordinary_failures_are_not_service_failures(message: str) -> None:
    assert causes.unreachable(record(message)) is None


def test_a_test_file_location_is_not_an_endpoint() -> None:
    longrepr = "tests/test_x.py:12: in test_x\nE   ConnectionRefusedError: [Errno 111] refused\n"
    found = causes.unreachable(record("ConnectionRefusedError: [Errno 111] refused", longrepr))
    assert found is not None and found.endpoint == ""


def test_groups_by_endpoint_most_tests_first() -> None:
    failures = [
        record("redis.exceptions.ConnectionError: Error 111 connecting to r:6379.", nodeid="a"),
        record(
            'OperationalError: connection to server at "db", port 5432 failed: Connection refused',
            nodeid="b",
        ),
        record(
            'OperationalError: connection to server at "db", port 5432 failed: Connection refused',
            nodeid="c",
        ),
        record("AssertionError: no", nodeid="d"),
    ]
    groups = causes.group_unreachable(failures)
    assert [(g.endpoint, [t.nodeid for t in g.tests]) for g in groups] == [
        ("db:5432", ["b", "c"]),
        ("r:6379", ["a"]),
    ]


def test_subprocess_timeout_is_not_a_service_failure() -> None:
    import subprocess
    import sys

    text = raised(
        lambda: subprocess.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.01)
    )
    assert text.startswith("subprocess.TimeoutExpired") and "timed out" in text
    assert causes.unreachable(record(text)) is None


def test_asyncio_wait_for_timeout_is_not_a_service_failure() -> None:
    text = raised(lambda: asyncio.run(asyncio.wait_for(asyncio.sleep(5), 0.01)))
    assert "TimeoutError" in text
    assert causes.unreachable(record(text)) is None


@pytest.mark.parametrize(
    ("message", "longrepr"),
    [
        ("AssertionError: the job timed out", "E       AssertionError: the job timed out\n"),
        (
            "AssertionError: assert 'timed out' == 'done'",
            "E       AssertionError: assert 'timed out' == 'done'\n"
            "E         - done\nE         + timed out\n",
        ),
        (
            "AssertionError: assert 'connection refused' not in 'connection refused by db'",
            "E       assert 'connection refused' not in 'connection refused by db'\n",
        ),
        ("Failed: DID NOT RAISE <class 'TimeoutError'>", ""),
        ("TimeoutError: operation timed out after 3 s", ""),
    ],
)
def test_assertions_and_other_timeouts_are_ordinary_failures(message: str, longrepr: str) -> None:
    assert causes.unreachable(record(message, longrepr)) is None


@pytest.mark.parametrize(
    "message",
    [
        "TimeoutError: timed out",
        "socket.timeout: timed out",
        "TimeoutError: [Errno 110] Connection timed out",
        "urllib3.exceptions.ConnectTimeoutError: (<urllib3.connection.HTTPConnection object at "
        "0x7f>, 'Connection to db timed out. (connect timeout=1)')",
        "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='api', port=80): Read timed "
        "out. (read timeout=1)",
        "httpx.ReadTimeout: timed out",
    ],
)
def test_network_timeouts_are_service_failures(message: str) -> None:
    found = causes.unreachable(record(message))
    assert found is not None and found.kind == causes.TIMEOUT
