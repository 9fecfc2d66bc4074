"""What pytest never ran, recorded inside the user's pytest (pytest + standard library only).

Three kinds of silence, each a section of the record (the ``pytest_test_gate_sections`` hook):

- ``ignored``: paths pytest declined to collect (``pytest_ignore_collect`` said yes): ``--ignore``,
  ``--ignore-glob``, ``collect_ignore`` / ``collect_ignore_glob`` of a conftest.py,
  ``norecursedirs``, or a hook of the user's own. Kept only when the path is a test file, or a
  directory holding test files, by the project's ``python_files`` patterns: a virtualenv or a
  ``node_modules`` is not news.
- ``deselected_by_file``: items dropped after collection (``-k``, ``-m``, ``--deselect``, plugins),
  counted per file, including items a hook removed without telling ``pytest_deselected``.
- ``never_ran``: collected modules none of whose tests ran (skipped while importing, or every
  test skipped), and directories a ``conftest.py`` skipped while importing.

Only facts are recorded here (which rule matched, with which pattern, from where); the gate
finds the line that holds the rule and counts the tests of an ignored file.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_test_gate.options import option_values, split_words
from pytest_test_gate.paths import fnmatch_ex, holds_test_files, is_venv, match_any
from pytest_test_gate.protocol import (
    NOT_NEWS,
    SECTION_DESELECTED,
    SECTION_IGNORED,
    SECTION_NEVER_RAN,
    SECTION_SETTINGS,
)

WORKER_KEY = "test_gate_unrun"  # pytest-xdist: what a worker saw, sent to the controller
# the part that deselects another shard's tests, named without importing it (most runs are
# not sharded), and how its deselection is told
SHARD_MODULE = "pytest_test_gate.shard"
SHARD_MECHANISM = "another shard"
DEFAULT_NORECURSE = frozenset(
    {"*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}"}
)


class UnrunRecorder:
    def __init__(self, config: Any) -> None:
        self.config = config
        self.root = Path(str(config.rootpath))
        self.invocation_dir = Path(str(config.invocation_params.dir))
        self.python_files: list[str] = list(config.getini("python_files") or [])
        self.ignored: dict[str, dict[str, Any]] = {}
        self.deselected: dict[tuple[str, str], int] = {}
        self.reported_deselected: set[int] = set()
        self.silently_dropped: list[Any] = []
        self.module_skips: dict[str, dict[str, Any]] = {}
        self.items_per_file: dict[str, int] = {}
        self.outcomes: dict[str, str] = {}  # nodeid -> last outcome
        self.skip_reasons: dict[str, str] = {}
        self.module_marked: set[str] = set()
        self.heard_worker = False
        # where this run looks for tests: the paths it was given (or testpaths, or the
        # directory it runs in); an ignored path elsewhere is not this run's news
        self.scopes = [
            Path(os.path.abspath(self.invocation_dir / str(arg).split("::", 1)[0]))
            for arg in getattr(config, "args", None) or ["."]
        ]

    # -- where an option came from ---------------------------------------------------------
    def _origin(self, option: str, value: str) -> dict[str, Any]:
        args = [str(a) for a in self.config.invocation_params.args]
        if value in option_values(args, option):
            return {"origin": "command line"}
        if value in option_values(split_words(os.environ.get("PYTEST_ADDOPTS", "")), option):
            return {"origin": "PYTEST_ADDOPTS"}
        inipath = getattr(self.config, "inipath", None)
        addopts = [str(a) for a in (self.config.getini("addopts") or [])]
        if value in option_values(addopts, option):
            return {"origin": "addopts", "config_file": str(inipath) if inipath else ""}
        return {"origin": "unknown"}

    def _norecurse_origin(self) -> dict[str, Any]:
        overrides = getattr(self.config.option, "override_ini", None) or []
        if any(str(o).split("=", 1)[0].strip() == "norecursedirs" for o in overrides):
            return {"origin": "command line"}
        patterns = [str(p) for p in self.config.getini("norecursedirs") or []]
        if set(patterns) == DEFAULT_NORECURSE:
            return {"origin": "pytest default"}
        inipath = getattr(self.config, "inipath", None)
        return {"origin": "config", "config_file": str(inipath) if inipath else ""}

    # -- why a path was ignored --------------------------------------------------------------
    def _conftests(self, directory: Path) -> list[Any]:
        """Loaded conftest modules that apply to `directory`, the deepest first."""
        found = []
        for plugin in self.config.pluginmanager.get_plugins():
            file = getattr(plugin, "__file__", None)
            if not isinstance(file, str) or os.path.basename(file) != "conftest.py":
                continue
            home = Path(file).parent
            if home == directory or home in directory.parents:
                found.append((len(home.parts), plugin))
        return [p for _, p in sorted(found, key=lambda x: -x[0])]

    def _conftest_list(self, name: str, directory: Path) -> tuple[Any, list[Any]] | None:
        for module in self._conftests(directory):
            if hasattr(module, name):
                return module, list(getattr(module, name) or [])
        return None

    def _resolve(self, module: Any, entry: Any) -> Path:
        if isinstance(entry, os.PathLike):
            return Path(entry)
        return Path(os.path.abspath(Path(module.__file__).parent / str(entry).replace("/", os.sep)))

    def _why(self, path: Path) -> dict[str, Any] | None:
        """The rule that ignored `path`, checked in pytest's own order."""
        found = self._conftest_list("collect_ignore", path.parent)
        if found is not None:
            module, entries = found
            for entry in entries:
                if self._resolve(module, entry) == path:
                    return {
                        "mechanism": "collect_ignore",
                        "pattern": os.fspath(entry),
                        "origin": "conftest",
                        "config_file": str(module.__file__),
                    }
        for value in self.config.getoption("ignore") or []:
            if Path(os.path.abspath(self.invocation_dir / str(value))) == path:
                return {
                    "mechanism": "--ignore",
                    "pattern": str(value),
                    **self._origin("--ignore", str(value)),
                }
        found = self._conftest_list("collect_ignore_glob", path.parent)
        if found is not None:
            module, entries = found
            for entry in entries:
                if fnmatch.fnmatch(str(path), str(self._resolve(module, entry))):
                    return {
                        "mechanism": "collect_ignore_glob",
                        "pattern": os.fspath(entry),
                        "origin": "conftest",
                        "config_file": str(module.__file__),
                    }
        for value in self.config.getoption("ignore_glob") or []:
            if fnmatch.fnmatch(str(path), os.path.abspath(self.invocation_dir / str(value))):
                return {
                    "mechanism": "--ignore-glob",
                    "pattern": str(value),
                    **self._origin("--ignore-glob", str(value)),
                }
        if path.is_dir() and is_venv(path):
            return {"mechanism": "virtualenv"}
        if path.is_dir():
            for pattern in self.config.getini("norecursedirs") or []:
                if fnmatch_ex(str(pattern), path):
                    return {
                        "mechanism": "norecursedirs",
                        "pattern": str(pattern),
                        **self._norecurse_origin(),
                    }
        return None

    def _hook_owner(self, path: Path) -> dict[str, Any]:
        """A hook other than pytest's own said yes: find whose, by asking each in call order."""
        owners = []
        for impl in reversed(self.config.pluginmanager.hook.pytest_ignore_collect.get_hookimpls()):
            if impl.hookwrapper or getattr(impl, "wrapper", False) or impl.plugin is self:
                continue
            if impl.plugin_name == "main":
                continue
            file = getattr(impl.plugin, "__file__", None) or getattr(
                sys.modules.get(getattr(impl.function, "__module__", ""), None), "__file__", None
            )
            if (
                isinstance(file, str)
                and os.path.basename(file) == "conftest.py"
                and Path(file).parent not in (path.parent, *path.parent.parents)
            ):
                continue
            owners.append((impl, file))
        chosen = owners[0] if len(owners) == 1 else None
        if chosen is None:
            for impl, file in owners:
                if "path" in impl.argnames:
                    continue  # wants a py.path we do not build; never guess by calling it
                try:
                    kwargs = {"collection_path": path, "config": self.config}
                    answer = impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})
                except Exception:
                    continue
                if answer:
                    chosen = (impl, file)
                    break
        if chosen is None:
            return {"mechanism": "pytest_ignore_collect", "origin": "hook"}
        impl, file = chosen
        return {
            "mechanism": "pytest_ignore_collect",
            "origin": "hook",
            "config_file": str(file) if file else "",
            "plugin": str(impl.plugin_name),
        }

    def _keep(self, path: Path, why: dict[str, Any]) -> bool:
        if why.get("mechanism") == "virtualenv":
            return False
        if path.is_dir():
            if path.name in NOT_NEWS:
                return False
            return holds_test_files(path, self.python_files)
        return path.suffix == ".py" and match_any(path.name, self.python_files)

    def _in_scope(self, path: Path) -> bool:
        return any(
            path == scope or scope in path.parents or path in scope.parents for scope in self.scopes
        )

    def _record(self, path: Path, why: dict[str, Any]) -> None:
        try:
            shown = path.relative_to(self.root).as_posix()
        except ValueError:
            shown = path.as_posix()
        if path.is_dir():
            shown += "/"
        if shown in self.ignored or not self._in_scope(path) or not self._keep(path, why):
            return
        self.ignored[shown] = {"path": shown, "kind": "dir" if path.is_dir() else "file", **why}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_ignore_collect(
        self, collection_path: Path, config: Any
    ) -> Generator[None, Any, None]:
        outcome = yield
        try:
            answer = outcome.get_result()
        except BaseException:
            return
        path = Path(os.path.abspath(str(collection_path)))
        if path.name == "__pycache__":
            return
        if answer:
            why = self._why(path) or self._hook_owner(path)
            self._record(path, why)
        elif path.is_dir():
            # pytest < 8 applies norecursedirs after this hook, outside of it
            for pattern in config.getini("norecursedirs") or []:
                if fnmatch_ex(str(pattern), path) and not is_venv(path):
                    self._record(
                        path,
                        {
                            "mechanism": "norecursedirs",
                            "pattern": str(pattern),
                            **self._norecurse_origin(),
                        },
                    )
                    break

    # -- deselected ------------------------------------------------------------------------
    def _deselect_mechanism(self, items: list[Any]) -> str:
        frame = sys._getframe(2)
        for _ in range(40):
            if frame is None:
                break
            name, file = frame.f_code.co_name, frame.f_code.co_filename
            if name == "deselect_by_keyword":
                return f"-k {self.config.getoption('keyword')}"
            if name == "deselect_by_mark":
                return f"-m {self.config.getoption('markexpr')}"
            if "pluggy" not in file and file != __file__ and name != "pytest_deselected":
                if name == "pytest_collection_modifyitems" and file.endswith(
                    os.path.join("_pytest", "main.py")
                ):
                    return "--deselect"
                module = frame.f_globals.get("__name__", "")
                if module == SHARD_MODULE:
                    return SHARD_MECHANISM
                return f"deselected by {module}.{name}" if module else f"deselected by {name}"
            frame = frame.f_back  # type: ignore[assignment]
        prefixes = tuple(self.config.getoption("deselect") or [])
        if prefixes and all(i.nodeid.startswith(prefixes) for i in items):
            return "--deselect"
        return "deselected by a plugin"

    def pytest_deselected(self, items: Any) -> None:
        batch = list(items)
        mechanism = self._deselect_mechanism(batch)
        for item in batch:
            self.reported_deselected.add(id(item))
            if mechanism == SHARD_MECHANISM:  # the suite is whole across the shards
                continue
            key = (item.nodeid.split("::", 1)[0], mechanism)
            self.deselected[key] = self.deselected.get(key, 0) + 1

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[Any]) -> Generator[None, Any, None]:
        before = list(items)
        yield
        kept = {id(i) for i in items}
        self.silently_dropped.extend(
            i for i in before if id(i) not in kept and id(i) not in self.reported_deselected
        )

    # -- collected but never ran -------------------------------------------------------------
    def pytest_collectreport(self, report: Any) -> None:
        if not report.skipped or "::" in report.nodeid:
            return
        longrepr = report.longrepr
        line, reason = None, ""
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            line, reason = longrepr[1], str(longrepr[2])
        nodeid = report.nodeid
        if not nodeid:  # pytest 7: a conftest.py's skip ends the whole collection
            conftest = Path(str(longrepr[0])) if isinstance(longrepr, tuple) and longrepr else None
            if conftest is None or conftest.name != "conftest.py":
                return
            nodeid = os.path.relpath(conftest.parent, self.root).replace(os.sep, "/")
        path = Path(os.path.abspath(self.root / nodeid))
        reason = reason.removeprefix("Skipped: ")
        if path.is_file():
            self.module_skips[nodeid] = {
                "path": nodeid,
                "how": "skipped while importing",
                "reason": reason,
                "line": line,
                "tests": None,
            }
        elif path.is_dir():  # a conftest.py skipped its whole directory while importing
            source = longrepr[0] if isinstance(longrepr, tuple) and longrepr else ""
            where = os.path.relpath(str(source), self.root) if source else "conftest.py"
            where = where.replace(os.sep, "/") + (f":{line}" if isinstance(line, int) else "")
            self.module_skips[nodeid] = {
                "path": nodeid.rstrip("/") + "/",
                "how": "directory skipped by its conftest.py",
                "reason": f"{where}: {reason}" if reason else where,
                "line": None,
                "tests": None,
            }

    def pytest_collection_finish(self, session: Any) -> None:
        read: set[str] = set()  # files whose module's marks were read: once a file, not a test
        for item in session.items:
            path = item.nodeid.split("::", 1)[0]
            self.items_per_file[path] = self.items_per_file.get(path, 0) + 1
            if path in read:
                continue
            module = getattr(item, "module", None)  # a walk up the collection tree
            if module is None:  # not a Python test (a doctest, a YAML case): no module marks
                continue
            read.add(path)
            marks = getattr(module, "pytestmark", None)
            marks = marks if isinstance(marks, list) else [marks] if marks is not None else []
            if any(getattr(m, "name", "") in ("skip", "skipif") for m in marks):
                self.module_marked.add(path)

    # -- what each test did: the recorder tells it (one call a report, none through pluggy) --
    def ran(self, nodeid: str) -> None:
        """A test's call passed."""
        self.outcomes[nodeid] = "ran"

    def saw(self, report: Any) -> None:
        """Any phase report."""
        if report.when == "teardown" and not report.failed:
            return
        if report.skipped and not hasattr(report, "wasxfail"):
            self.outcomes.setdefault(report.nodeid, "skipped")
            longrepr = report.longrepr
            if isinstance(longrepr, tuple) and len(longrepr) == 3:
                reason = str(longrepr[2]).removeprefix("Skipped: ")
                self.skip_reasons.setdefault(report.nodeid, reason)
        elif report.when == "call" or report.failed:
            self.outcomes[report.nodeid] = "ran"

    # -- the sections ------------------------------------------------------------------------
    def ignored_data(self) -> list[dict[str, Any]]:
        return sorted(self.ignored.values(), key=lambda i: i["path"])

    def deselected_data(self) -> list[dict[str, Any]]:
        counts = dict(self.deselected)
        for item in self.silently_dropped:
            key = (item.nodeid.split("::", 1)[0], "removed by a collection hook, unreported")
            counts[key] = counts.get(key, 0) + 1
        return [
            {"path": path, "mechanism": mechanism, "count": n}
            for (path, mechanism), n in sorted(counts.items())
        ]

    def never_ran_data(self) -> list[dict[str, Any]]:
        found = dict(self.module_skips)
        ran = self.outcomes
        by_file: dict[str, list[str]] = {}  # one pass: files x tests would be quadratic
        for nodeid in ran:
            by_file.setdefault(nodeid.split("::", 1)[0], []).append(nodeid)
        for path, total in self.items_per_file.items():
            ids = by_file.get(path, [])
            if not ids or len(ids) < total or any(ran[n] != "skipped" for n in ids):
                continue
            reasons = sorted({self.skip_reasons.get(n, "") for n in ids})
            found[path] = {
                "path": path,
                "how": "module-level skip mark"
                if path in self.module_marked
                else "every test skipped",
                "reason": reasons[0] if len(reasons) == 1 else "; ".join(r for r in reasons if r),
                "line": None,
                "tests": total,
            }
        return sorted(found.values(), key=lambda i: i["path"])

    def settings_data(self) -> dict[str, Any]:
        return {
            "python_files": self.python_files,
            "python_functions": list(self.config.getini("python_functions") or []),
            "python_classes": list(self.config.getini("python_classes") or []),
            "invocation_dir": str(self.invocation_dir),
            "inifile": str(getattr(self.config, "inipath", None) or ""),
        }

    def pytest_test_gate_sections(self, config: Any) -> dict[str, Any]:
        return {
            SECTION_IGNORED: self.ignored_data(),
            SECTION_DESELECTED: self.deselected_data(),
            SECTION_NEVER_RAN: self.never_ran_data(),
            SECTION_SETTINGS: self.settings_data(),
        }

    # -- pytest-xdist: workers collect, the controller reports -------------------------------
    def worker_data(self) -> dict[str, Any]:
        return {
            "ignored": self.ignored_data(),
            "deselected": self.deselected_data(),
            "module_skips": list(self.module_skips.values()),
            "items_per_file": self.items_per_file,
            "module_marked": sorted(self.module_marked),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = (getattr(node, "workeroutput", None) or {}).get(WORKER_KEY)
        if not isinstance(data, dict):
            return
        for entry in data.get("ignored") or []:
            self.ignored.setdefault(str(entry.get("path")), entry)
        for entry in data.get("module_skips") or []:
            self.module_skips.setdefault(str(entry.get("path")), entry)
        if self.heard_worker:
            return  # every worker collects the same items: count them once
        self.heard_worker = True
        for entry in data.get("deselected") or []:
            key = (str(entry.get("path")), str(entry.get("mechanism")))
            self.deselected[key] = self.deselected.get(key, 0) + int(entry.get("count") or 0)
        self.items_per_file.update(data.get("items_per_file") or {})
        self.module_marked.update(data.get("module_marked") or [])

    def pytest_sessionfinish(self, session: Any) -> None:
        """Hand the data to the pytest-xdist controller."""
        workeroutput = getattr(self.config, "workeroutput", None)
        if isinstance(workeroutput, dict):
            workeroutput[WORKER_KEY] = self.worker_data()
