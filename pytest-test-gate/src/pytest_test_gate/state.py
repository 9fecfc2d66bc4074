"""Which process-global state each test left changed behind it: what a polluter leaves for a
later test to trip on. The diagnosis reads it to try the tests that changed what a victim
sees first, instead of bisecting everything that ran before it, and to name that state.

Around each test (its setup, call, teardown and reruns) the watch compares a cheap
fingerprint, and describes only what changed:

- ``os.environ`` (its writes are hooked, so an untouched environment costs nothing), the
  working directory, ``sys.path``, ``sys.modules`` (added and removed names);
- logging (the root logger's level and handlers, ``logging.disable``, and any logger whose
  level or handlers a test set), warnings filters, signal handlers, the default socket
  timeout, ``time.tzname``, the locale, the decimal context, and the clock and date
  functions of ``time`` and ``datetime`` (a freezer left running);
- the module globals of the project's own modules (files under the rootdir, outside any
  virtual environment) that the test's module refers to, and of the test module itself: a
  name bound to another object, or a container whose length changed;
- the entries of the rootdir and of the temp directory (their mtime first, the listing only
  when it moved).

What changed is kept as text, short: a key that names the state, the value before and after.
The per-test cost is a few microseconds (measured in benchmarks/overhead.py). Standard library
and pytest only.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest

from pytest_test_gate.fingerprint import (
    Change,
    Fingerprint,
    Shape,
    _change,
    _contents,
    _cwd,
    _fast,
    _fixture_name,
    _global_changes,
    _globals,
    _handler,
    _handlers,
    _inside,
    _level,
    _locale,
    _logger_changes,
    _mtime,
    _set_change,
    _shape,
    _text_change,
    _values,
    short,
)

MAX_CHANGES = 40  # changes kept of one test (the rest are counted)
MAX_MODULES = 16  # project modules watched for one test module
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE")
NOISE = frozenset({"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"})
OURS = frozenset({"PYTEST_CURRENT_TEST"})  # pytest's own, set and removed around each test
# the C function under signal.getsignal, which converts each answer to an enum (10x slower)
GETSIGNAL: Callable[[int], Any] = importlib.import_module("_signal").getsignal
STATE_WORKER_KEY = "test_gate_state"  # pytest-xdist: a worker's changes, sent to the controller
NOTES_WORKER_KEY = "test_gate_state_notes"  # and what its watch says of itself
# A directory listed to name the files a test made or removed costs a look at every entry
# (about 0.4 ms a thousand). When another process keeps one busy (a shared temp directory on
# a CI machine), its mtime moves during nearly every test, and what a look finds is mostly
# that process's files: `StateWatch._files` then looks less often.
BUSY, QUIET, EVERY = 1000, 16, 25

# the places in the cheap fingerprint (StateWatch._cheap)
(CWD, PATH, MODULES, LEVEL, HANDLERS, DISABLE, FILTERS, SIGNAL_HANDLERS, TIMEOUT, TZNAME,
 LOCALE, DECIMAL, CLOCK, MTIMES) = range(14)  # fmt: skip


class _EnvHook:
    """os.environ's writes, seen as they happen: `touched` holds each key's value before
    the first write of the current test."""

    def __init__(self) -> None:
        self.touched: dict[str, str | None] | None = None
        cls = type(os.environ)
        self.set_item, self.del_item = cls.__setitem__, cls.__delitem__
        hook = self

        # pytest's own PYTEST_CURRENT_TEST is written four times a test: it costs no call
        def setitem(env: Any, key: Any, value: Any) -> None:
            if hook.touched is not None and key not in OURS:
                hook.before_write(env, key)
            hook.set_item(env, key, value)

        def delitem(env: Any, key: Any) -> None:
            if hook.touched is not None and key not in OURS:
                hook.before_write(env, key)
            hook.del_item(env, key)

        cls.__setitem__ = setitem  # type: ignore[method-assign]
        cls.__delitem__ = delitem  # type: ignore[method-assign]

    def before_write(self, env: Any, key: Any) -> None:
        touched = self.touched
        if touched is not None and env is os.environ and key not in touched and key not in OURS:
            with suppress(Exception):
                touched[key] = os.environ.get(key)

    def undo(self) -> None:
        cls = type(os.environ)
        cls.__setitem__ = self.set_item  # type: ignore[method-assign]
        cls.__delitem__ = self.del_item  # type: ignore[method-assign]


class _LoggingHook:
    """The loggers a test set a level or a handler on, with their state before. The root
    logger is in the cheap fingerprint, and pytest's own log capture adds and removes its
    handlers a dozen times a test: it keeps the plain methods (bound on the instance)."""

    NAMES = ("setLevel", "addHandler", "removeHandler")

    def __init__(self) -> None:
        self.touched: dict[str, tuple[int, int, bool]] | None = None
        self.originals = {name: getattr(logging.Logger, name) for name in self.NAMES}
        hook = self
        for name, original in self.originals.items():

            def wrapped(logger: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                hook.before_write(logger)
                return _original(logger, *args, **kwargs)

            setattr(logging.Logger, name, wrapped)
            setattr(logging.root, name, types.MethodType(original, logging.root))

    def before_write(self, logger: Any) -> None:
        touched = self.touched
        if touched is not None and logger.name not in touched:
            touched[logger.name] = _logger_state(logger)

    def undo(self) -> None:
        for name, original in self.originals.items():
            setattr(logging.Logger, name, original)
            vars(logging.root).pop(name, None)


def _opened(directory: str) -> int | str:
    """A directory as its mtime is read each test: a descriptor kept open (its stat costs half
    of one by path, which walks the path again), or the path where one cannot be opened."""
    try:
        return os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return directory


def _logger_state(logger: Any) -> tuple[int, int, bool]:
    return (logger.level, len(logger.handlers), bool(logger.disabled))


class StateWatch:
    """Around each test, what it left changed. `report` gets (test id, changes) for each test
    that changed something."""

    def __init__(
        self,
        config: Any,
        report: Callable[[str, list[Change]], None],
        notes: list[str] | None = None,
    ) -> None:
        self.root = Path(str(config.rootpath)).resolve()
        self.report = report
        self.notes = notes if notes is not None else []  # what the watch says of itself
        self.env = _EnvHook()
        self.loggers = _LoggingHook()
        self.modules: dict[str, tuple[str, ...]] = {}  # test module -> watched module names
        # names -> what sys.modules held under them, and the modules among that
        self.resolved: dict[tuple[str, ...], tuple[tuple[Any, ...], tuple[ModuleType, ...]]] = {}
        self.project: dict[str, bool] = {}  # module name -> under the rootdir, ours
        self.module_names = set(sys.modules)
        self.dirs = {str(self.root): "the rootdir", tempfile.gettempdir(): "the temp directory"}
        self.root_dir, self.temp_dir = (_opened(d) if _mtime(d) else None for d in self.dirs)
        self.listings = {d: self._listing(d) for d in self.dirs}
        self.busy = dict.fromkeys(self.dirs, False)  # looked at less often (`_files`)
        self.moving = dict.fromkeys(self.dirs, 0)  # tests in a row that moved its mtime
        self.moved_at = dict.fromkeys(self.dirs, -1)  # the last of those (`count`)
        self.moved_by = dict.fromkeys(self.dirs, "")  # and its id
        self.unlooked = dict.fromkeys(self.dirs, 0)  # moves not looked at since the last look
        self.test, self.count = "", 0  # the test running, and how many have run
        self.noted: set[tuple[str, str]] = set()  # (directory, kind) of the notes said
        self.signals = [int(getattr(signal, s)) for s in SIGNALS if hasattr(signal, s)]
        self.last: tuple[Any, ...] | None = None  # the cheap fingerprint after the last test
        # module -> its fast fingerprint, its detailed one, and its shape (what the fast one sizes)
        self.seen: dict[str, tuple[tuple[Any, ...], Fingerprint, Shape]] = {}
        self.just_seen: tuple[ModuleType, ...] = ()  # modules the last test ended with a look at
        # containers that fixtures broader than a test hold (doctest_namespace, a registry):
        # "fixture 'name' (scope)" -> the object, and its keys (or size) after the last look
        self.fixtures: dict[str, tuple[Any, Any]] = {}
        self.fixture_changes: list[Change] = []  # made while a fixture was set up, by it
        self.fixture: Any = None  # the fixture set up last: what it did is not looked at yet
        self.broader: list[Any] = []  # fixtures broader than a test, set up since the last look
        # fixture -> broader than a test (its `scope` reads an enum's value: slow to ask again)
        self.scopes: dict[Any, bool] = {}

    def close(self) -> None:
        self.env.undo()
        self.loggers.undo()
        for handle in (self.root_dir, self.temp_dir):
            if isinstance(handle, int):
                with suppress(OSError):
                    os.close(handle)
        self.root_dir = self.temp_dir = None

    # -- the fingerprint -----------------------------------------------------------------
    def _cheap(self) -> tuple[Any, ...]:
        """Every test pays for this: a tuple of values each one C call away."""
        modules = sys.modules
        decimal, socket, locale, datetime = (
            modules.get("decimal"),
            modules.get("socket"),
            modules.get("locale"),
            modules.get("datetime"),
        )
        context = decimal.getcontext() if decimal is not None else None
        root = logging.root
        stat = os.stat
        return (
            _cwd(),
            tuple(sys.path),
            len(modules),
            root.level,
            tuple(root.handlers),
            root.manager.disable,
            len(warnings.filters),
            tuple(map(GETSIGNAL, self.signals)),
            socket.getdefaulttimeout() if socket is not None else None,
            time.tzname,
            _locale(locale),
            (context.prec, context.rounding) if context is not None else None,
            # the clock and date functions: a freezer left running replaces them
            (
                id(time.time),
                id(time.monotonic),
                id(getattr(datetime, "datetime", None)),
                id(getattr(datetime, "date", None)),
            ),
            stat(self.root_dir).st_mtime_ns if self.root_dir is not None else 0,
            stat(self.temp_dir).st_mtime_ns if self.temp_dir is not None else 0,
        )

    def _watched(self, item: Any) -> tuple[ModuleType, ...]:
        # the test function's module: a node's `module` walks the collection tree each time
        name = getattr(getattr(item, "obj", None), "__module__", None)
        module = sys.modules.get(name) if isinstance(name, str) else None
        if module is None:
            module = getattr(item, "module", None)
        if not isinstance(module, ModuleType):
            return ()
        names = self.modules.get(module.__name__)
        if names is None:
            found = [module.__name__]
            for value in list(vars(module).values()):
                owner = value if isinstance(value, ModuleType) else None
                if owner is None:
                    owner = sys.modules.get(getattr(value, "__module__", None) or "")
                if owner is not None and owner.__name__ not in found and self._ours(owner):
                    found.append(owner.__name__)
                if len(found) >= MAX_MODULES:
                    break
            names = self.modules[module.__name__] = tuple(found)
        # what sys.modules holds under those names now, looked up in C: the same objects as
        # last time (most tests) is one comparison of two tuples
        now = tuple(map(sys.modules.get, names))
        known = self.resolved.get(names)
        if known is None or known[0] != now:
            known = self.resolved[names] = (now, tuple(m for m in now if isinstance(m, ModuleType)))
        return known[1]

    def _ours(self, module: ModuleType) -> bool:
        name = module.__name__
        known = self.project.get(name)
        if known is None:
            path = getattr(module, "__file__", None) or ""
            known = bool(path) and _inside(path, self.root)
            self.project[name] = known
        return known

    def start(self, item: Any) -> tuple[ModuleType, ...]:
        """Before a test: its watched modules, each fingerprinted when first seen. The state
        after one test is the state before the next (nothing runs between them), so the
        cheap fingerprint is taken once a test, after it."""
        self.env.touched = {}
        self.loggers.touched = {}
        self.fixture = None
        self.test = item.nodeid
        self.count += 1
        if self.last is None:
            self.last = self._cheap()
        modules = self._watched(item)
        for module in modules:
            known = self.seen.get(module.__name__)
            if known is not None and module in self.just_seen:
                continue  # the last test ended with it: nothing ran since
            # first seen, or changed since the last test that watched it, by a test that did
            # not (which one is not known: the change is not laid at this test's door)
            if known is None or _fast(module, known[2]) != known[0]:
                self._look_at(module)
        return modules

    def _look_at(self, module: ModuleType) -> None:
        """A module's fingerprints taken anew: the fast one, the detailed one, its shape."""
        shape = _shape(module)
        self.seen[module.__name__] = (_fast(module, shape), _globals(module, shape.classes), shape)

    # -- what changed ----------------------------------------------------------------------
    def changes(self, modules: tuple[ModuleType, ...]) -> list[Change]:
        out: list[Change] = []
        touched, self.env.touched = self.env.touched or {}, None
        for key, old in touched.items():
            new = os.environ.get(key)
            if new != old:
                out.append(_change(f"os.environ[{short(key)}]", old, new))
        loggers, self.loggers.touched = self.loggers.touched or {}, None
        for name, old_state in loggers.items():
            logger = logging.getLogger(name)
            new_state = _logger_state(logger)
            if new_state != old_state:
                out.extend(_logger_changes(name, old_state, new_state))
        now = self._cheap()
        if self.last is not None and (now != self.last or any(self.busy.values())):
            out.extend(self._cheap_changes(self.last, now))
        self.last = now
        self.just_seen = modules
        for module in modules:
            before = self.seen.get(module.__name__)
            if before is None:
                continue
            fast = _fast(module, before[2])
            if fast != before[0]:
                classes = before[2].classes
                detailed = _globals(module, classes)
                values = _values(module, classes)
                out.extend(_global_changes(module.__name__, before[1], detailed, values))
                self._look_at(module)
        self.fixture = None  # what is left was done by the test
        if self.broader:
            self._after_fixture()
        if self.fixtures:  # fixtures broader than a test, that returned a container
            out.extend(self.fixture_changes)
            self.fixture_changes = []
            out.extend(self._fixture_changes(""))
        if len(out) > MAX_CHANGES:
            more = len(out) - MAX_CHANGES
            out = [*out[:MAX_CHANGES], {"key": "…", "before": "", "after": f"{more} more"}]
        return out

    def _cheap_changes(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> Iterator[Change]:
        if old[CWD] != new[CWD]:
            yield _change("the working directory", old[CWD], new[CWD])
        if old[PATH] != new[PATH]:
            added = [p for p in new[PATH] if p not in old[PATH]]
            removed = [p for p in old[PATH] if p not in new[PATH]]
            yield _set_change("sys.path", added, removed, "order changed")
        if old[MODULES] != new[MODULES]:
            names = set(sys.modules)
            added_names, removed_names = names - self.module_names, self.module_names - names
            self.module_names = names
            if added_names or removed_names:
                yield _set_change("sys.modules", added_names, removed_names, "")
        if old[LEVEL] != new[LEVEL]:
            yield _text_change("logging: root logger level", _level(old[LEVEL]), _level(new[LEVEL]))
        if old[HANDLERS] != new[HANDLERS]:
            yield {
                "key": "logging: root logger handlers",
                "before": _handlers(old[HANDLERS]),
                "after": _handlers(new[HANDLERS]),
            }
        if old[DISABLE] != new[DISABLE]:
            yield _text_change("logging.disable", _level(old[DISABLE]), _level(new[DISABLE]))
        if old[FILTERS] != new[FILTERS]:
            yield _change("warnings.filters (count)", old[FILTERS], new[FILTERS])
        for number, (a, b) in enumerate(zip(old[SIGNAL_HANDLERS], new[SIGNAL_HANDLERS])):
            if a != b:
                name = signal.Signals(self.signals[number]).name
                yield _text_change(f"signal handler of {name}", _handler(a), _handler(b))
        for index, key in (
            (TIMEOUT, "socket default timeout"),
            (TZNAME, "time.tzname"),
            (LOCALE, "locale (LC_ALL)"),
            (DECIMAL, "decimal context (precision, rounding)"),
        ):
            if old[index] != new[index]:
                yield _change(key, old[index], new[index])
        if old[CLOCK] != new[CLOCK]:
            yield _text_change("time and datetime functions", "the real ones", "replaced")
        for number, directory in enumerate(self.dirs):
            moved = old[MTIMES + number] != new[MTIMES + number]
            if moved or self.busy[directory]:
                yield from self._files(directory, moved)
            if moved:
                self.moved_by[directory] = self.test

    def _files(self, directory: str, moved: bool) -> Iterator[Change]:
        """The files made and removed in `directory` since the last look. Most runs look each
        time a test moved its mtime. A directory of BUSY entries or more whose mtime moved in
        QUIET tests in a row is busy (another process writes there): it is looked at once in
        EVERY tests that move it, until QUIET tests in a row left it still, and as the session
        ends."""
        count = self.count
        if moved:
            last, self.moved_at[directory] = self.moved_at[directory], count
            self.moving[directory] = self.moving[directory] + 1 if last == count - 1 else 1
        laid_on = self.test  # the test a change found now is laid to
        if self.busy[directory]:
            if moved:
                self.unlooked[directory] += 1
                if self.unlooked[directory] < EVERY:
                    return
            elif count - self.moved_at[directory] < QUIET:  # tests in a row that left it still
                return
            else:  # quiet again: looked at, as every directory is
                self.busy[directory] = False
                if not self.unlooked[directory]:
                    return
                laid_on = self.moved_by[directory]  # the tests that moved it ended before
        elif not moved:
            return
        change, listing = self._look(directory)
        if change is not None:
            if laid_on == self.test:
                yield change
            else:
                self.report(laid_on, [change])
        if self.moving[directory] >= QUIET and len(listing) >= BUSY and not self.busy[directory]:
            self.busy[directory] = True
            self._note(
                directory,
                "busy",
                f"{self.dirs[directory]} ({directory}, {len(listing)} entries) changed during "
                f"{QUIET} tests in a row (the tests or another process write there): the state "
                f"watch then looked at it once in {EVERY} tests that changed it, until {QUIET} "
                "tests in a row left it still",
            )

    def _look(self, directory: str) -> tuple[Change | None, frozenset[str]]:
        """A look at `directory`: what was made and removed since the last one (None when
        nothing was), and its listing."""
        unlooked, self.unlooked[directory] = self.unlooked[directory], 0
        before, listing = self.listings[directory], self._listing(directory)
        self.listings[directory] = listing
        made, gone = listing - before, before - listing
        if not (made or gone):
            return None, listing
        if unlooked > 1:
            self._note(
                directory,
                "laid",
                f"files made or removed in {self.dirs[directory]} while it was busy are laid "
                "at the door of the test that looked, or of the last that moved it: any of "
                f"the {unlooked} tests up to it may have made them",
            )
        return _set_change(f"files in {self.dirs[directory]}", made, gone, ""), listing

    def _note(self, directory: str, kind: Literal["busy", "laid"], text: str) -> None:
        """What the watch says of itself: each kind of note once a directory."""
        if (directory, kind) not in self.noted:
            self.noted.add((directory, kind))
            self.notes.append(text)

    @staticmethod
    def _listing(directory: str) -> frozenset[str]:
        try:
            return frozenset(e for e in os.listdir(directory) if e not in NOISE)
        except OSError:
            return frozenset()

    def _fixture_changes(self, by: str) -> list[Change]:
        """What the watched fixture containers gained or lost since the last look; `by`:
        the fixture whose setup it happened in."""
        out = []
        for key, (value, last) in list(self.fixtures.items()):
            now = _contents(value)
            if now != last:
                self.fixtures[key] = (value, now)
                if isinstance(now, frozenset) and isinstance(last, frozenset):
                    change = _set_change(key, now - last, last - now, "")
                else:
                    change = {"key": key, "before": f"{last} items", "after": f"{now} items"}
                if by:
                    change["by"] = by
                out.append(change)
        return out

    def _after_fixture(self) -> None:
        """What the fixture set up last did to the watched containers, laid at its door (at
        the test's when none was), and the containers the fixtures broader than a test set up
        since returned, watched from now on."""
        if self.fixtures:
            by = _fixture_name(self.fixture, self.root) if self.fixture is not None else ""
            self.fixture_changes.extend(self._fixture_changes(by))
        self.fixture = None
        broader, self.broader = self.broader, []
        for fixturedef in broader:
            cached = getattr(fixturedef, "cached_result", None)  # (value, key, error)
            if isinstance(cached, tuple) and len(cached) == 3 and cached[2] is None:
                value = cached[0]
                if isinstance(value, (dict, list, set)):
                    key = f"fixture {fixturedef.argname!r} ({fixturedef.scope})"
                    self.fixtures[key] = (value, _contents(value))

    # -- pytest's side ---------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> None:
        """As each fixture is about to run (the fixtures it asks for have run by then): what
        the one before it did to a container another fixture holds (an autouse conftest
        fixture filling `doctest_namespace`) is named as its change; a container that a
        fixture broader than a test returns is watched from the next look on. A plain call
        before each setup, not a wrapper around it: a wrapper cost more than the rest of
        the watch in a suite of six fixtures a test."""
        try:
            if self.fixtures or self.broader:
                self._after_fixture()
            self.fixture = fixturedef
            broader = self.scopes.get(fixturedef)
            if broader is None:
                broader = self.scopes[fixturedef] = fixturedef.scope != "function"
            if broader:
                self.broader.append(fixturedef)
        except Exception:  # the watch must never fail a run
            pass

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: Any) -> None:
        """The test's fixtures are set up: what the last one did is its own."""
        try:
            if self.fixtures or self.broader:
                self._after_fixture()
            self.fixture = None
        except Exception:  # the watch must never fail a run
            pass

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:
        try:
            modules = self.start(item)
        except Exception:  # the watch must never fail a run
            modules = ()
        yield
        try:
            found = self.changes(modules)
        except Exception:  # a change it cannot describe is not a reason to stop the run
            found = []
        if found:
            self.report(item.nodeid, found)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: Any) -> None:
        """A busy directory's moves since its last look, looked at before the record ends."""
        try:
            for directory in self.dirs:
                if self.busy[directory] and self.unlooked[directory]:
                    change, _ = self._look(directory)
                    if change is not None:
                        self.report(self.moved_by[directory], [change])
        except Exception:  # the watch must never fail a run
            pass

    def pytest_unconfigure(self, config: Any) -> None:
        self.close()


class WorkerState:
    """In a pytest-xdist worker: the changes of its tests, sent to the controller at the end."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def add(self, nodeid: str, changes: list[Change]) -> None:
        self.entries.append({"nodeid": nodeid, "changes": changes})

    def pytest_sessionfinish(self, session: Any) -> None:
        output = getattr(session.config, "workeroutput", None)
        if isinstance(output, dict):
            output[STATE_WORKER_KEY] = self.entries
            output[NOTES_WORKER_KEY] = self.notes
