"""action.yml keeps its promises: every input reaches the gate through env:, no expression is
spliced into a shell script, every output comes from the gate, and the gate's venv is pinned."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from test_gate.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
RUN_STEP = next(step for step in STEPS if step.get("id") == "gate")
MERGE = yaml.safe_load((REPO / "merge" / "action.yml").read_text(encoding="utf-8"))
MERGE_STEPS: list[dict[str, Any]] = MERGE["runs"]["steps"]
MERGE_STEP = next(step for step in MERGE_STEPS if step.get("id") == "merge")
# action input -> `test-gate run` option it becomes
OPTIONS = {
    "threshold": "--threshold",
    "seed": "--seed",
    "reruns": "--reruns",
    "bucket": "--bucket",
    "timeout": "--timeout",
    "test-timeout": "--test-timeout",
    "shard": "--shard",
    "durations-from": "--durations-from",
    "cell": "--cell",
    "working-directory": "--path",
    "python": "--python",
    "pytest-args": "--pytest-args",
    "allow-no-tests": "--allow-no-tests",
    "max-ignored": "--max-ignored",
    "fail-on-gate": "--fail-on-gate",
    "diagnose": "--diagnose",
    "diagnose-timeout": "--diagnose-timeout",
    "max-victims": "--max-victims",
    "orders": "--orders",
    "summary": "--step-summary",
    "annotations": "--annotations",
}
# the options across runs, the same in both actions
HISTORY_OPTIONS = {
    "history": "--history",
    "fail-on": "--fail-on",
    "max-flaky-rate": "--max-flaky-rate",
    "window": "--window",
    "keep-runs": "--keep-runs",
    "quarantine": "--quarantine",
    "max-quarantined": "--max-quarantined",
    "require-stable": "--require-stable",
    "dashboard": "--dashboard",
}
# the files written beside the summary, the same in both actions
FILE_OPTIONS = {"junit-file": "--junit-file", "ctrf-file": "--ctrf-file"}
OPTIONS.update(HISTORY_OPTIONS)
OPTIONS.update(FILE_OPTIONS)
CACHE_INPUTS = {"history-cache", "history-key"}  # for the cache steps, not the gate
# a secret: the gate reads it from the environment variable it names, never from its argv
SECRET_INPUTS = {"history-url"}
SCRIPTS = [step for step in STEPS if "run" in step]
OUTPUTS = {
    "verdict",
    "pass-rate",
    "passed",
    "failed",
    "errors",
    "skipped",
    "flaky",
    "seed",
    "ignored",
    "result-file",
    "report-file",
    "summary-file",
    "junit-file",
    "ctrf-file",
}


def env_name(name: str) -> str:
    return "INPUT_" + name.upper().replace("-", "_")


def test_the_action_is_composite_with_bash_everywhere() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["branding"]["icon"] and ACTION["branding"]["color"]
    for step in STEPS:
        assert step.get("shell") == "bash" or step["uses"].startswith("actions/cache/"), step


def test_no_expression_inside_any_script() -> None:
    for step in STEPS:
        assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("name", sorted(ACTION["inputs"]))
def test_every_input_is_documented_with_its_default(name: str) -> None:
    spec = ACTION["inputs"][name]
    assert spec.get("description", "").strip()
    assert "default" in spec
    assert isinstance(spec["default"], str)
    assert spec.get("required", False) is False


def test_a_history_url_reaches_the_gate_by_the_name_of_its_variable() -> None:
    for step in (RUN_STEP, MERGE_STEP):
        assert step["env"]["INPUT_HISTORY_URL"] == "${{ inputs.history-url }}"
        assert "--history-url-env=INPUT_HISTORY_URL" in step["run"]
        assert "$INPUT_HISTORY_URL" not in step["run"]


def test_every_input_reaches_the_gate_through_env() -> None:
    assert set(ACTION["inputs"]) == set(OPTIONS) | CACHE_INPUTS | SECRET_INPUTS
    env = RUN_STEP["env"]
    script = RUN_STEP["run"]
    for name, option in OPTIONS.items():
        assert env[env_name(name)] == f"${{{{ inputs.{name} }}}}"
        # one word, `--option=value`: a value starting with `-` cannot become an option (the
        # interpreter goes through test_python, which falls back to python on PATH)
        word = "$test_python" if name == "python" else f"${env_name(name)}"
        assert f'"{option}={word}"' in script, name
    used = set(re.findall(r"\$\{?(INPUT_[A-Z_]+)", script))
    assert used == {env_name(name) for name in OPTIONS}


@pytest.mark.parametrize("option", [*OPTIONS.values(), "--github"])
def test_every_forwarded_option_exists_in_the_cli(option: str) -> None:
    build_parser().parse_args(["run", f"{option}=-x"])  # no UsageError: known, takes `=value`


def test_defaults_are_the_clis_defaults() -> None:
    parsed = build_parser().parse_args(["run"])
    for name, option in OPTIONS.items():
        default = ACTION["inputs"][name]["default"]
        if name == "python":
            assert default == ""
        elif name == "working-directory":
            assert default == parsed.path == "."
        elif name == "summary":
            assert default == parsed.step_summary
        elif name == "timeout":  # the action bounds a run by default; the command line does not
            assert (default, parsed.timeout) == ("3600", "none")
        else:
            assert default == getattr(parsed, option.removeprefix("--").replace("-", "_")), name


def test_outputs_come_from_the_run_step() -> None:
    assert set(ACTION["outputs"]) == OUTPUTS
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"
        assert spec["description"].strip()


def test_the_gate_installs_exactly_its_pinned_hashed_dependencies() -> None:
    """The action runs test-gate from its own source; what test-gate imports beside it is
    pinned and hashed in action/requirements.txt, and installed without dependencies."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.M | re.S)
    assert block
    dependencies = [Requirement(d) for d in re.findall(r'"([^"]+)"', block[1])]
    text = (REPO / "action" / "requirements.txt").read_text(encoding="utf-8")
    pins = dict(
        re.findall(
            r"^([\w-]+)==([\w.]+)(?: ; [^\\]+)? \\\n\s+--hash=sha256:[0-9a-f]{64}$", text, re.M
        )
    )
    from_source = {"pytest-test-gate"}
    assert {d.name for d in dependencies} - from_source == set(pins)
    for requirement in dependencies:
        if requirement.name not in from_source:
            assert requirement.specifier.contains(pins[requirement.name]), requirement
    assert STEPS[0]["run"] == 'bash "$GITHUB_ACTION_PATH/action/setup.sh"'
    assert MERGE_STEPS[0]["run"] == 'bash "$GITHUB_ACTION_PATH/../action/setup.sh"'
    setup = (REPO / "action" / "setup.sh").read_text(encoding="utf-8")
    assert setup.count("--no-deps --require-hashes") + setup.count("--no-deps \\\n") >= 1
    assert setup.count("--require-hashes") == 4  # uv and pip alike, for each of the two files
    assert 'requirements="$here/requirements.txt"' in setup
    # a PostgreSQL history adds psycopg, pinned and hashed, as the `postgresql` extra allows
    extra = re.search(r"^postgresql = \[(.*?)\]", pyproject, re.M | re.S)
    assert extra
    wanted = Requirement(re.findall(r'"([^"]+)"', extra[1])[0])
    text = (REPO / "action" / "requirements-postgresql.txt").read_text(encoding="utf-8")
    found = re.findall(r"^psycopg==([\w.]+) \\\n\s+--hash=sha256:[0-9a-f]{64}$", text, re.M)
    assert found and wanted.specifier.contains(found[0])


def test_the_gate_runs_from_the_actions_own_source_without_pythonpath() -> None:
    for step in [*SCRIPTS, MERGE_STEPS[0], MERGE_STEP]:
        assert "PYTHONPATH" not in step["run"] and "PYTHONPATH" not in step.get("env", {})
    for step in SCRIPTS[1:]:
        if "history_cache.sh" in step["run"]:  # the action's own script, which runs gate.py
            assert re.fullmatch(
                r'bash "\$GITHUB_ACTION_PATH/action/history_cache\.sh" (keys|set-aside|merge)',
                step["run"],
            )
        elif "gate.py" in step["run"] or "GATE_PYTHON" in step.get("env", {}):
            assert '"$GATE_PYTHON" "$GITHUB_ACTION_PATH/action/gate.py" "$GATE_LIB"' in step["run"]
    gate = '"$GATE_PYTHON" "$GITHUB_ACTION_PATH/../action/gate.py" "$GATE_LIB" merge'
    assert gate in MERGE_STEP["run"]


# merge action input -> `test-gate merge` option it becomes
MERGE_OPTIONS = {
    "expect-shards": "--expect-shards",
    "expect-cells": "--expect-cells",
    "threshold": "--threshold",
    "allow-no-tests": "--allow-no-tests",
    "max-ignored": "--max-ignored",
    "fail-on-gate": "--fail-on-gate",
    "summary": "--step-summary",
    "annotations": "--annotations",
    **HISTORY_OPTIONS,
    **FILE_OPTIONS,
}


def test_the_merge_action_forwards_every_input_through_env() -> None:
    assert MERGE["runs"]["using"] == "composite"
    assert set(MERGE["inputs"]) == {
        *MERGE_OPTIONS,
        *CACHE_INPUTS,
        *SECRET_INPUTS,
        "results",
        "python",
    }
    script = MERGE_STEP["run"]
    env = MERGE_STEP["env"]
    for name, option in MERGE_OPTIONS.items():
        assert env[env_name(name)] == f"${{{{ inputs.{name} }}}}"
        assert f'"{option}=${env_name(name)}"' in script
        build_parser().parse_args(["merge", "x", f"{option}=-x"])
    assert '"--results=$line"' in script and "${{" not in script
    assert MERGE_STEPS[0]["env"]["INPUT_PYTHON"] == "${{ inputs.python }}"


def test_the_merge_action_has_the_same_outputs() -> None:
    assert set(MERGE["outputs"]) == OUTPUTS
    for name, spec in MERGE["outputs"].items():
        assert spec["value"] == f"${{{{ steps.merge.outputs.{name} }}}}"


def test_the_merge_defaults_are_the_clis_defaults() -> None:
    parsed = build_parser().parse_args(["merge", "x"])
    for name, option in MERGE_OPTIONS.items():
        default = getattr(parsed, option.lstrip("-").replace("-", "_"))
        assert MERGE["inputs"][name]["default"] == default, name


@pytest.mark.parametrize(("steps", "main"), [(STEPS, "gate"), (MERGE_STEPS, "merge")])
def test_the_history_is_restored_before_the_gate_and_saved_after_whatever_the_verdict(
    steps: list[dict[str, Any]], main: str
) -> None:
    """actions/cache, pinned to a commit: this branch's newest history, else the base
    branch's; saved after the gate, pass or fail, under numbered keys (cache entries are
    immutable), each save read back and merged before the next."""
    ids = [step.get("id") or step.get("uses", "").split("@")[0] for step in steps]
    restore, keys = ids.index("history-restore"), ids.index("history-keys")
    assert restore < keys < ids.index(main)
    first = steps[restore]
    assert re.fullmatch(r"actions/cache/restore@[0-9a-f]{40}", first["uses"])
    assert first["if"] == "inputs.history != '' && inputs.history-cache == 'true'"
    assert first["with"]["key"].endswith("-${{ github.run_id }}-${{ github.run_attempt }}")
    prefixes = first["with"]["restore-keys"].strip().splitlines()
    assert prefixes == [
        "${{ inputs.history-key }}-${{ github.head_ref || github.ref_name }}-",
        "${{ inputs.history-key }}-"
        "${{ github.base_ref || github.event.repository.default_branch }}-",
    ]
    after = steps[ids.index(main) + 1 :]
    caches = [s for s in after if "actions/cache/" in s.get("uses", "")]
    assert [s["uses"].split("@")[0] for s in caches] == [
        "actions/cache/save",
        "actions/cache/restore",
    ] * 3
    for round_, (save, back) in enumerate(zip(caches[::2], caches[1::2], strict=True), 1):
        for step in (save, back):
            assert step["uses"].split("@")[1] == first["uses"].split("@")[1]
            assert step["with"] == {
                "path": "${{ inputs.history }}",
                "key": f"${{{{ steps.history-keys.outputs.key-{round_} }}}}",
            }
            assert step["if"].startswith("always() && ")
            assert step["if"] == save["if"]
        if round_ > 1:
            assert save["if"].endswith(f"steps.history-merge-{round_ - 1}.outputs.again == 'true'")
    assert all(s["if"].startswith("always() && ") for s in after if "history" in s["name"])


def test_the_tests_never_run_on_the_gates_own_python() -> None:
    for step in SCRIPTS[1:]:
        run = step["run"]
        if "--python=" in run:
            assert '"--python=$test_python"' in run
            assert (
                'test_python="${INPUT_PYTHON:-$(command -v python || command -v python3)}"' in run
            )
