"""The composite action, end to end under act: step results, outputs, summaries, annotations,
and what hostile test output or input cannot do.

The action's workflows run under act, in host mode, offline.

Each run copies the project (as git sees it) into a fresh repository with a fixture project and
one workflow, and runs act on it with `--json`, so workflow commands, summaries and step results
come back as records. The gate's venv is built from a wheelhouse made once per test session:
act itself and the workflow need no network.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BIN = Path(sys.executable).parent
ACT_TIMEOUT = 600
# act runs offline: the pinned actions/cache that action.yml uses is replaced by a stand-in that
# keeps entries in a folder (GitHub's cache service cannot run here)
CACHE_ACTION = re.search(
    r"uses: (actions/cache)/restore@([0-9a-f]{40})", (REPO / "action.yml").read_text()
)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: install the dev group (pip install --group dev)")
    return found


@dataclass
class ActRun:
    code: int
    records: list[dict[str, Any]]
    out: Path
    stderr: str
    tmp: Path
    steps: dict[str, Any] = field(default_factory=dict)

    def commands(self, command: str, step: str | None = None) -> list[dict[str, Any]]:
        """Records of one workflow command; `step`: only those of the action's step `id`."""
        return [
            r
            for r in self.records
            if r.get("command") == command and (step is None or r.get("stepID", [])[:1] == [step])
        ]

    def summary(self, step: str, inner: str = "gate") -> str:
        """The job summary the action's run step wrote (act reports it once per nesting)."""
        found = [r["content"] for r in self.commands("summary") if r.get("stepID") == [step, inner]]
        assert len(found) <= 1, found
        return found[0] if found else ""

    def output_lines(self, step: str, inner: str) -> list[str]:
        """What one inner step of the action printed (its raw output lines)."""
        return [
            r["msg"]
            for r in self.records
            if r.get("stepID") == [step, inner] and r.get("raw_output")
        ]

    def durations(self) -> dict[str, float]:
        """Seconds per step, from act's `Success/Failure - Main NAME [1.2s]` lines."""
        times: dict[str, float] = {}
        for r in self.records:
            match = re.search(
                r"(?:Success|Failure) - Main (.+) \[([\d.]+)(ms|s)\]", r.get("msg", "")
            )
            if match:
                seconds = float(match[2]) / (1000 if match[3] == "ms" else 1)
                times[f"{'/'.join(r.get('stepID', []))} {match[1]}"] = seconds
        return times


def _project_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        name
        for name in done.stdout.split("\0")
        if name and (REPO / name).is_file() and not name.startswith(".github/workflows/")
    ]


def make_repo(root: Path, workflow: str) -> Path:
    """A git repository: the project, the fixture projects under e2e/, one workflow."""
    repo = root / "repo"
    for name in _project_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    for fixture in ("pass", "fail", "barrier"):
        shutil.copytree(FIXTURES / fixture, repo / "e2e" / fixture)
    (repo / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    shutil.copy2(FIXTURES / "workflows" / workflow, repo / ".github" / "workflows" / workflow)
    git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "e2e"], cwd=repo, check=True)
    return repo


def _host_path(with_uv: Path | None) -> str:
    """The host PATH act's steps see: without uv, or with only uv added in front."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    dirs = [d for d in dirs if not (Path(d) / "uv").exists() or d in ("/usr/bin", "/bin")]
    if with_uv is not None:
        dirs.insert(0, str(with_uv))
    return os.pathsep.join(dirs)


def run_act(
    root: Path,
    workflow: str,
    wheelhouse: Path,
    *,
    uv: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ActRun:
    root.mkdir(parents=True, exist_ok=True)
    repo = make_repo(root, workflow)
    out = root / "out"
    out.mkdir()
    uv_dir = None
    if uv:
        uv_dir = root / "uv-bin"
        uv_dir.mkdir()
        (uv_dir / "uv").symlink_to(uv)
    workflow_env = {
        "TEST_PYTHON": sys.executable,
        "OUT_DIR": str(out),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(wheelhouse),
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "CACHE_STAND_IN_DIR": str(root / "cache"),
        **(env or {}),
    }
    argv = [
        _tool("act"),
        "workflow_dispatch",
        "--json",
        "-P",
        "ubuntu-latest=-self-hosted",
        "-W",
        f".github/workflows/{workflow}",
        "--no-cache-server",
        "--action-offline-mode",
        "--local-repository",
        f"{CACHE_ACTION[1]}@{CACHE_ACTION[2]}={FIXTURES / 'cache-stand-in'}",
    ]
    for key, value in workflow_env.items():
        argv += ["--env", f"{key}={value}"]
    process_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "PIP_", "UV_", "PYTEST_", "TEST_GATE_"))
        and k != "PYTHONPATH"
    }
    process_env.update(
        ACT_DISABLE_VERSION_CHECK="1",
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        PATH=_host_path(uv_dir),
    )
    done = subprocess.run(
        argv,
        cwd=repo,
        env=process_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=ACT_TIMEOUT,
        check=False,
    )
    records = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    (root / "act.jsonl").write_text(done.stdout, encoding="utf-8")
    steps_file = out / "steps.json"
    steps = json.loads(steps_file.read_text()) if steps_file.exists() else {}
    run = ActRun(done.returncode, records, out, done.stderr, root, steps)
    assert steps, f"the workflow did not record its steps; act said:\n{done.stderr[-3000:]}"
    return run


def fill_wheelhouse(house: Path) -> Path:
    """The gate's pinned, hashed dependencies as files, so the workflows run offline (the
    gate itself runs from the action's source)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
            "--dest",
            str(house),
            "--requirement",
            str(REPO / "action" / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot fill the e2e wheelhouse:\n{done.stderr[-3000:]}")
    return house


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fill_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="module")
def pwned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pwned") / f"pwned-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, pwned: Path) -> ActRun:
    """One run of workflows/gate.yml (pip): bad input, hostile args, a pass, then a failure."""
    root = tmp_path_factory.mktemp("act-gate")
    return run_act(root, "gate.yml", wheelhouse, env={"PWNED": str(pwned)})


@pytest.fixture(scope="module")
def gate_uv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> ActRun:
    """workflows/pass.yml with uv on PATH: the gate's dependencies come with uv, then are
    reused."""
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.fail("uv is not installed: install the dev group (pip install --group dev)")
    root = tmp_path_factory.mktemp("act-uv")
    return run_act(root, "pass.yml", wheelhouse, uv=str(uv))


pytestmark = pytest.mark.e2e


def test_the_job_fails_when_the_gate_fails_and_passes_when_it_passes(gate: ActRun) -> None:
    steps = gate.steps
    assert gate.code == 1, gate.stderr[-2000:]
    assert steps["pass"]["outcome"] == "success"
    assert steps["fail"]["outcome"] == "failure"
    assert steps["bad"]["outcome"] == "failure"
    assert steps["hostile"]["outcome"] == "failure"


def test_outputs_carry_the_verdict_and_counts(gate: ActRun) -> None:
    passed = gate.steps["pass"]["outputs"]
    assert {k: passed[k] for k in ("verdict", "pass-rate", "passed", "failed", "errors")} == {
        "verdict": "pass",
        "pass-rate": "100.00",
        "passed": "3",
        "failed": "0",
        "errors": "0",
    }
    assert (passed["skipped"], passed["flaky"], passed["seed"], passed["ignored"]) == (
        "1",
        "0",
        "4242",
        "0",
    )
    failed = gate.steps["fail"]["outputs"]
    assert (failed["verdict"], failed["pass-rate"], failed["passed"], failed["failed"]) == (
        "fail",
        "90.00",
        "9",
        "1",
    )
    assert failed["flaky"] == "1"
    assert failed["seed"].isdigit()
    for name in ("result-file", "report-file", "summary-file"):
        path = Path(failed[name])
        assert path.name.endswith((".json", ".md"))
        assert "hostexecutor" not in path.parts  # under RUNNER_TEMP, not in the workspace


def test_no_scratch_file_lands_in_the_workspace(gate: ActRun) -> None:
    """Only pytest's own cache and bytecode appear; the gate writes under RUNNER_TEMP."""
    status = (gate.out / "status.txt").read_text().splitlines()
    assert status[0] == "true"
    pytests_own = {"__pycache__", ".pytest_cache"}
    others = [line for line in status[1:] if not pytests_own & set(line[3:].split("/"))]
    assert others == [], others


def test_the_summary_says_why_and_how_to_reproduce(gate: ActRun) -> None:
    page = gate.summary("fail")
    assert page.startswith("## ❌ test-gate failed")
    assert "**Pass rate 90.00%** (9 of 10 attempted tests passed) · threshold 95%" in page
    assert "below the threshold 95%" in page
    assert "tests/test_mixed.py::test_hostile_output" in page
    assert "flaky tests (1)" in page  # in the one table, with the failures
    seed = gate.steps["fail"]["outputs"]["seed"]
    # the command is wrapped to be read without scrolling: a backslash joins its lines
    assert f"--random-order-seed={seed} --reruns=1" in page.replace(" \\\n  ", " ")
    ok = gate.summary("pass")
    assert ok.startswith("## ✅ test-gate passed")
    assert "--random-order-seed=4242" in ok
    assert ok == (gate.out / "pass-summary.md").read_text()


def _as_github_reads(msg: str) -> dict[str, str]:
    """Properties of a command line as GitHub's runner reads them: they end at the first `::`
    after the command (act's own parser takes the last one, so a message with `::` in it loses
    its properties there)."""
    line = msg[msg.index("::") :].rstrip("\n")
    head = line[2 : line.index("::", 2)]
    _, _, props = head.partition(" ")
    pairs = (item.split("=", 1) for item in props.split(",") if "=" in item)
    return {k: v.replace("%3A", ":").replace("%2C", ",").replace("%25", "%") for k, v in pairs}


def test_failures_and_flaky_tests_are_annotated_at_their_lines(gate: ActRun) -> None:
    errors = [_as_github_reads(r["msg"]) for r in gate.commands("error", "fail")]
    assert errors == [
        {"title": "test-gate failed"},
        {
            "title": "Test failed: tests/test_mixed.py::test_hostile_output",
            "file": "e2e/fail/tests/test_mixed.py",
            "line": "21",
        },
    ]
    warnings = [_as_github_reads(r["msg"]) for r in gate.commands("warning", "fail")]
    assert warnings == [
        {
            "title": "Flaky test: tests/test_mixed.py::test_flaky",
            "file": "e2e/fail/tests/test_mixed.py",
            "line": "11",
        }
    ]


def test_test_output_cannot_issue_workflow_commands(gate: ActRun) -> None:
    annotations = [r for c in ("warning", "error", "notice") for r in gate.commands(c)]
    assert not [r for r in annotations if r.get("arg", "").startswith("pwned")]
    assert not [r for r in annotations if r.get("kvPairs", {}).get("title") == "pwned"]
    assert not [r for r in gate.commands("set-output") if r.get("name") == "injected"]
    assert not gate.commands("add-mask")
    assert gate.steps["fail"]["outputs"]["verdict"] == "fail"
    # the lines were there, shown but not obeyed
    ignored = " ".join(r.get("msg", "") for r in gate.commands("ignored", "fail"))
    assert "::warning::pwned-warning" in ignored
    assert "::set-output name=injected::yes" in ignored
    # controls: outside the window act obeys the same commands
    assert [r["arg"] for r in gate.commands("warning", "6")] == ["control-warning"]
    assert [r["name"] for r in gate.commands("set-output", "6")] == ["control"]


def test_hostile_pytest_args_run_nothing(gate: ActRun, pwned: Path) -> None:
    created = sorted(p.name for p in pwned.parent.iterdir())
    assert created == []
    page = gate.summary("hostile")
    # the root cause, quoted; pytest's exit code (4) follows from it and is not said again
    assert "- pytest: file or directory not found: ;\n" in page
    assert "exited with code" not in page
    command = page.replace(" \\\n  ", " ")  # the reproduce command, unwrapped
    assert f"';' touch {pwned}-1 '&&' touch {pwned}-2 '$(touch'" in command


def test_bad_input_fails_the_step_with_one_line(gate: ActRun) -> None:
    lines = "".join(gate.output_lines("bad", "gate")).splitlines()
    expected = (
        "test-gate: error: --threshold: 'abc' is not a percentage; use a number from 0 to 100, "
        "such as 98, 98.5 or 98%"
    )
    assert expected in lines
    assert not [line for line in lines if "Traceback" in line]
    annotation = gate.commands("error", "bad")
    assert [(r["kvPairs"].get("title"), r["arg"]) for r in annotation] == [
        ("test-gate: bad input", expected.removeprefix("test-gate: error: "))
    ]
    assert not gate.summary("bad")


def test_uv_installs_the_gates_dependencies_and_a_second_use_reuses_them(
    gate_uv: ActRun,
) -> None:
    assert gate_uv.code == 0, gate_uv.stderr[-2000:]
    first = "".join(gate_uv.output_lines("first", "setup"))
    second = "".join(gate_uv.output_lines("second", "setup"))
    assert "Gate dependencies with uv " in first
    assert "Reusing the gate's dependencies" in second
    assert gate_uv.steps["first"]["outputs"]["verdict"] == "pass"
    assert gate_uv.steps["second"]["outputs"]["seed"] == "7"
    assert not gate_uv.summary("second")  # summary: false
    assert not gate_uv.commands("notice", "second")  # annotations: false
    assert gate_uv.summary("first").startswith("## ✅ test-gate passed")


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> ActRun:
    """workflows/merge.yml: two shards, then the merge action over their results."""
    return run_act(tmp_path_factory.mktemp("act-merge"), "merge.yml", wheelhouse)


def test_the_merge_action_gives_one_verdict_over_the_shards(merged: ActRun) -> None:
    steps = merged.steps
    assert merged.code == 0, merged.stderr[-2000:]
    one, two = steps["shard1"]["outputs"], steps["shard2"]["outputs"]
    assert one["seed"] == two["seed"]  # shared without a seed input: from the run's id
    assert int(one["passed"]) + int(two["passed"]) == 3
    outputs = steps["merged"]["outputs"]
    assert {k: outputs[k] for k in ("verdict", "pass-rate", "passed", "skipped", "seed")} == {
        "verdict": "pass",
        "pass-rate": "100.00",
        "passed": "3",
        "skipped": "1",
        "seed": "",
    }
    summary = merged.summary("merged", "merge")
    assert summary.startswith("## ✅ test-gate passed")
    assert "| e2e | 2 of 2 shards |" in summary
    # the merged verdict is recorded, and saved as the history's first numbered entry
    assert "none yet; this run starts it" in summary
    assert sorted(p.name for p in (merged.tmp / "cache").iterdir()) == [
        "test-gate-history-master-s1"
    ]
    said = [r.get("msg", "") for r in merged.records]
    assert any("the history entry test-gate-history-master-s1 holds this run" in m for m in said)


def test_the_merge_action_fails_on_a_missing_shard(merged: ActRun) -> None:
    assert merged.steps["missing"]["outcome"] == "failure"
    assert merged.steps["missing"]["outputs"]["verdict"] == "fail"
    summary = merged.summary("missing", "merge")
    assert "e2e: shard 2/2 is missing (no result file)" in summary
    errors = [r for r in merged.commands("error", "missing")]
    assert errors and "shard 2/2 is missing" in json.dumps(errors)


@pytest.fixture(scope="module")
def history_runs(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> list[ActRun]:
    """workflows/history.yml in two workflow runs that share one cache."""
    root = tmp_path_factory.mktemp("act-history")
    cache = root / "cache"
    return [
        run_act(
            root / f"run-{n}",
            "history.yml",
            wheelhouse,
            env={"GITHUB_RUN_ID": str(100 + n), "CACHE_STAND_IN_DIR": str(cache)},
        )
        for n in (1, 2)
    ]


def test_the_history_travels_between_runs_and_a_known_failure_passes_with_fail_on_new(
    history_runs: list[ActRun],
) -> None:
    first, second = history_runs
    # the first run: no history yet; its failure is new, and the history is saved anyway
    assert first.steps["gate"]["outcome"] == "failure"
    assert "Cache not found for input keys: test-gate-history-" in "".join(
        r.get("msg", "") for r in first.records
    )
    summary = first.summary("gate")
    assert "none yet; this run starts it" in summary
    assert "| **new**" in summary  # in its row of the failures table
    errors = first.commands("error", "gate")
    assert any("Test failed (new)" in r["kvPairs"].get("title", "") for r in errors)
    # the second run restores it by the branch's prefix: the same failure is known
    assert second.steps["gate"]["outcome"] == "success", second.stderr[-2000:]
    assert second.steps["gate"]["outputs"]["verdict"] == "pass"
    summary = second.summary("gate")
    assert "| **known**" in summary
    assert "### Across runs (last 2)" in summary and "```mermaid" in summary
    warnings = second.commands("warning", "gate")
    assert any("Test failed (known)" in r["kvPairs"].get("title", "") for r in warnings)
    # each run saved its own entry: entries are never overwritten
    saved = sorted(p.name for p in (first.tmp.parent / "cache").iterdir())
    assert saved == ["test-gate-history-master-s1", "test-gate-history-master-s2"]
    assert any(
        "the history entry test-gate-history-master-s2 holds this run" in r.get("msg", "")
        for r in second.records
    )


@pytest.fixture(scope="module")
def concurrent_runs(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path
) -> tuple[list[ActRun], ActRun]:
    """Three workflow runs of one branch at once (each waits in its tests until all three have
    restored the history), then a fourth, all sharing one cache."""
    root = tmp_path_factory.mktemp("act-concurrent")
    barrier = root / "barrier"
    barrier.mkdir()

    def one(n: int, extra: dict[str, str]) -> ActRun:
        env = {"GITHUB_RUN_ID": str(200 + n), "CACHE_STAND_IN_DIR": str(root / "cache")}
        return run_act(root / f"run-{n}", "history-concurrent.yml", wheelhouse, env=env | extra)

    together = {"BARRIER_DIR": str(barrier), "BARRIER_COUNT": "3"}
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda n: one(n, together), (1, 2, 3)))
    return runs, one(4, {})


def test_runs_of_one_branch_at_once_all_stay_in_the_history(
    concurrent_runs: tuple[list[ActRun], ActRun],
) -> None:
    together, after = concurrent_runs
    for run in together:
        assert run.steps["gate"]["outcome"] == "success", run.stderr[-2000:]
        # all three restored nothing: each began the history
        assert "none yet; this run starts it" in run.summary("gate")
    said = [r.get("msg", "") for run in together for r in run.records]
    # one took the first number; the others found it taken, took its runs, went on
    assert sum("saved the history entry test-gate-history-master-s1 first" in m for m in said) == 2
    assert sum("saved the history entry test-gate-history-master-s2 first" in m for m in said) == 1
    cache = after.tmp.parent / "cache"
    assert sorted(p.name for p in cache.iterdir()) == [
        f"test-gate-history-master-s{n}" for n in (1, 2, 3, 4)
    ]
    # the fourth run restored the newest entry: all three runs are in it, and its own
    assert after.steps["gate"]["outcome"] == "success", after.stderr[-2000:]
    assert "### Across runs (last 4)" in after.summary("gate")
