"""Escaping: text from tests cannot change the page it lands in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from test_gate.render.escape import code, code_block, md


def test_md_escapes_markup_and_html() -> None:
    text = md("**bold** <script>alert(1)</script> [x](http://e) | @team\nnext")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\*\\*bold\\*\\*" in text
    assert "\\[x\\](http" in text
    assert "\\|" in text and "\n" not in text


def test_code_span_survives_backticks_and_pipes() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", in_table=True) == "`a\\|b`"


@given(st.text())
def test_code_block_cannot_be_closed_from_inside(text: str) -> None:
    block = code_block(text)
    fence = block.split("\n", 1)[0]
    body = block[len(fence) + 1 : -len(fence) - 1]
    assert not any(line.startswith(fence) for line in body.split("\n"))


def test_invisible_and_reordering_characters_are_shown() -> None:
    from test_gate.render.escape import one_line, visible

    text = "ok\u202eevil\u200b\x00\x1b[31m\u2066x"
    assert visible(text) == "ok<U+202E>evil<U+200B><U+0000><U+001B>[31m<U+2066>x"
    for rendered in (md(text), code(text), code_block(text), one_line(text)):
        assert not any(ch in rendered for ch in "\u202e\u200b\x00\x1b\u2066")


FORMS = [
    "::error::forged",
    "  ::warning title=x::forged",
    "\t::set-output name=verdict::pass",
    "\r::add-mask::forged",
    "\u3000::notice::forged",
    "x ##[error]forged",
    "##[set-output name=verdict;]pass",
    "a ##[warning title=x]forged ##[error]twice",
    "::stop-commands::token",
    "::",
]


def test_every_form_a_runner_reads_is_made_inert() -> None:
    from workflow_commands import command_in

    from test_gate.render.escape import inert, inert_line

    for form in FORMS:
        assert command_in(inert_line(form)) is None, form
        assert "forged" not in form or "forged" in inert_line(form)  # still readable
    text = "\n".join(FORMS)
    assert all(command_in(line) is None for line in inert(text).split("\n"))
    assert inert("plain text: a::b and #[x]") == "plain text: a::b and #[x]"


@given(st.text())
def test_no_text_can_become_a_command(text: str) -> None:
    from workflow_commands import command_in

    from test_gate.render.escape import inert

    assert all(command_in(line) is None for line in inert(text).split("\n"))
