"""The dashboard, `test-gate history FILE --html DIR`: one page, no network, opened in headless
Chromium. It loads with nothing on its console, each lane's chart has a point per run, each
unstable test a heat strip with a cell per run, and a hostile test id, branch name or
quarantine reason stays text."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, write_tree
from summary_pages import check

HOSTILE = "<img src=x onerror=window.pwned=1>"
SUITE = {
    "tests/test_suite.py": f"""
        import os
        import pathlib
        import pytest

        def test_ok():
            pass

        def test_flaky():
            marker = pathlib.Path(os.environ["MARKS"]) / "flaky"
            if os.environ.get("FLAKY") and not marker.exists():
                marker.write_text("x")
                assert False, "fails the first attempt"

        @pytest.mark.parametrize("name", [{HOSTILE!r}])
        def test_breaks(name):
            assert not os.environ.get("BREAK"), name
    """,
}
CHECK = """
<pre id="test-gate-check" hidden></pre>
<script>
window.addEventListener("load", () => {
  const lanes = [...document.querySelectorAll("section.lane")].map(s => ({
    branch: s.dataset.branch,
    pass: s.querySelectorAll("circle.pass").length,
    flaky: s.querySelectorAll("circle.flaky").length,
    strips: [...s.querySelectorAll(".strip")].map(x => x.children.length),
  }));
  document.getElementById("test-gate-check").textContent = JSON.stringify({
    lanes, images: document.querySelectorAll("img").length, pwned: window.pwned === 1,
    scripts: document.querySelectorAll("script").length,
    quarantine: [...document.querySelectorAll("td")].some(td => td.textContent.includes("<b>")),
  });
});
</script>
"""


def test_the_dashboard_shows_every_run_and_keeps_names_as_text(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", SUITE)
    store = tmp_path / "history.db"
    branch = '"><script>window.pwned=1</script>'
    plan = [{}, {"FLAKY": "1"}, {"BREAK": "1"}, {"BREAK": "1"}, {}]
    for n, env in enumerate(plan):
        marks = tmp_path / f"marks{n}"
        marks.mkdir()
        done = cli(
            "run", str(root), "--seed", "1", "--diagnose=false", "--github=false",
            f"--history={store}", f"--branch={branch}",
            env={"MARKS": str(marks), **env},
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
    quarantine = tmp_path / "quarantine.toml"
    quarantine.write_text(
        '[[test]]\nid = "tests/test_suite.py::test_flaky"\nreason = "<b>races the clock</b>"\n'
        'owner = "@qa"\nexpires = "2020-01-01"\n'
    )
    out = tmp_path / "site"
    made = cli("history", str(store), "--html", str(out), f"--quarantine={quarantine}")
    assert made.returncode == 0, made.stderr
    assert "1 lane(s), 5 run(s)" in made.stdout
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing fetched
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    found = check(checked)
    assert found["console"] == []
    assert not found["pwned"] and found["images"] == 0 and found["scripts"] == 2
    (lane,) = found["lanes"]
    assert lane["branch"] == branch
    assert (lane["pass"], lane["flaky"]) == (5, 5)
    assert lane["strips"] and all(cells == 5 for cells in lane["strips"])
    assert found["quarantine"]  # the reason's markup is text
    assert "expired" in page


def test_a_run_writes_the_dashboard_after_it_is_recorded(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", {"tests/test_a.py": "def test_a():\n    pass\n"})
    site = tmp_path / "site"
    done = cli(
        "run", str(root), "--github=false", f"--history={tmp_path / 'h.db'}",
        f"--dashboard={site}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 lane(s), 1 run(s)" in done.stdout
    assert "<circle" in (site / "index.html").read_text()
    refused = cli("run", str(root), f"--dashboard={site}")
    assert refused.returncode == 2 and "--dashboard: needs --history FILE" in refused.stderr
