"""The one module that talks to GitHub Actions: what it writes, and that test text stays data."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_gate.publish import github
from test_gate.render.annotation import Annotation


def test_annotations_carry_only_the_properties_that_have_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.annotate(
        [
            Annotation(
                "error", "boom\nline 2 100%", title="Test failed: a::b,c", file="t.py", line=3
            ),
            Annotation("notice", "no file"),
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0] == "::error title=Test failed%3A a%3A%3Ab%2Cc,file=t.py,line=3::boom%0Aline 2 100%25"
    )
    assert out[1] == "::notice::no file"


def test_outputs_use_a_heredoc_that_a_value_cannot_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    github.set_outputs({"verdict": "fail", "evil": "x\nverdict=pass"})
    text = output.read_text()
    assert text.startswith("verdict<<ghadelimiter_")
    assert "\nverdict=pass\n" in text  # inside the heredoc of "evil", as data
    blocks = text.split("ghadelimiter_")
    assert len(blocks) == 5  # two outputs, each opened and closed by its own delimiter


def test_a_missing_output_file_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    with pytest.raises(github.GitHubError, match="GITHUB_OUTPUT is not set"):
        github.set_outputs({"verdict": "pass"})


def test_the_workspace_prefix_points_annotations_into_the_repository(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    env = {"GITHUB_WORKSPACE": str(tmp_path)}
    assert github.workspace_prefix(str(tmp_path / "app"), env) == "app/"
    assert github.workspace_prefix(str(tmp_path), env) == ""
    assert github.workspace_prefix("/elsewhere", env) == ""
    assert github.workspace_prefix(str(tmp_path / "app"), {}) == ""


def test_summary_size_counts_what_the_step_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary"
    summary.write_text("x" * 10)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    github.append_summary("ab")
    assert github.summary_size() == 12


def test_a_guarded_stream_passes_only_test_gates_own_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sys

    from workflow_commands import commands

    stream = github.InertStream(sys.stdout)
    stream.write("tests/test_x.py::test_a ")
    stream.write("::error::forged\n  ::warn")  # a line split across writes
    stream.write("ing::forged ##[error]x\n")
    stream.command("::notice::from test-gate")
    stream.write("::error::tail")
    stream.flush()
    out = capsys.readouterr().out
    assert commands(out) == [("notice", "::notice::from test-gate")]
    assert "forged" in out and "tail" in out
