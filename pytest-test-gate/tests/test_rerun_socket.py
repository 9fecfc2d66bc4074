"""pytest-rerunfailures' status socket under pytest-xdist, without Nagle's delay."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_test_gate.rerun_socket import no_delay

REPORTS_THE_SOCKET = """
import os
import socket
from pathlib import Path


def pytest_sessionfinish(session):
    sock = getattr(getattr(session.config, "failures_db", None), "sock", None)
    if sock is not None:
        worker = getattr(session.config, "workerinput", {}).get("workerid", "controller")
        value = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        Path(os.environ["SOCKETS"], worker).write_text(str(value))
"""


@pytest.mark.parametrize("enabled", [True, False])
def test_the_workers_and_the_controller_send_at_once(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    pytest.importorskip("xdist")
    pytester.makeconftest(REPORTS_THE_SOCKET)
    pytester.makepyfile(test_a="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    monkeypatch.setenv("SOCKETS", str(tmp_path))
    gate = ["--test-gate"] if enabled else []
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--reruns", "1", *gate)
    result.assert_outcomes(passed=2)
    found = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(found) == {"controller", "gw0", "gw1"}
    # on with the gate; untouched without it (installing the plugin changes nothing)
    assert all((value != "0") is enabled for value in found.values()), found


def test_nothing_happens_without_a_tcp_socket() -> None:
    assert not no_delay(SimpleNamespace())
    assert not no_delay(SimpleNamespace(failures_db=SimpleNamespace()))
    left, right = socket.socketpair()
    with left, right:
        assert not no_delay(SimpleNamespace(failures_db=SimpleNamespace(sock=left)))
