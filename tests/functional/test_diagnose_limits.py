"""The diagnosis where projects differ: xdist in the configuration, plugin flags before test
paths, a configuration file below the rootdir, tests that hang, tests that fail at random."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import GateRun, clean_env

POLLUTED = {
    "tests/test_a.py": """
        import os


        def test_polluter():
            os.environ["APP_MODE"] = "debug"


        def test_other():
            pass


        def test_victim():
            assert "APP_MODE" not in os.environ


        def test_third():
            pass
    """,
    "tests/test_b.py": "def test_b1():\n    pass\n\n\ndef test_b2():\n    pass\n",
}
VICTIM = "tests/test_a.py::test_victim"
POLLUTER = "tests/test_a.py::test_polluter"
SEED = "2"  # test_polluter runs before test_victim (also on one xdist worker, --dist loadfile)

Project = Callable[[dict[str, str]], Path]


def entry(run: GateRun, victim: str) -> dict[str, Any]:
    found = [e for e in run.result.get("order_dependent", []) if e["victim"] == victim]
    assert found, json.dumps(run.result.get("diagnosis"), indent=1) + run.proc.stdout[-3000:]
    item: dict[str, Any] = found[0]
    return item


def shell(command: str, env: dict[str, str], cwd: Path) -> int:
    import subprocess
    import sys

    shell_env = dict(env, PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    done = subprocess.run(command, shell=True, env=shell_env, cwd=cwd, capture_output=True)
    return done.returncode


def test_xdist_in_the_project_configuration(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project({**POLLUTED, "pytest.ini": "[pytest]\naddopts = -n 2 --dist loadfile\n"})
    run = gate_run(root, "--seed", SEED, env=clean_env())
    found = entry(run, VICTIM)
    assert found["polluters"] == [POLLUTER]
    assert " -n0 " in found["command"]
    assert shell(found["command"], clean_env(), root.parent) == 1


def test_a_plugin_flag_before_a_test_path(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    conftest = (
        'def pytest_addoption(parser):\n    parser.addoption("--runslow", action="store_true")\n'
    )
    root = project({**POLLUTED, "conftest.py": conftest})
    run = gate_run(root, "--seed", SEED, "--pytest-args", "--runslow tests", env=clean_env())
    found = entry(run, VICTIM)
    assert found["polluters"] == [POLLUTER]  # "alone" ran the victim alone, not `tests`
    assert "--runslow" in found["command"] and " tests " not in found["command"]


def test_configuration_only_in_the_tests_directory(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project({**POLLUTED, "tests/pytest.ini": "[pytest]\n"})
    run = gate_run(root, "--seed", SEED, env=clean_env())
    found = entry(run, VICTIM)
    assert found["polluters"] == [POLLUTER]
    assert "--rootdir=." in found["command"]
    assert shell(found["command"], clean_env(), root.parent) == 1


def test_a_test_that_hangs_alone_is_reported_and_the_next_is_examined(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            # importing this module (the whole suite does) lets the waiting test go on
            "tests/test_ready.py": 'import os\n\nos.environ["READY"] = "1"\n\n\ndef test_ok():\n'
            "    pass\n",
            "tests/test_wait.py": """
                import os
                import time


                def test_waits_for_ready():
                    while "READY" not in os.environ:
                        time.sleep(0.05)
                    assert False, "fails once ready"
            """,
            "tests/test_broken.py": "def test_broken():\n    assert 1 == 2\n",
        }
    )
    # a budget with room under load: one hang costs a quarter of it (5 s), the rest is left
    run = gate_run(
        root, "--seed", "1", "--reruns", "0", "--diagnose-timeout", "20", env=clean_env()
    )
    unexplained = {u["nodeid"]: u["why"] for u in run.result["diagnosis"]["unexplained"]}
    assert "hangs when run alone" in unexplained["tests/test_wait.py::test_waits_for_ready"]
    assert [b["nodeid"] for b in run.result["broken"]] == ["tests/test_broken.py::test_broken"]
    assert run.result["diagnosis"]["not_examined"] == []


def test_a_test_that_fails_at_random_gets_no_polluter(
    project: Project, gate_run: Callable[..., GateRun], tmp_path: Path
) -> None:
    root = project(
        {
            "tests/test_r.py": """
                import os
                from pathlib import Path


                def test_one():
                    pass


                def test_two():
                    pass


                def test_random():
                    # passes only on its second run: the first alone run
                    counter = Path(os.environ["COUNTER"])
                    count = int(counter.read_text() or 0) + 1 if counter.exists() else 1
                    counter.write_text(str(count))
                    assert count == 2
            """,
        }
    )
    env = clean_env(COUNTER=str(tmp_path / "count"))
    run = gate_run(root, "--seed", "1", "--reruns", "0", env=env)
    assert run.result.get("order_dependent") == []
    (item,) = run.result["diagnosis"]["unexplained"]
    assert "changes between identical runs (flaky)" in item["why"]


def test_orders_are_reported_without_the_diagnosis(
    project: Project, gate_run: Callable[..., GateRun]
) -> None:
    root = project(POLLUTED)
    run = gate_run(root, "--seed", "1", "--orders", "3", "--diagnose", "false", env=clean_env())
    assert [o["seed"] for o in run.result["orders"]] == [1, 2, 3]
    assert [c["nodeid"] for c in run.result["order_sensitive"]] == [VICTIM]
    assert "Order-sensitive tests (1)" in run.summary
    assert "order_dependent" not in run.result and "Diagnosis: why" not in run.summary


def test_an_order_that_hangs_is_stopped_and_said(
    project: Project, gate_run: Callable[..., GateRun], tmp_path: Path
) -> None:
    root = project(
        {
            "tests/test_h.py": """
                import os
                import time
                from pathlib import Path


                def test_hangs_after_the_first_run():
                    marker = Path(os.environ["MARKER"])
                    if marker.exists():
                        time.sleep(600)
                    marker.write_text("x")
            """,
        }
    )
    env = clean_env(MARKER=str(tmp_path / "marker"))
    args = ("--seed", "1", "--orders", "3", "--diagnose", "false", "--diagnose-timeout", "4")
    run = gate_run(root, *args, env=env)
    assert run.code == 0  # the main run passed; the verdict is the main run's
    notes = run.result["orders_not_run"]
    assert "seed 2 did not finish" in notes[0]
    assert "seed 3" in notes[-1]
    assert "seed 2 did not finish" in run.summary
