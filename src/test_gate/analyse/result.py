"""The one result of a gated run: everything every renderer needs, decided once.

`analyse` is the analysis step of the pipeline: records + policy (+ the diagnosis, when one
ran) -> GateResult. It is pure; the renderers take only its output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from test_gate.analyse.verdict import Gating, Policy, Verdict, decide
from test_gate.read.records import Choice, RunData, TestRecord, files_ignored

if TYPE_CHECKING:  # the facts of a diagnosis, a history, a merge: made elsewhere, when asked
    from test_gate.analyse.causes import ServiceGroup
    from test_gate.analyse.findings import Diagnosis
    from test_gate.analyse.history import HistoryFacts
    from test_gate.analyse.merge import MergeFacts


@dataclass(frozen=True)
class Files:
    """Where the result and the summary are written, and pytest's report (for the outputs)."""

    result: Path
    summary: Path
    report: Path | None = None


@dataclass(frozen=True)
class GateResult:
    verdict: Verdict
    run: RunData
    files: Files
    seed: int | None = None  # the order test-gate chose (None: gating existing reports)
    command: str | None = None  # the command that reproduces the main run's order
    diagnosis: Diagnosis | None = None
    reproduce: Mapping[int, str] = field(default_factory=dict)  # each order's command, by seed
    unreachable: tuple[ServiceGroup, ...] = ()  # failures grouped by the service they missed
    ignored_files: int = 0  # test files never run (a directory counts each file it holds)
    path_prefix: str = ""  # pytest's rootdir relative to the repository, for annotations
    notices: tuple[str, ...] = ()  # what the gate did about settings the user also set
    cell: str = ""  # the matrix cell the run belongs to (its shard is `run.shard`)
    shard_asked: str = ""  # K/N of `--shard`, kept when the run could not say (a crash)
    merge: MergeFacts | None = None  # a merge of several jobs: their cells, across cells
    history: HistoryFacts | None = None  # the past runs and the quarantine, when asked for
    changed: frozenset[str] = frozenset()  # files a pull request changes (repository paths)


def check_seed(run: RunData, seed: int) -> RunData:
    """The run is recorded with the seed test-gate chose; a report that says another seed
    ran cannot be reproduced, and says so."""
    problems = run.problems
    if run.seed not in (None, str(seed)):
        problems = (
            *problems,
            f"the report's random-order seed {run.seed} is not the seed {seed} "
            "test-gate asked for: the order cannot be reproduced",
        )
    return replace(run, seed=str(seed), problems=problems)


def check_shard(run: RunData, shard: tuple[int, int] | None) -> RunData:
    """A shard run must say which part it ran, or a merge could not prove the parts add up."""
    if shard is None:
        return run
    asked = f"{shard[0]}/{shard[1]}"
    if run.shard is None or run.shard.label != asked:
        found = f"shard {run.shard.label}" if run.shard else "no shard"
        problem = (
            f"test-gate asked for shard {asked} and the record says {found}: pytest-test-gate "
            "did not split the suite (reinstall it: test-gate install-plugins)"
        )
        return replace(run, problems=(*run.problems, problem))
    return run


def with_root_cause(run: RunData, cause: str) -> RunData:
    """A reason that comes before all others: how the run ended."""
    session = replace(run.session, root_causes=(*run.session.root_causes, cause))
    return replace(run, session=session)


NAMES = {"reruns": "reruns", "bucket": "bucket", "test_timeout": "test-timeout"}


def setting_notices(choices: Sequence[Choice], asked: Mapping[str, object]) -> tuple[str, ...]:
    """Where the user's own options or configuration set what test-gate would have: theirs
    won. And where the plugin that owns a setting is missing: it did not apply."""
    out = []
    for choice in choices:
        name = NAMES.get(choice.name, choice.name)
        wanted = asked.get(choice.name)
        if choice.by == "user" and str(wanted) != choice.value:
            out.append(
                f"{choice.option} {choice.value} comes from your pytest options or "
                f"configuration: it is used, and test-gate's {name} ({wanted}) is not"
            )
        elif choice.by == "overridden":
            out.append(
                f"{choice.option} in your pytest options or configuration is turned off by "
                "test-gate's `-p no:randomly`: the order is pytest-random-order's, with the seed "
                "the result keeps, so that the run can be replayed"
            )
        elif choice.by == "missing":
            out.append(
                f"{name} {wanted} was not applied: the plugin that owns {choice.option} is not "
                "loaded (not installed: test-gate install-plugins; or turned off by a `-p no:`)"
            )
    return tuple(out)


def _unreachable(failures: Sequence[TestRecord]) -> tuple[ServiceGroup, ...]:
    """The failures grouped by the service they could not reach; its rules are imported when
    a test failed."""
    if not failures:
        return ()
    from test_gate.analyse.causes import group_unreachable

    return tuple(group_unreachable(failures))


def analyse(
    run: RunData,
    policy: Policy,
    files: Files,
    *,
    seed: int | None = None,
    command: str | None = None,
    diagnosis: Diagnosis | None = None,
    reproduce: Mapping[int, str] | None = None,
    path_prefix: str = "",
    notices: tuple[str, ...] = (),
    cell: str = "",
    shard_asked: str = "",
    merge: MergeFacts | None = None,
    history: tuple[HistoryFacts, Gating] | None = None,
) -> GateResult:
    decided = decide(run, policy, history[1] if history else None)
    return GateResult(
        verdict=decided,
        run=run,
        files=files,
        seed=seed,
        command=command,
        diagnosis=diagnosis,
        reproduce=dict(reproduce or {}),
        unreachable=_unreachable(decided.failures),
        ignored_files=files_ignored(run.ignored),
        path_prefix=path_prefix,
        notices=notices,
        cell=cell,
        shard_asked=shard_asked,
        merge=merge,
        history=history[0] if history else None,
    )
