"""The diagnosis in the summary and the result file: escaped, complete, honest about gaps."""

from __future__ import annotations

from test_gate.analyse.causes import group_unreachable
from test_gate.analyse.findings import (
    BROKEN,
    NEEDS_SETTER,
    ORDER_DEPENDENT,
    POLLUTED,
    UNCONFIRMED,
    Diagnosis,
    Examined,
    OrderChange,
)
from test_gate.read.records import Attempt, Outcome
from test_gate.read.records import TestRecord as Record
from test_gate.render import diagnosis as view

NASTY = "tests/test_x.py::test_a[`|<b>]"

DIAG = Diagnosis(
    examined=(
        Examined(
            NASTY, ORDER_DEPENDENT, POLLUTED, ("tests/p.py::test_p",), 9, 6, 1.5, "cmd 1", seed=3
        ),
        Examined(
            "t.py::s",
            ORDER_DEPENDENT,
            NEEDS_SETTER,
            ("t.py::setup",),
            4,
            4,
            1.0,
            "cmd 2",
            "cmd 3",
            seed=3,
        ),
        Examined("t.py::b", BROKEN, runs=2, command="cmd 4", note="AssertionError", seed=3),
        Examined("t.py::u", UNCONFIRMED, runs=3, note="likely flaky", seed=4),
    ),
    flaky=("t.py::f",),
    not_examined=(("t.py::late", "--max-victims 4 reached"),),
    runs=15,
    seconds=3.5,
    seeds=(3,),
)


def test_each_examined_test_is_explained_once_with_its_commands() -> None:
    explained = [view.explain(e, 3) for e in DIAG.examined]
    text = "\n".join(e.sentence for e in explained)
    # inside a code span, GitHub shows `<b>` as text
    assert "``tests/test_x.py::test_a[`|<b>]``" in text
    assert text.count("<b>") == 1
    assert "**order-dependent**" in text and "`tests/p.py::test_p`" in text
    assert "**needs a state-setter**" in text
    assert "**broken**" in text
    assert "**not explained**" in text and "(in the order of seed 4)" in text
    assert [e.commands for e in explained] == [
        (("Reproduce", "cmd 1"),),
        (("Fails", "cmd 2"), ("Passes", "cmd 3")),
        (("Reproduce", "cmd 4"),),
        (),
    ]
    assert [e.plain for e in explained] == [
        "order-dependent → tests/p.py::test_p",
        "order-dependent: needs t.py::setup first",
        "broken",
        "not explained",
    ]
    assert explained[0].what == "order-dependent → `tests/p.py::test_p`"


def test_the_lines_under_the_table_say_the_cost_and_the_gaps() -> None:
    text = "\n".join(b.full for b in view.diagnosis_lines(DIAG))
    assert "Diagnosed in 15 fresh pytest run(s), 3.5 s; the counts are not changed" in text
    assert "Not examined (--max-victims 4 reached): 1 test(s)" in text


def test_result_keys() -> None:
    keys = view.result_keys(DIAG, [], {})
    assert [e["victim"] for e in keys["order_dependent"]] == [NASTY, "t.py::s"]
    assert keys["order_dependent"][0]["polluters"] == ["tests/p.py::test_p"]
    assert keys["order_dependent"][1]["setters"] == ["t.py::setup"]
    assert keys["order_dependent"][1]["passing_command"] == "cmd 3"
    assert keys["broken"] == [
        {"nodeid": "t.py::b", "runs": 2, "command": "cmd 4", "message": "AssertionError", "seed": 3}
    ]
    assert keys["diagnosis"]["not_examined"] == [
        {"nodeid": "t.py::late", "why": "--max-victims 4 reached"}
    ]
    assert "order_sensitive" not in keys  # one order only


def test_unreachable_table_escapes_test_text() -> None:
    failing = Record(
        "t.py::test_|x",
        "t.py",
        1,
        (
            Attempt(
                Outcome.ERROR,
                "ConnectionRefusedError: [Errno 111] Connect call failed ('h|<i>', 5)",
            ),
        ),
        0,
    )
    section = view.unreachable_section(group_unreachable([failing]))
    assert section is not None
    rows = [b.full for b in section.blocks]
    assert "`h\\|<i>:5`" in rows[1] and "<i>" not in rows[1].replace("`h\\|<i>:5`", "")
    assert view.unreachable_section([]) is None


def test_orders_alone_are_reported_without_a_diagnosis_section() -> None:
    only_orders = Diagnosis(
        seeds=(1, 2),
        order_sensitive=(OrderChange("t::v", ((1, "passed"), (2, "failed"))),),
        ran=False,
        order_notes=("the run with seed 3 did not finish within 30 s and was stopped",),
    )
    keys = view.result_keys(only_orders, [], {1: "c1", 2: "c2"})
    assert [o["seed"] for o in keys["orders"]] == [1, 2]
    assert keys["order_sensitive"][0]["nodeid"] == "t::v"
    assert keys["orders_not_run"] == list(only_orders.order_notes)
    assert "order_dependent" not in keys and "diagnosis" not in keys
    assert view.diagnosis_lines(only_orders) == ()
    section = view.order_section(only_orders, {1: "c1", 2: "c2"})
    assert section is not None
    assert any("seed 3 did not finish" in b.full for b in section.blocks)
    assert "seed 3 did not finish" in view.terminal_lines(only_orders)
