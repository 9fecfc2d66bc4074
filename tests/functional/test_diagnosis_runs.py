"""The diagnosis through the real CLI and the real pytest, on real pollution patterns."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO, GateRun, clean_env

_SPEC = importlib.util.spec_from_file_location("od_cases", REPO / "benchmarks" / "od_cases.py")
assert _SPEC is not None and _SPEC.loader is not None
od_cases: ModuleType = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("od_cases", od_cases)
_SPEC.loader.exec_module(od_cases)

CASES = {case.name: case for case in od_cases.CASES}


def fast_env(**extra: str) -> dict[str, str]:
    """The fixture projects do not use hypothesis; its pytest plugin costs ~1 s per process."""
    return clean_env(PYTEST_ADDOPTS="-p no:hypothesispytest", **extra)


def bisection_cost(n: int) -> int:
    """Runs for one polluter among n tests: alone + ceil(log2 n) probes + the printed command
    + alone once more (the answer repeats)."""
    return 3 + max(0, (n - 1).bit_length())


def dtp_cost(total: int) -> int:
    """detect-test-pollution: discovery + alone + all + ceil(log2(total - 1)) + double check."""
    return 4 + max(0, (total - 2).bit_length())


def run_printed(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a printed reproduce command as a developer would: in a shell, `python` on PATH."""
    shell_env = dict(env, PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    return subprocess.run(
        command, shell=True, env=shell_env, capture_output=True, text=True, check=False
    )


def _entry(result: dict[str, Any], victim: str) -> dict[str, Any]:
    found = [e for e in result.get("order_dependent", []) if e["victim"] == victim]
    assert found, json.dumps(result.get("diagnosis"), indent=1)
    entry: dict[str, Any] = found[0]
    return entry


@pytest.mark.parametrize(
    "name", ["registry", "environ", "logging", "patched_attribute", "singleton"]
)
def test_single_polluter_is_found_with_a_command_that_reproduces(
    name: str, tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES[name]
    root = case.write(tmp_path / name)
    run = gate_run(root, "--seed", str(case.seed), env=fast_env())
    assert case.victim in [f["nodeid"] for f in run.result["failures"]], "the seed no longer shows"
    assert run.code == 1  # the verdict is not softened: the victim failed
    entry = _entry(run.result, case.victim)
    assert entry["kind"] == "polluted"
    assert entry["polluters"] == list(case.culprits)
    assert entry["runs"] <= bisection_cost(entry["candidates"])
    total = sum(run.result["counts"][k] for k in ("passed", "failed", "error"))
    assert entry["runs"] <= dtp_cost(total) - 1
    assert case.victim in run.summary and case.culprits[0] in run.summary
    assert entry["command"] in run.summary.replace(" \\\n  ", " ")  # wrapped on the page
    # the printed command reproduces the failure as printed; the victim alone passes
    shown = run_printed(entry["command"], fast_env())
    assert shown.returncode == 1, shown.stdout
    assert "1 failed, 1 passed" in shown.stdout
    alone = run_printed(entry["command"].replace(case.culprits[0] + " ", ""), fast_env())
    assert alone.returncode == 0, alone.stdout


def test_polluter_defined_after_the_victim_in_the_same_file_runs_first(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["patched_attribute"]
    root = case.write(tmp_path / "p")
    entry = _entry(gate_run(root, "--seed", str(case.seed), env=fast_env()).result, case.victim)
    shown = run_printed(entry["command"] + " -v", fast_env())
    ran = [line.split(" ")[0] for line in shown.stdout.splitlines() if "::" in line]
    assert ran[:2] == [*case.culprits, case.victim]


def test_two_tests_that_pollute_only_together(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["pair"]
    run = gate_run(case.write(tmp_path / "pair"), "--seed", str(case.seed), env=fast_env())
    entry = _entry(run.result, case.victim)
    assert entry["polluters"] == list(case.culprits)
    n = entry["candidates"]
    assert entry["runs"] <= 4 * bisection_cost(n)
    assert "polluters, together" in run.summary
    assert run_printed(entry["command"], fast_env()).returncode == 1


def test_victim_that_needs_a_state_setter(tmp_path: Path, gate_run: Callable[..., GateRun]) -> None:
    case = CASES["state_setter"]
    run = gate_run(case.write(tmp_path / "setter"), "--seed", str(case.seed), env=fast_env())
    entry = _entry(run.result, case.victim)
    assert entry["kind"] == "needs_setter"
    assert entry["setters"] == list(case.culprits)
    assert entry["polluters"] == []
    assert entry["runs"] <= 1 + bisection_cost(entry["candidates"])
    assert run.result["broken"] == []
    assert "needs a state-setter" in run.summary
    assert run_printed(entry["command"], fast_env()).returncode == 1
    assert run_printed(entry["passing_command"], fast_env()).returncode == 0


def test_flaky_broken_and_order_dependent_are_told_apart(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/test_mix.py": """
                import os
                from pathlib import Path

                STATE = []

                def test_flaky(tmp_path_factory):
                    marker = Path(os.environ["FLAKY_MARKER"])
                    if not marker.exists():
                        marker.write_text("x")
                        raise AssertionError("first attempt fails")

                def test_broken():
                    assert 1 + 1 == 3

                def test_polluter():
                    STATE.append(1)

                def test_victim():
                    assert STATE == []
            """,
        }
    )
    env = fast_env(FLAKY_MARKER=str(root / "flaky.marker"))
    seed = 1  # order: test_polluter test_flaky test_broken test_victim
    run = gate_run(root, "--seed", str(seed), env=env)
    assert run.code == 1
    assert run.counts["flaky"] == 1
    assert run.result["diagnosis"]["flaky"] == ["tests/test_mix.py::test_flaky"]
    assert [b["nodeid"] for b in run.result["broken"]] == ["tests/test_mix.py::test_broken"]
    assert run.result["broken"][0]["runs"] <= 2
    assert _entry(run.result, "tests/test_mix.py::test_victim")["polluters"] == [
        "tests/test_mix.py::test_polluter"
    ]
    assert "**broken**" in run.summary and "**order-dependent**" in run.summary


def test_diagnose_false_runs_nothing_more(tmp_path: Path, gate_run: Callable[..., GateRun]) -> None:
    case = CASES["environ"]
    run = gate_run(
        case.write(tmp_path / "e"), "--seed", str(case.seed), "--diagnose", "false", env=fast_env()
    )
    assert run.code == 1
    assert "order_dependent" not in run.result
    assert "Diagnosis" not in run.summary


def test_max_victims_says_what_was_not_examined(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {"tests/test_b.py": "def test_one():\n    assert 0\n\ndef test_two():\n    assert 0\n"}
    )
    run = gate_run(root, "--seed", "1", "--max-victims", "1", env=fast_env())
    assert len(run.result["broken"]) == 1
    skipped = run.result["diagnosis"]["not_examined"]
    assert len(skipped) == 1 and skipped[0]["why"] == "--max-victims 1 reached"
    assert "Not examined" in run.summary


def test_orders_report_tests_whose_outcome_changes(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["environ"]
    root = case.write(tmp_path / "o", fillers=(0, 0))
    run = gate_run(root, "--seed", str(case.seed), "--orders", "4", env=fast_env())
    seeds = [o["seed"] for o in run.result["orders"]]
    assert seeds == [case.seed + k for k in range(4)]
    changed = {c["nodeid"]: c for c in run.result["order_sensitive"]}
    assert list(changed) == [case.victim]
    outcomes = {o["outcome"] for o in changed[case.victim]["outcomes"]}
    assert outcomes == {"passed", "failed"}
    assert "Order-sensitive tests (1)" in run.summary
    assert _entry(run.result, case.victim)["polluters"] == list(case.culprits)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--diagnose", "maybe"),
        ("--diagnose-timeout", "0"),
        ("--diagnose-timeout", "soon"),
        ("--max-victims", "-1"),
        ("--orders", "0"),
    ],
)
def test_bad_diagnosis_options_exit_2(
    option: str, value: str, project: Callable[[dict[str, str]], Path]
) -> None:
    from conftest import cli

    root = project({"tests/test_a.py": "def test_a():\n    pass\n"})
    done = cli("run", str(root), option, value, env=fast_env())
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0]


def test_unreachable_service_is_grouped_with_host_and_port(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    root = project(
        {
            "tests/test_db.py": f"""
                import asyncio
                import socket

                def test_connect():
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)

                def test_async_connect():
                    asyncio.run(asyncio.open_connection("127.0.0.1", {port}))
            """,
        }
    )
    run = gate_run(root, "--seed", "1", "--diagnose", "false", env=fast_env())
    groups = run.result["unreachable"]
    assert sum(len(g["tests"]) for g in groups) == 2
    assert f"127.0.0.1:{port}" in [g["endpoint"] for g in groups]
    assert "External service unreachable (2)" in run.summary


def test_project_that_enables_random_order_in_addopts_still_gets_a_working_command(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["environ"]
    root = case.write(tmp_path / "ao", fillers=(0, 0))
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'addopts = "--random-order"\n')
    run = gate_run(root, "--seed", str(case.seed), env=fast_env())
    entry = _entry(run.result, case.victim)
    assert entry["polluters"] == list(case.culprits)
    assert "--random-order-bucket=none" in entry["command"]
    assert run_printed(entry["command"], fast_env()).returncode == 1


def test_time_budget_spent_is_said(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/test_slow.py": """
                import time

                def test_slow():
                    time.sleep(1.5)
                    assert 0
            """
        }
    )
    run = gate_run(
        root, "--seed", "1", "--reruns", "0", "--diagnose-timeout", "0.5", env=fast_env()
    )
    assert run.code == 1
    skipped = run.result["diagnosis"]["not_examined"]
    assert [s["nodeid"] for s in skipped] == ["tests/test_slow.py::test_slow"]
    assert "time budget (0.5 s)" in skipped[0]["why"]
    assert "Not examined" in run.summary


def test_rootdir_above_the_run_directory(tmp_path: Path, gate_run: Callable[..., GateRun]) -> None:
    """Node ids are relative to the rootdir; the printed command runs in the run directory."""
    case = CASES["registry"]
    repo = tmp_path / "repo"
    case.write(repo / "sub", fillers=(0, 0))
    (repo / "sub" / "pyproject.toml").unlink()
    (repo / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["sub"]\ntestpaths = ["sub/tests"]\n'
    )
    run = gate_run(repo / "sub", "--seed", "4", env=fast_env())
    victim = "sub/" + case.victim
    entry = _entry(run.result, victim)
    assert entry["polluters"] == ["sub/" + case.culprits[0]]
    assert f"{case.culprits[0]} {case.victim}" in entry["command"]
    assert run_printed(entry["command"], fast_env()).returncode == 1


def test_a_polluter_found_once_is_tried_first_for_the_next_victim(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    root = project(
        {
            "tests/test_env.py": """
                import os

                def test_sets_debug():
                    os.environ["APP_DEBUG"] = "1"
            """,
            "tests/test_a.py": """
                import os

                def test_first_victim():
                    assert "APP_DEBUG" not in os.environ
            """,
            "tests/test_b.py": """
                import os

                def test_second_victim():
                    assert os.environ.get("APP_DEBUG") is None

                def test_unrelated():
                    pass
            """,
            "tests/test_r.py": """
                import random

                import pytest

                @pytest.mark.parametrize("x", [0], ids=[f"r{random.random()}"])
                def test_random_id(x):
                    assert x == 1
            """,
        }
    )
    # seed 2: test_sets_debug, test_random_id[...], test_first_victim, test_second_victim, ...
    run = gate_run(root, "--seed", "2", env=fast_env())
    first = _entry(run.result, "tests/test_a.py::test_first_victim")
    second = _entry(run.result, "tests/test_b.py::test_second_victim")
    assert first["polluters"] == second["polluters"] == ["tests/test_env.py::test_sets_debug"]
    assert second["runs"] == 3  # alone, the known polluter (the printed command), alone again
    # a test whose id changes from run to run cannot be selected again: said, not guessed
    unexplained = run.result["diagnosis"]["unexplained"]
    assert [u["nodeid"].split("[")[0] for u in unexplained] == ["tests/test_r.py::test_random_id"]
    assert "did not run in a diagnosis run" in unexplained[0]["why"]
    assert unexplained[0]["runs"] == 1


def test_main_run_reports_are_not_overwritten_by_diagnosis_runs(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["environ"]
    root = case.write(tmp_path / "junit")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'addopts = "--junitxml=main.xml"\n')
    run = gate_run(
        root,
        "--seed",
        str(case.seed),
        "--orders",
        "2",
        "--pytest-args=--junitxml=cli.xml",
        env=fast_env(),
    )
    assert _entry(run.result, case.victim)["polluters"] == list(case.culprits)
    assert run.result["diagnosis"]["runs"] >= 3
    # the user's --junitxml (the later one wins) holds the main run: all 8 tests, 1 failure
    junit = (root / "cli.xml").read_text()
    assert 'tests="8"' in junit and 'failures="1"' in junit
    assert "--junitxml" not in entry_command(run.result, case.victim)


def entry_command(result: dict[str, Any], victim: str) -> str:
    command: str = _entry(result, victim)["command"]
    return command


def test_a_notice_beside_the_victim_on_github(
    tmp_path: Path, gate_run: Callable[..., GateRun]
) -> None:
    case = CASES["environ"]
    root = case.write(tmp_path / "gh", fillers=(0, 0))
    out = tmp_path / "gh-files"
    out.mkdir()
    env = fast_env(
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(out / "summary"),
        GITHUB_OUTPUT=str(out / "output"),
    )
    run = gate_run(root, "--seed", str(case.seed), "--github", "true", env=env)
    notices = [ln for ln in run.proc.stdout.splitlines() if ln.startswith("::notice ")]
    mine = [ln for ln in notices if "Order-dependent" in ln]
    assert len(mine) == 1
    assert "file=tests/test_settings.py" in mine[0]
    assert "fails after tests/test_debug.py::test_debug_mode" in mine[0]


def test_polluter_is_found_on_the_same_xdist_worker(
    project: Callable[[dict[str, str]], Path], gate_run: Callable[..., GateRun]
) -> None:
    """Under pytest-xdist only the tests of the victim's worker ran before it in its process."""
    files = {
        "tests/registry.py": "ITEMS = []\n",
        "tests/test_pair.py": """
            import registry

            def test_polluter():
                registry.ITEMS.append("x")

            def test_victim():
                assert registry.ITEMS == []
        """,
        **{
            f"tests/test_fill_{i}.py": "".join(f"def test_f{j}():\n    pass\n" for j in range(4))
            for i in range(3)
        },
    }
    root = project(files)
    # --dist loadfile keeps the pair on one worker; seed 10 puts the polluter first there
    # (the order inside a module depends on the seed alone)
    run = gate_run(root, "--seed", "10", "--", "-n", "2", "--dist", "loadfile")
    assert run.counts["failed"] == 1, run.proc.stdout[-2000:]
    entry = _entry(run.result, "tests/test_pair.py::test_victim")
    assert entry["polluters"] == ["tests/test_pair.py::test_polluter"]
