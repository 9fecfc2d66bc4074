"""The diagnosis and the failure causes, for the summary, the result file and the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from test_gate.analyse.causes import ServiceGroup
from test_gate.analyse.findings import (
    BROKEN,
    NEEDS_SETTER,
    ORDER_DEPENDENT,
    UNCONFIRMED,
    Diagnosis,
    Examined,
)
from test_gate.read.records import TestRecord
from test_gate.render.annotation import MESSAGE_LIMIT, Annotation
from test_gate.render.escape import code, code_block, md, node_cell, one_line
from test_gate.render.markdown import Block, Section

MAX_TESTS_NAMED = 5


def _tests(names: Sequence[str]) -> str:
    shown = ", ".join(code(n) for n in names[:MAX_TESTS_NAMED])
    more = len(names) - MAX_TESTS_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def _cost(item: Examined) -> str:
    searched = f" among {item.candidates} tests" if item.candidates else ""
    return f"{item.runs} pytest run(s){searched}, {item.seconds:.1f} s"


def _seed(item: Examined, main_seed: int | None) -> str:
    if item.seed is None or item.seed == main_seed:
        return ""
    return f" (in the order of seed {item.seed})"


STATE_SHOWN = 3  # changes named beside a polluter; the result file has every one


def _left(item: Examined) -> list[tuple[str, str]]:
    """(what changed, by whom) for the state named beside a polluter."""
    out = []
    for suspect in item.state[:STATE_SHOWN]:
        by = [n for n in suspect.by if n in item.culprits] or list(suspect.by[:1])
        out.append((suspect.text, ", ".join(by)))
    return out


def state_text(item: Examined) -> str:
    """What the culprits left changed, as the victim saw it, in one line:
    `os.environ['MODE'] = 'strict' (was unset) left by tests/test_a.py::test_x`."""
    more = len(item.state) - STATE_SHOWN
    return "; ".join(f"{what} left by {by}" for what, by in _left(item)) + (
        f"; and {more} more" if more > 0 else ""
    )


def _via(item: Examined) -> str:
    """The fixture that made the state the victim relies on, when one did."""
    return next((s.via for s in item.state if s.via), "")


def _state_line(item: Examined) -> str:
    """The Markdown sentence naming the state, or ""."""
    if not item.state:
        return ""
    parts = [f"{code(what)} left by {code(by)}" for what, by in _left(item)]
    more = len(item.state) - STATE_SHOWN
    return f" It saw {'; '.join(parts)}{f'; and {more} more' if more > 0 else ''}."


@dataclass(frozen=True)
class Explained:
    """One examined test as the summary shows it: a few words for its row of the failures
    table, the sentence that explains it, and the commands that show it."""

    what: str  # Markdown: "order-dependent → `tests/a.py::test_x`"
    sentence: str  # Markdown
    commands: tuple[tuple[str, str], ...] = ()  # (label, shell command)
    plain: str = ""  # `what` as plain text, for the terminal


def _culprits(names: Sequence[str]) -> str:
    shown = ", ".join(node_cell(n) for n in names[:2])
    return shown + (f" and {len(names) - 2} more" if len(names) > 2 else "")


def _plain_what(item: Examined) -> str:
    names = ", ".join(item.culprits[:2]) + (
        f" and {len(item.culprits) - 2} more" if len(item.culprits) > 2 else ""
    )
    if item.category == ORDER_DEPENDENT and item.kind == NEEDS_SETTER:
        return f"order-dependent: needs {names} first"
    if item.category == ORDER_DEPENDENT:
        kind = "order-dependent hang" if item.hang else "order-dependent"
        return f"{kind} → {names}" + (", masked by its rerun" if item.masked else "")
    if item.category == BROKEN:
        return "hangs (alone too)" if item.hang else "broken"
    return "flaky by itself" if item.masked else "not explained"


def explain(item: Examined, main_seed: int | None) -> Explained:
    """What the diagnosis found about one test, said once."""
    return replace(_explain(item, main_seed), plain=_plain_what(item))


def _explain(item: Examined, main_seed: int | None) -> Explained:
    victim = code(item.nodeid)
    where = _seed(item, main_seed)
    if item.category == ORDER_DEPENDENT and item.kind == NEEDS_SETTER:
        via = _via(item)
        setter = f"{md(via)}, which {_tests(item.setters)} set up" if via else _tests(item.setters)
        return Explained(
            f"order-dependent: needs {_culprits(item.setters)} first",
            f"{victim}{where} **needs a state-setter**: it fails alone and passes after "
            f"{setter}; it relies on the state that leaves ({_cost(item)}).{_state_line(item)}",
            (("Fails", item.command), ("Passes", item.passing_command)),
        )
    if item.category == ORDER_DEPENDENT:
        word = "polluter" if len(item.polluters) == 1 else "polluters, together"
        if item.masked:
            return Explained(
                f"order-dependent → {_culprits(item.polluters)}, masked by its rerun",
                f"{victim}{where} **order-dependent, masked by its rerun**: it failed after "
                f"{_tests(item.polluters)} ({word}) and passed on the rerun in the same "
                f"process; it counts as passed, and will fail again in every run with this "
                f"order ({_cost(item)}).{_state_line(item)}",
                (("Reproduce", item.command),),
            )
        kind, verb = (
            ("order-dependent hang", "hangs") if item.hang else ("order-dependent", "fails")
        )
        return Explained(
            f"{kind} → {_culprits(item.polluters)}",
            f"{victim}{where} **{kind}**: passes alone, {verb} after "
            f"{_tests(item.polluters)} ({word}; {_cost(item)}).{_state_line(item)}",
            (("Reproduce", item.command),),
        )
    if item.category == BROKEN:
        kind, verb = ("hangs", "hangs") if item.hang else ("broken", "fails")
        return Explained(
            f"{kind} (alone too)" if item.hang else "broken",
            f"{victim}{where} **{kind}**: {verb} alone too ({_cost(item)}).",
            (("Reproduce", item.command),),
        )
    if item.masked:
        return Explained(
            "flaky by itself",
            f"{victim}{where} **flaky, not order-dependent**: {md(item.note, 500)} "
            f"({_cost(item)}).",
        )
    return Explained(
        "not explained",
        f"{victim}{where} **not explained**: {md(item.note, 500)} ({_cost(item)}).",
    )


def diagnosis_lines(diagnosis: Diagnosis) -> tuple[Block, ...]:
    """Under the failures table: what the diagnosis cost, and what it left out. Each test's
    finding is in its row, not here."""
    if not diagnosis.ran:
        return ()
    line = (
        f"Diagnosed in {diagnosis.runs} fresh pytest run(s), {diagnosis.seconds:.1f} s; "
        "the counts are not changed by it."
    )
    blocks = [Block(line, line)]
    reasons: dict[str, list[str]] = {}
    for nodeid, why in diagnosis.not_examined:
        reasons.setdefault(why, []).append(nodeid)
    for why, names in reasons.items():
        text = f"- Not examined ({md(why)}): {len(names)} test(s): {_tests(names)}."
        blocks.append(Block(text, text))
    blocks += [Block(f"- {md(note, 500)}") for note in diagnosis.notes]
    return tuple(blocks)


def unreachable_section(groups: Sequence[ServiceGroup]) -> Section | None:
    if not groups:
        return None
    header = "| service | failing tests | what happened | e.g. |\n|---|---:|---|---|"
    blocks = [Block(header, header)]
    for group in groups:
        first = group.tests[0]
        row = (
            f"| {code(group.endpoint, in_table=True) if group.endpoint else 'unknown'} "
            f"| {len(group.tests)} | {md(', '.join(group.kinds))} "
            f"| {code(first.nodeid, in_table=True)}: {md(first.message, 200)} |"
        )
        blocks.append(Block(row))
    total = sum(len(g.tests) for g in groups)
    return Section(
        f"External service unreachable ({total})",
        tuple(blocks),
        intro="These tests failed because a service they talk to could not be reached: "
        "check that it runs in CI before reading the tracebacks.",
        what="services",
    )


def order_section(diagnosis: Diagnosis, reproduce: Mapping[int, str]) -> Section | None:
    if len(diagnosis.seeds) < 2 and not diagnosis.order_notes:
        return None
    seeds = ", ".join(str(s) for s in diagnosis.seeds)
    intro = f"The suite ran in {len(diagnosis.seeds)} order(s) (seeds {seeds})."
    notes = tuple(
        Block(("\n" if i == 0 else "") + f"- {md(note, 500)}")
        for i, note in enumerate(diagnosis.order_notes)
    )
    if not diagnosis.order_sensitive:
        return Section(
            "Order-sensitive tests (0)",
            (Block(intro + " No test changed its outcome with the order."), *notes),
        )
    header = "| test | outcome by seed |\n|---|---|"
    blocks = [Block(header, header)]
    for change in diagnosis.order_sensitive:
        cells = ", ".join(f"{seed}: {outcome}" for seed, outcome in change.outcomes)
        blocks.append(Block(f"| {code(change.nodeid, in_table=True)} | {md(cells)} |"))
    commands = "\n".join(f"# seed {s}\n{c}" for s, c in reproduce.items())
    if commands:
        blocks.append(Block("\nEach order:\n\n" + code_block(commands, "sh")))
    blocks += notes
    return Section(
        f"Order-sensitive tests ({len(diagnosis.order_sensitive)})",
        tuple(blocks),
        intro=intro + " The outcome of these tests changed with the order.",
        what="tests",
    )


def _entry(item: Examined) -> dict[str, Any]:
    return {
        "victim": item.nodeid,
        "masked_by_rerun": item.masked,
        "kind": item.kind,
        "polluters": list(item.polluters),
        "setters": list(item.setters),
        "candidates": item.candidates,
        "runs": item.runs,
        "seconds": item.seconds,
        "seed": item.seed,
        "command": item.command,
        "passing_command": item.passing_command or None,
        "polluted_state": [
            {"key": s.key, "was": s.was or None, "now": s.now, "by": list(s.by)} for s in item.state
        ],
    }


def result_keys(
    diagnosis: Diagnosis | None, groups: Sequence[ServiceGroup], reproduce: Mapping[int, str]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unreachable": [
            {
                "endpoint": g.endpoint or None,
                "kinds": list(g.kinds),
                "tests": [{"nodeid": u.nodeid, "message": u.message} for u in g.tests],
            }
            for g in groups
        ]
    }
    if diagnosis is None:
        return data
    if len(diagnosis.seeds) > 1:
        data["orders"] = [{"seed": s, "command": reproduce.get(s)} for s in diagnosis.seeds]
        data["order_sensitive"] = [
            {"nodeid": c.nodeid, "outcomes": [{"seed": s, "outcome": o} for s, o in c.outcomes]}
            for c in diagnosis.order_sensitive
        ]
    if diagnosis.order_notes:
        data["orders_not_run"] = list(diagnosis.order_notes)
    if not diagnosis.ran:
        return data
    data["order_dependent"] = [_entry(e) for e in diagnosis.by_category(ORDER_DEPENDENT)]
    data["broken"] = [
        {
            "nodeid": e.nodeid,
            "runs": e.runs,
            "command": e.command,
            "message": e.note,
            "seed": e.seed,
        }
        for e in diagnosis.by_category(BROKEN)
    ]
    data["diagnosis"] = {
        "runs": diagnosis.runs,
        "seconds": diagnosis.seconds,
        "flaky": list(diagnosis.flaky),
        "unexplained": [
            {"nodeid": e.nodeid, "runs": e.runs, "why": e.note}
            for e in diagnosis.by_category(UNCONFIRMED)
            if not e.masked
        ],
        "flaky_not_order_dependent": [
            {"nodeid": e.nodeid, "runs": e.runs, "why": e.note}
            for e in diagnosis.by_category(UNCONFIRMED)
            if e.masked
        ],
        "not_examined": [{"nodeid": n, "why": w} for n, w in diagnosis.not_examined],
        "notes": list(diagnosis.notes),
    }
    return data


def terminal_detail(item: Examined) -> list[str]:
    """The lines under a test the diagnosis examined, in the terminal: the state, the command
    that shows it (its kind is beside its name)."""
    lines = []
    if item.category == ORDER_DEPENDENT and item.state:
        lines.append(f"state: {one_line(state_text(item), 400)}")
    if item.category == ORDER_DEPENDENT and item.kind == NEEDS_SETTER:
        lines += [f"fails: {item.command}", f"passes: {item.passing_command}"]
    elif item.category == UNCONFIRMED:
        lines.append(one_line(item.note, 200))
    elif item.command:
        lines.append(f"reproduce: {item.command}")
    return lines


def terminal_lines(diagnosis: Diagnosis) -> str:
    """What the diagnosis cost and left out; each test's finding is beside its name."""
    lines = [f"  diagnosis: {diagnosis.runs} run(s), {diagnosis.seconds:.1f} s"]
    if not diagnosis.ran:
        lines = ["  --orders:"]
    lines += [f"    {note}" for note in diagnosis.order_notes]
    if diagnosis.not_examined:
        lines.append(f"    not examined: {len(diagnosis.not_examined)} test(s)")
    lines += [f"    {one_line(note, 300)}" for note in diagnosis.notes]
    for change in diagnosis.order_sensitive:
        cells = ", ".join(f"{s}: {o}" for s, o in change.outcomes)
        lines.append(f"    order-sensitive: {change.nodeid} ({cells})")
    return "\n".join(lines) + "\n"


def notices(diagnosis: Diagnosis | None, failures: Sequence[TestRecord]) -> list[Annotation]:
    """A notice beside each order-dependent test: why it failed, and the command that shows it.
    They compete for the notice slots after the failures themselves."""
    if diagnosis is None:
        return []
    where = {t.nodeid: (t.path, t.line) for t in failures}
    out = []
    for item in diagnosis.by_category(ORDER_DEPENDENT):
        path, line = where.get(item.nodeid, (item.nodeid.split("::", 1)[0], None))
        if item.kind == NEEDS_SETTER:
            relies = f"it relies on {state_text(item)}" if item.state else "it relies on it"
            why = (
                f"fails alone; passes after {', '.join(item.setters)}, which sets up state: "
                f"{relies}. Fails: {item.command} Passes: {item.passing_command}"
            )
        else:
            left = f"; it saw {state_text(item)}" if item.state else ", which leaves state behind"
            why = (
                f"passes alone; fails after {', '.join(item.polluters)}{left}. "
                f"Reproduce: {item.command}"
            )
        out.append(
            Annotation(
                "notice",
                one_line(why, MESSAGE_LIMIT),
                title=f"Order-dependent: {item.nodeid}",
                file=path,
                line=line,
            )
        )
    return out
