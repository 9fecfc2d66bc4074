"""Only regular files within a bound are read: a FIFO, a device, a directory or a huge file is
refused with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_gate.read.files import Unreadable, check_regular, read_bytes, read_text
from test_gate.read.report import ReportError, load_json


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"tests": []}')
    assert read_bytes(path, 100) == b'{"tests": []}'


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(Unreadable, match="named pipe"):
        read_bytes(fifo, 100)
    assert read_text(fifo) is None


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused() -> None:
    with pytest.raises(Unreadable, match="a device"):
        check_regular(Path("/dev/zero"), 100)


def test_a_directory_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Unreadable, match="a directory"):
        check_regular(tmp_path, 100)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(Unreadable, match="101 bytes, over the 100 bytes"):
        read_bytes(big, 100)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper"),
        ('{"tests": [], "exitcode": ' + "9" * 5000 + "}", "holds a value no report holds"),
        ('{"tests": [', "truncated or corrupt"),
        ("[1, 2]", "no 'tests' list"),
    ],
)
def test_malformed_json_is_one_line(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ReportError, match=needle) as caught:
        load_json(path)
    assert "\n" not in str(caught.value)


def test_a_missing_report_says_pytest_wrote_none(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist: pytest wrote no report"):
        load_json(tmp_path / "none.json")
