"""Mutations of a good quarantine file, and hostile values in it: the file is read, or
refused with one line that names it (a usage error, exit 2 in the CLI); never another
exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_gate.settings import UsageError, quarantine_file

GOOD = """\
# reviewed like code
[[test]]
id = "tests/test_net.py::test_download[a-b]"
reason = "the mirror is down"
owner = "@net"
expires = 2027-01-31

[[test]]
id = "tests/test_net.py::*"
reason = "the whole module waits for a fix"
owner = "@net"
expires = "2027-02-28"
"""
HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "::error::forged",
            "##[warning]forged",
            "\u202e\u200b",
            "[" * 500,
            "{a = " * 200,
            '"""',
            "'''",
            "\\u0000",
            "9999-99-99",
            "1979-05-27T07:32:00Z",
            "nan",
            "inf",
            "[[test]]",
            "= =",
        ]
    ),
)
CASES = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _read(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        quarantine_file(str(path))
    except UsageError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(f"--quarantine: {path}"), message


@CASES
@given(at=st.integers(min_value=0, max_value=len(GOOD)), cut=st.integers(0, 40), put=HOSTILE)
def test_a_mutated_file_is_read_or_refused_in_one_line(
    tmp_path: Path, at: int, cut: int, put: str
) -> None:
    _read(tmp_path / "q.toml", GOOD[:at] + put + GOOD[at + cut :])


@CASES
@given(
    key=st.sampled_from(["id", "reason", "owner", "expires", "other"]),
    value=HOSTILE,
    quoted=st.booleans(),
)
def test_a_hostile_value_is_read_or_refused_in_one_line(
    tmp_path: Path, key: str, value: str, quoted: bool
) -> None:
    rendered = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if quoted else value
    fields = {"id": '"t.py::x"', "reason": '"r"', "owner": '"@o"', "expires": "2027-01-01"}
    fields[key] = rendered
    _read(tmp_path / "q.toml", "[[test]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))


def test_the_good_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text(GOOD)
    found = quarantine_file(str(path))
    assert found is not None and len(found.entries) == 2


def test_a_file_that_is_no_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not UTF-8 text"):
        _read_raw(tmp_path / "q.toml", b"\xff\xfe[[test]]")


def _read_raw(path: Path, raw: bytes) -> None:
    path.write_bytes(raw)
    quarantine_file(str(path))
