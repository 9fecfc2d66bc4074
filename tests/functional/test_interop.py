"""JUnit XML and CTRF out: written from the same result as the summary, every attempt kept,
what the gate found carried along; read back by a JUnit parser, and checked against the CTRF
schema and by the format's reference implementation."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO, REPORT_SUITE, GateRun, cli, real_report, run_gate, write_tree
from junitparser import JUnitXml

NPM = REPO / ".venv" / "npm"
CTRF_SCHEMA = NPM / "node_modules" / "ctrf" / "dist" / "ctrf-schema-0.0.json"
Project = Callable[[Mapping[str, str]], Path]
INSTALL = "npm install --prefix .venv/npm ctrf@0.3.0 (as .ci/run does)"

HOSTILE = "x\x1b[31m]]><b>&\u202e"
SUITE = {
    "tests/test_mix.py": f"""
import os
import pytest

ATTEMPTS = []

def test_ok():
    pass

def test_flaky():
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > 1, "fails the first time only"

def test_fails():
    assert 1 == 2, "two is not one"

@pytest.fixture
def broken_fixture():
    raise RuntimeError("no database")

def test_setup_error(broken_fixture):
    pass

@pytest.mark.skip(reason="needs a GPU")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug 4711")
def test_known():
    assert 0

@pytest.mark.parametrize("text", [{HOSTILE!r}])
def test_hostile(text):
    assert text == "", text
""",
    "tests/test_order.py": """
import os

def test_a_polluter():
    os.environ["MODE"] = "strict"

def test_b_victim():
    assert os.environ.get("MODE") != "strict", "mode leaked"
""",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[GateRun, Path, Path]:
    base = tmp_path_factory.mktemp("interop")
    root = write_tree(base / "project", SUITE)
    junit, ctrf = base / "out" / "junit.xml", base / "out" / "ctrf.json"
    run = run_gate(
        root,
        base / "out",
        "--seed",
        "1",
        "--bucket",
        "none",
        f"--junit-file={junit}",
        f"--ctrf-file={ctrf}",
        "--",
        "-p",
        "no:randomly",
    )
    assert run.code == 1, run.proc.stdout[-3000:]
    return run, junit, ctrf


def _case(suite: Any, name: str) -> Any:
    return next(c for c in suite if c.name.startswith(name))


def test_junit_is_read_by_a_junit_parser_with_every_attempt(
    outputs: tuple[GateRun, Path, Path],
) -> None:
    run, junit, _ = outputs
    xml = JUnitXml.fromfile(str(junit))
    (suite,) = list(xml)
    counts = run.counts
    assert suite.tests == counts["passed"] + counts["failed"] + counts["error"] + 2  # + skips
    assert suite.failures == counts["failed"] and suite.errors == counts["error"]
    assert suite.skipped == counts["skipped"] + counts["xfailed"]
    props = {p.name: p.value for p in suite.properties()}
    assert props["test-gate.seed"] == "1" and props["test-gate.verdict"] == "fail"
    assert props["test-gate.reproduce"] == run.result["reproduce"]
    # Surefire's elements: a failure with its reruns; a flaky pass with its failed attempt
    raw = ET.parse(junit).getroot()
    cases = {c.get("name"): c for c in raw.iter("testcase")}
    fails = cases["test_fails"]
    assert [e.tag for e in fails if e.tag != "properties"] == [
        "failure",
        "rerunFailure",
        "rerunFailure",
    ]
    assert fails.find("failure").get("message") == "AssertionError: two is not one"  # type: ignore[union-attr]
    flaky = cases["test_flaky"]
    assert [e.tag for e in flaky if e.tag != "properties"] == ["flakyFailure"]
    assert "fails the first time only" in flaky.find("flakyFailure/stackTrace").text  # type: ignore[union-attr,operator]
    assert next(e.tag for e in cases["test_setup_error"] if e.tag != "properties") == "error"
    skipped = cases["test_known"].find("skipped")
    assert skipped is not None and skipped.get("message") == "known bug 4711"
    assert skipped.get("type") == "pytest.xfail"
    # the diagnosis: the victim names its polluter and the command that shows it
    victim = {p.get("name"): p.get("value") for p in cases["test_b_victim"].iter("property")}
    assert victim["test-gate.polluters"] == "tests/test_order.py::test_a_polluter"
    assert victim["test-gate.what"].startswith("order-dependent")
    assert "test_a_polluter tests/test_order.py::test_b_victim" in victim["test-gate.reproduce"]
    # text from tests is inert: no control character, no markup of its own
    hostile = next(c for c in raw.iter("testcase") if c.get("name", "").startswith("test_hos"))
    text = junit.read_text()
    assert "\x1b" not in text and "\u202e" not in text
    message = hostile.find("failure").get("message")  # type: ignore[union-attr]
    assert "<U+001B>" in message and "]]><b>&" in message and "<U+202E>" in message


def test_ctrf_meets_the_schema_and_the_reference_validator(
    outputs: tuple[GateRun, Path, Path],
) -> None:
    run, _, ctrf = outputs
    if not CTRF_SCHEMA.is_file() or shutil.which("node") is None:
        pytest.fail(f"the CTRF schema is not installed: {INSTALL}, with node on PATH")
    document = json.loads(ctrf.read_text())
    jsonschema.validate(document, json.loads(CTRF_SCHEMA.read_text()))
    check = NPM / "check-ctrf.mjs"
    check.write_text(
        "import { validateStrict } from 'ctrf';\n"
        "import fs from 'fs';\n"
        "validateStrict(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));\n"
        "console.log('valid');\n"
    )
    done = subprocess.run(
        ["node", str(check), str(ctrf)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "valid", done.stderr[-2000:]
    results = document["results"]
    summary, tests = results["summary"], {t["name"]: t for t in results["tests"]}
    counts = run.counts
    assert summary["passed"] == counts["passed"] and summary["flaky"] == counts["flaky"]
    assert summary["failed"] == counts["failed"] + counts["error"]
    flaky = tests["tests/test_mix.py::test_flaky"]
    assert flaky["status"] == "passed" and flaky["flaky"] is True and flaky["retries"] == 1
    assert [a["status"] for a in flaky["retryAttempts"]] == ["failed"]
    fails = tests["tests/test_mix.py::test_fails"]
    assert fails["status"] == "failed" and fails["retries"] == 2 and fails["flaky"] is False
    assert tests["tests/test_mix.py::test_known"]["message"] == "known bug 4711"
    victim = tests["tests/test_order.py::test_b_victim"]["extra"]["testGate"]
    assert victim["diagnosis"]["culprits"] == ["tests/test_order.py::test_a_polluter"]
    assert results["extra"]["testGate"]["seed"] == 1
    assert results["extra"]["testGate"]["reproduce"] == run.result["reproduce"]


def test_both_files_are_written_by_gate_too(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(real_report(tmp_path / "p", REPORT_SUITE, "run-x").data))
    junit, ctrf = tmp_path / "j.xml", tmp_path / "c.json"
    proc = cli(
        "gate", str(report), "--github=false", f"--junit-file={junit}", f"--ctrf-file={ctrf}"
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(ctrf.read_text())
    assert JUnitXml.fromfile(str(junit)).tests == document["results"]["summary"]["tests"] == 6
