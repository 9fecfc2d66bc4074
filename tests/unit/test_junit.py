"""JUnit names as pytest's own junitxml makes them, and text XML can hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from test_gate.render.failures import clean
from test_gate.render.junit import names, xml_text


def test_names_follow_pytest_junitxml() -> None:
    assert names("tests/test_a.py::test_x") == ("tests.test_a", "test_x")
    assert names("tests/test_a.py::TestK::test_x[1-a]") == ("tests.test_a.TestK", "test_x[1-a]")
    assert names("tests/test_a.py") == ("tests.test_a", "tests/test_a.py")


def test_text_xml_cannot_hold_is_shown_not_written() -> None:
    text = xml_text("a\x00b\x1b\ud800\uffff\u202ec")
    assert text == "a<U+0000>b<U+001B><U+D800><U+FFFF><U+202E>c"
    ET.fromstring(f"<a b='{text.replace('<', '&lt;')}'/>")  # parses


def test_pytest_advice_to_rerun_with_v_is_dropped() -> None:
    message = "AssertionError: assert 1 == 2\nE         Use -v to get more diff\nE  next"
    assert clean(message) == "AssertionError: assert 1 == 2\nE  next"
