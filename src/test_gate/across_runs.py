"""The history and the quarantine, as the pipelines use them: before the verdict, what the
past and the quarantine say of this run; after it, the run appended to the store. The edges
(which run this is, the store's file) are here; the deciding is `analyse.history`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from test_gate.analyse.result import GateResult, with_root_cause
from test_gate.read.records import RunData
from test_gate.run.cancel import Cancelled
from test_gate.settings import HistorySettings

if TYPE_CHECKING:  # the stores and the quarantine are imported when a run asks for them
    from test_gate.analyse.findings import Diagnosis
    from test_gate.analyse.history import Evidence, HistoryFacts
    from test_gate.analyse.verdict import Gating
    from test_gate.read.history import History, Key
    from test_gate.read.identity import Identity


@dataclass(frozen=True)
class Recording:
    """Where and as what a gated run is appended to the history."""

    path: Path | str  # a file, or a PostgreSQL URL
    identity: Identity
    lane: str
    keep: int
    categories: Mapping[Key, str]

    @property
    def name(self) -> str:
        from test_gate.read.history import display

        return display(self.path)


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def look_back(
    run: RunData,
    diagnosis: Diagnosis | None,
    settings: HistorySettings,
    lane: str,
    where: Path,
) -> tuple[RunData, tuple[HistoryFacts, Gating] | None, Recording | None]:
    """The history and the quarantine, applied to this run (when asked for), and where the
    run will be recorded. A history that cannot be read is a notice: the run is gated on its
    own data, every failure counts as new, and the file is left alone. A job cancelled while
    the history is read still ends with a verdict: a fail, whose first reason says so."""
    if not settings.asked:
        return run, None, None
    try:
        looked, recording = _look_back(run, diagnosis, settings, lane, where)
    except Cancelled as cancelled:
        cause = f"the run was cancelled ({cancelled.name}) while the history was read"
        return with_root_cause(run, cause), None, None
    return run, looked, recording


def _look_back(
    run: RunData,
    diagnosis: Diagnosis | None,
    settings: HistorySettings,
    lane: str,
    where: Path,
) -> tuple[tuple[HistoryFacts, Gating], Recording | None]:
    from test_gate.analyse.history import FAILING, HistoryPolicy, assess, categories, key
    from test_gate.read.history import Lane, display, load_history
    from test_gate.read.identity import identify
    from test_gate.read.store import HistoryUnusable

    notices: list[str] = []
    history: History | None = None
    recording = None
    identity: Identity | None = None  # only a history needs it (git is asked, at the edge)
    evidence = None
    source = settings.source
    if source is not None:
        identity = identify(
            where, settings.branch, settings.base, pull_request=settings.pull_request
        )
        failing = [key(t) for t in run.tests if t.outcome.value in FAILING]
        try:
            history = load_history(
                source,
                Lane(identity.branch, identity.base, lane, identity.repository),
                settings.window - 1,  # the window holds this run too
                failing,
            )
        except HistoryUnusable as exc:
            notices.append(
                f"{exc}; this run is gated on its own data (every failure counts as new) and "
                "is not recorded"
            )
        else:
            recording = Recording(source, identity, lane, settings.keep, categories(run, diagnosis))
            if history.new:
                notices.append(f"history {display(source)}: none yet; this run starts it")
            evidence = _evidence(history, identity, where)
    looked = assess(
        run,
        diagnosis,
        history,
        settings.quarantine,
        today=today(),
        policy=HistoryPolicy(
            settings.fail_on,
            settings.max_flaky_rate,
            settings.window,
            settings.max_quarantined,
            settings.require_stable,
            settings.threshold,
        ),
        lane=(identity.branch, identity.base, lane) if identity else ("", None, ""),
        notices=notices,
        when=(identity.time, identity.commit) if identity else ("", ""),
        evidence=evidence,
    )
    return looked, recording


def _evidence(history: History, identity: Identity, where: Path) -> Evidence:
    """On a pull request, which commits of its own earlier runs its base branch already
    holds (git is asked, for the commits a failing test ran at)."""
    from test_gate.analyse.history import Evidence
    from test_gate.read.identity import in_branch

    in_base: frozenset[str] = frozenset()
    if identity.pull_request and identity.base and history.ran_here:
        commits = [c for runs in history.ran_here.values() for c, _ in runs]
        commits += [r.commit for r in history.window]
        in_base = in_branch(where, identity.base, commits)
    return Evidence(identity.commit, identity.pull_request, in_base)


def record(result: GateResult, recording: Recording | None) -> GateResult:
    """The run appended to the history, and a notice of what was written; a history that
    cannot take it is a notice too, never a failure of the gate."""
    if recording is None or result.history is None:
        return result
    from test_gate.publish.history import record_run
    from test_gate.read.store import HistoryUnusable
    from test_gate.render.history import run_entry

    try:
        done = record_run(
            recording.path,
            run_entry(result, recording.identity, recording.lane, recording.categories),
            recording.keep,
        )
        notice = (
            f"history {recording.name}: run #{done.run_id} recorded; {done.stored_runs} run(s) "
            f"kept"
            + (f", {done.pruned} older dropped" if done.pruned else "")
            + f", {done.size / 1024:.0f} KiB"
        )
    except HistoryUnusable as exc:
        notice = f"{exc}; this run is not recorded"
    except Cancelled as cancelled:
        notice = f"history {recording.name}: the job was cancelled ({cancelled.name}) while "
        notice += "the run was recorded; it is not recorded, and the file is as it was"
    except OSError as exc:
        notice = f"history {recording.name}: cannot be written ({exc.strerror}); not recorded"
    facts = replace(result.history, notices=(*result.history.notices, notice))
    return replace(result, history=facts)
