"""The pytest11 entry point. Installing the plugin changes nothing: every part is off until
an option turns it on (`--test-gate`, or the exact-order options that test-gate's diagnosis
uses). Each part keeps its state in its own object, found through `config.stash`."""

from __future__ import annotations

import faulthandler
import signal
from typing import IO, TYPE_CHECKING, Any

import pytest

from pytest_test_gate import defaults, hooks, protocol, rerun_socket
from pytest_test_gate.recorder import Recorder
from pytest_test_gate.save import ReportSaver
from pytest_test_gate.state import StateWatch, WorkerState
from pytest_test_gate.unrun import UnrunRecorder

if TYPE_CHECKING:  # the exact order and the shards are imported when an option asks for them
    from pytest_test_gate.order import ExactOrder
    from pytest_test_gate.shard import Shard

RECORDER = pytest.StashKey[Recorder]()
UNRUN = pytest.StashKey[UnrunRecorder]()
EXACT_ORDER: pytest.StashKey[ExactOrder] = pytest.StashKey()
STACKS = pytest.StashKey[IO[str]]()
SHARD: pytest.StashKey[Shard] = pytest.StashKey()


def pytest_addhooks(pluginmanager: Any) -> None:
    pluginmanager.add_hookspecs(hooks)


DEFAULT_HELP = "the value of {} when the user's options and configuration set none"
# the options that take a value: (option, metavar, help); all are off while empty
VALUED_OPTIONS = (
    (
        protocol.OPT_RUN_ID,
        "ID",
        "an id written into the record, that proves the report is this run's",
    ),
    (
        protocol.OPT_RECORD,
        "FILE",
        "also write the record to FILE as it goes, one JSON event a line (implies --test-gate)",
    ),
    (protocol.OPT_RERUNS, "VALUE", DEFAULT_HELP.format("--reruns")),
    (protocol.OPT_BUCKET, "VALUE", DEFAULT_HELP.format("--random-order-bucket")),
    (protocol.OPT_TEST_TIMEOUT, "VALUE", DEFAULT_HELP.format("--timeout (pytest-timeout)")),
    (
        protocol.OPT_STACKS,
        "FILE",
        "on SIGUSR1, write every thread's stack to FILE (test-gate asks before it stops a run "
        "that hangs)",
    ),
    (
        protocol.OPT_ORDER,
        "FILE",
        "run exactly the test ids in FILE (one a line), in that order",
    ),
    (protocol.OPT_OUTCOMES, "FILE", "write the outcome of each test to FILE as JSON"),
    (
        protocol.OPT_REPORT,
        "FILE",
        "save pytest-json-report's report to FILE with the C JSON encoder (give "
        "--json-report-file=none to turn its own, slower save off)",
    ),
    (
        protocol.OPT_SHARD,
        "K/N",
        "run part K of N of the collected suite, split the same way in every shard",
    ),
    (
        protocol.OPT_DURATIONS,
        "FILE",
        "balance the shards by the test durations in FILE (a test-gate result, a "
        "pytest-json-report report, or a JSON object of id -> seconds)",
    ),
)


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("test-gate", "test-gate: a truthful record of the run")
    group.addoption(
        protocol.OPT_ENABLE,
        action="store_true",
        default=False,
        help="record every attempt of every test, and what never ran, for test-gate "
        "(into the JSON report of pytest-json-report, under 'test_gate')",
    )
    group.addoption(
        protocol.OPT_NO_STATE,
        action="store_true",
        default=False,
        help="with --test-gate: do not watch the process-global state each test leaves "
        "behind (the diagnosis then bisects without it)",
    )
    group.addoption(
        protocol.OPT_DIGEST_ONLY,
        action="store_true",
        default=False,
        help=f"with {protocol.OPT_REPORT}: save only the report's digest beside FILE (what "
        "test-gate reads of it), not the report (a run whose report no one keeps)",
    )
    for flag, metavar, help_text in VALUED_OPTIONS:
        group.addoption(flag, default="", metavar=metavar, help=help_text)


def _option(config: Any, flag: str) -> Any:
    return config.getoption(flag.lstrip("-").replace("-", "_"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: Any) -> None:
    """First, before the other plugins read their settings: test-gate's defaults where the
    user set none (in pytest-xdist's workers too: they run the tests). Then the parts that an
    option turned on."""
    chosen = defaults.apply(config)
    record_file = _option(config, protocol.OPT_RECORD)
    if _option(config, protocol.OPT_ENABLE) or record_file:
        unrun = UnrunRecorder(config)
        config.stash[UNRUN] = unrun
        config.pluginmanager.register(unrun, "test_gate_unrun")
        if not hasattr(config, "workerinput"):  # pytest-xdist workers report to the controller
            run_id = _option(config, protocol.OPT_RUN_ID)
            in_memory = not _report_dropped(config)
            recorder = Recorder(config, run_id, record_file, chosen, unrun, in_memory)
            config.stash[RECORDER] = recorder
            config.pluginmanager.register(recorder, "test_gate_recorder")
            if not _xdist_controller(config) and not _option(config, protocol.OPT_NO_STATE):
                watch = StateWatch(config, recorder.state_changed, recorder.watch_notes)
                config.pluginmanager.register(watch, "test_gate_state")
        elif not _option(config, protocol.OPT_NO_STATE):
            worker = WorkerState()
            config.pluginmanager.register(worker, "test_gate_worker_state")
            watch = StateWatch(config, worker.add, worker.notes)
            config.pluginmanager.register(watch, "test_gate_state")
    stacks = _option(config, protocol.OPT_STACKS)
    if stacks and hasattr(signal, "SIGUSR1") and not hasattr(config, "workerinput"):
        handle = open(stacks, "w", encoding="utf-8")  # noqa: SIM115  (open while pytest runs)
        config.stash[STACKS] = handle
        faulthandler.register(signal.SIGUSR1, file=handle, all_threads=True)
    order_file = _option(config, protocol.OPT_ORDER)
    saved = _option(config, protocol.OPT_REPORT)
    if saved and not hasattr(config, "workerinput"):  # the controller has the report
        only = bool(_option(config, protocol.OPT_DIGEST_ONLY))
        saver = ReportSaver(config, saved, digest_only=only)
        config.pluginmanager.register(saver, "test_gate_report_saver")
    shard = _shard(config)
    if shard is not None and not order_file:  # an exact order names the tests itself
        config.stash[SHARD] = shard
        config.pluginmanager.register(shard, "test_gate_shard")
    outcomes = _option(config, protocol.OPT_OUTCOMES)
    if (order_file or outcomes) and not hasattr(config, "workerinput"):
        from pytest_test_gate.order import ExactOrder

        exact = ExactOrder.from_files(config, order_file or None, outcomes or None)
        config.stash[EXACT_ORDER] = exact
        config.pluginmanager.register(exact, "test_gate_exact_order")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: Any) -> None:
    """Before pytest-xdist's controller starts its workers, and in each worker before its
    tests: pytest-rerunfailures' status socket without Nagle's delay (rerun_socket.py)."""
    config = session.config
    if _option(config, protocol.OPT_ENABLE) or _option(config, protocol.OPT_RECORD):
        rerun_socket.no_delay(config)


def _report_dropped(config: Any) -> bool:
    """No one keeps pytest-json-report's report (test-gate saves only its digest, and
    pytest-json-report saves nothing): it needs no copy of the record, the record file is it."""
    return bool(
        _option(config, protocol.OPT_DIGEST_ONLY)
        and _option(config, protocol.OPT_REPORT)
        and getattr(config.option, "json_report_file", None) is None
    )


def _xdist_controller(config: Any) -> bool:
    """pytest-xdist's controller runs no test: its workers do (`-n 0` runs them itself)."""
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    return bool(numprocesses) or dist not in ("no", None)


def _shard(config: Any) -> Shard | None:
    text = _option(config, protocol.OPT_SHARD)
    durations = _option(config, protocol.OPT_DURATIONS)
    if not text and not durations:
        return None  # most runs: nothing of the shards' is imported
    from pytest_test_gate.shard import Shard
    from pytest_test_gate.split import SplitError, parse_shard, read_durations

    try:
        if not text:
            raise SplitError(f"{protocol.OPT_DURATIONS} needs {protocol.OPT_SHARD}")
        index, total = parse_shard(text)
        found = read_durations(durations) if durations else None
    except SplitError as exc:
        raise pytest.UsageError(f"test-gate shard: {exc}") from None
    return Shard(index, total, found, durations)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: Any) -> None:
    handle = config.stash.get(STACKS, None)
    if handle is not None:
        handle.close()
