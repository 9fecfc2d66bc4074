"""Order-dependent test cases built on real pollution patterns, shared by the functional tests
and the benchmark.

Each case is a tiny project: a module under test, the polluting (or state-setting) test(s), the
victim, and filler tests that do nothing harmful. `seed` is a pytest-random-order seed
(bucket=module, pytest-random-order 1.2.0) under which the case shows: the polluters run before
the victim (the setter after it). `python benchmarks/od_cases.py` finds such seeds again.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""


def _fillers(modules: int, per_module: int) -> dict[str, str]:
    files = {}
    for m in range(modules):
        body = "\n".join(
            f"def test_filler_{m}_{i}():\n    assert sum(range({i + 2})) >= 0\n"
            for i in range(per_module)
        )
        files[f"tests/test_filler_{m}.py"] = body
    return files


@dataclass(frozen=True)
class Case:
    name: str
    pattern: str
    files: dict[str, str]
    victim: str
    culprits: tuple[str, ...]
    kind: str = "polluted"  # or needs_setter
    seed: int = 0
    fillers: tuple[int, int] = (2, 3)  # modules, tests per module
    extra: dict[str, str] = field(default_factory=dict)

    def tree(self, fillers: tuple[int, int] | None = None) -> dict[str, str]:
        files = {"pyproject.toml": PYPROJECT, **self.files}
        files.update(_fillers(*(fillers or self.fillers)))
        return {name: textwrap.dedent(text).lstrip("\n") for name, text in files.items()}

    def write(self, root: Path, fillers: tuple[int, int] | None = None) -> Path:
        for name, text in self.tree(fillers).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root


CASES: tuple[Case, ...] = (
    Case(
        name="registry",
        pattern="module-level registry",
        files={
            "formats.py": """
                HANDLERS = {}

                def register(name, handler):
                    HANDLERS[name] = handler

                def available():
                    return sorted(HANDLERS)
            """,
            "tests/test_plugins.py": """
                import formats

                def test_register_csv():
                    formats.register("csv", lambda rows: ",".join(rows))
                    assert "csv" in formats.available()
            """,
            "tests/test_defaults.py": """
                import formats

                def test_no_formats_by_default():
                    assert formats.available() == []
            """,
        },
        victim="tests/test_defaults.py::test_no_formats_by_default",
        culprits=("tests/test_plugins.py::test_register_csv",),
        seed=2,
    ),
    Case(
        name="environ",
        pattern="os.environ left set",
        files={
            "settings.py": """
                import os

                def mode():
                    return os.environ.get("APP_MODE", "production")
            """,
            "tests/test_debug.py": """
                import os
                import settings

                def test_debug_mode():
                    os.environ["APP_MODE"] = "debug"
                    assert settings.mode() == "debug"
            """,
            "tests/test_settings.py": """
                import settings

                def test_default_mode():
                    assert settings.mode() == "production"
            """,
        },
        victim="tests/test_settings.py::test_default_mode",
        culprits=("tests/test_debug.py::test_debug_mode",),
        seed=1,
    ),
    Case(
        name="logging",
        pattern="logging configured by a test (handler, level) and left behind",
        files={
            "service.py": """
                import logging

                log = logging.getLogger("service")

                def configure_logging(quiet, stream=None):
                    log.addHandler(logging.StreamHandler(stream))
                    log.setLevel(logging.ERROR if quiet else logging.INFO)

                def charge(amount):
                    if amount > 100:
                        log.warning("large charge: %s", amount)
                    return amount
            """,
            "tests/test_quiet.py": """
                import io
                import service

                def test_quiet_mode_hides_warnings():
                    stream = io.StringIO()
                    service.configure_logging(quiet=True, stream=stream)
                    service.charge(500)
                    assert stream.getvalue() == ""
            """,
            "tests/test_service.py": """
                import logging
                import service

                def test_large_charge_is_logged(caplog):
                    with caplog.at_level(logging.WARNING):
                        service.charge(500)
                    assert "large charge: 500" in caplog.text
            """,
        },
        victim="tests/test_service.py::test_large_charge_is_logged",
        culprits=("tests/test_quiet.py::test_quiet_mode_hides_warnings",),
        seed=1,
    ),
    Case(
        name="patched_attribute",
        pattern="module attribute patched by hand, never restored (polluter defined after the "
        "victim, in the same file)",
        files={
            "clock.py": """
                import time

                def now():
                    return time.time()

                def is_expired(deadline):
                    return now() > deadline
            """,
            "tests/test_clock.py": """
                import time
                import clock

                def test_past_deadline_is_expired():
                    assert clock.is_expired(time.time() - 60)

                def test_frozen_clock():
                    clock.now = lambda: 0.0
                    assert not clock.is_expired(10.0)
            """,
        },
        victim="tests/test_clock.py::test_past_deadline_is_expired",
        culprits=("tests/test_clock.py::test_frozen_clock",),
        seed=4,
    ),
    Case(
        name="singleton",
        pattern="cached singleton keeps a patched environment",
        files={
            "config.py": """
                import functools
                import os

                @functools.lru_cache(maxsize=None)
                def get_config():
                    return {"region": os.environ.get("REGION", "eu-west-1")}
            """,
            "tests/test_region.py": """
                import config

                def test_region_override(monkeypatch):
                    monkeypatch.setenv("REGION", "us-east-2")
                    assert config.get_config()["region"] == "us-east-2"
            """,
            "tests/test_config.py": """
                import config

                def test_default_region():
                    assert config.get_config()["region"] == "eu-west-1"
            """,
        },
        victim="tests/test_config.py::test_default_region",
        culprits=("tests/test_region.py::test_region_override",),
        seed=2,
    ),
    Case(
        name="pair",
        pattern="two tests pollute only together (a shared rate-limit counter)",
        files={
            "quota.py": """
                LIMIT = 2
                calls = 0

                def call():
                    global calls
                    calls += 1
                    if calls > LIMIT:
                        raise RuntimeError("quota exceeded")
                    return "ok"
            """,
            "tests/test_first_client.py": """
                import quota

                def test_first_client():
                    assert quota.call() == "ok"
            """,
            "tests/test_second_client.py": """
                import quota

                def test_second_client():
                    assert quota.call() == "ok"
            """,
            "tests/test_quota.py": """
                import quota

                def test_call_within_quota():
                    assert quota.call() == "ok"
            """,
        },
        victim="tests/test_quota.py::test_call_within_quota",
        culprits=(
            "tests/test_first_client.py::test_first_client",
            "tests/test_second_client.py::test_second_client",
        ),
        seed=1,
    ),
    Case(
        name="state_setter",
        pattern="victim relies on state another test sets up (a state-setter)",
        files={
            "db.py": """
                _connection = None

                def connect():
                    global _connection
                    _connection = {"rows": [1, 2, 3]}

                def count():
                    if _connection is None:
                        raise RuntimeError("not connected")
                    return len(_connection["rows"])
            """,
            "tests/test_connect.py": """
                import db

                def test_connect():
                    db.connect()
                    assert db.count() == 3
            """,
            "tests/test_count.py": """
                import db

                def test_count_rows():
                    assert db.count() == 3
            """,
        },
        victim="tests/test_count.py::test_count_rows",
        culprits=("tests/test_connect.py::test_connect",),
        kind="needs_setter",
        seed=2,
    ),
)


def shows(case: Case, order: list[str]) -> bool:
    """Whether this execution order makes the victim fail."""
    at = order.index(case.victim)
    where = [order.index(c) for c in case.culprits]
    if case.kind == "needs_setter":
        return all(w > at for w in where)
    return all(w < at for w in where)


def collected_order(root: Path, seed: int) -> list[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:randomly",
            "--random-order-bucket=module",
            f"--random-order-seed={seed}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in done.stdout.splitlines() if "::" in line]


def find_seed(case: Case, fillers: tuple[int, int] | None = None, start: int = 1) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = case.write(Path(tmp), fillers)
        for seed in range(start, start + 200):
            if shows(case, collected_order(root, seed)):
                return seed
    raise RuntimeError(f"no seed shows case {case.name}")


if __name__ == "__main__":
    for case in CASES:
        print(case.name, find_seed(case))
