"""action/history_cache.sh, the action's numbered history entries, run as the action runs it
(bash, the gate from the action's source): the keys it numbers, and what each merge decides.
The whole flow runs under act in tests/e2e (three workflow runs at once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import history_entry as entry

from test_gate.publish import history as store
from test_gate.read.history_runs import run_keys

SCRIPT = Path(__file__).resolve().parents[2] / "action" / "history_cache.sh"


def _run(tmp_path: Path, mode: str, **env: str) -> tuple[dict[str, str], str]:
    output = tmp_path / "github-output"
    output.write_text("")
    done = subprocess.run(
        ["bash", str(SCRIPT), mode],
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pairs = [line.split("=", 1) for line in output.read_text().splitlines()]
    return dict(pairs), done.stdout


@pytest.mark.parametrize(
    ("matched", "first"),
    [
        ("tg-main-s7", "tg-main-s8"),  # this branch's entry: the number after it
        ("tg-main-s0009", "tg-main-s10"),
        ("tg-base-s3", "tg-main-s1"),  # the base branch's: this branch begins at 1
        ("tg-main-123-1", "tg-main-s1"),  # an entry of the keys before they were numbered
        ("tg-main-s7x", "tg-main-s1"),
        ("", "tg-main-s1"),  # nothing restored
    ],
)
def test_the_keys_follow_the_entry_restored(tmp_path: Path, matched: str, first: str) -> None:
    outputs, _ = _run(tmp_path, "keys", MATCHED=matched, PREFIX="tg-main")
    number = int(first.rsplit("-s", 1)[1])
    assert outputs == {f"key-{r}": f"tg-main-s{number + r - 1}" for r in (1, 2, 3)}


def _merge(tmp_path: Path, history: Path) -> tuple[str, str]:
    outputs, said = _run(
        tmp_path,
        "merge",
        HISTORY=str(history),
        KEY="tg-main-s2",
        KEEP_RUNS="200",
        GATE_PYTHON=sys.executable,
        GATE_LIB=str(tmp_path),
    )
    return outputs["again"], said


def test_each_merge_decides_whether_this_run_is_kept(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    ours = tmp_path / "history.db.ours"
    mine = tmp_path / "mine.db"
    store.record_run(mine, entry(n=1), 200)
    store.record_run(mine, entry(n=2), 200)

    # the entry read back holds this run: done, and the copy set aside goes
    history.write_bytes(mine.read_bytes())
    ours.write_bytes(mine.read_bytes())
    again, said = _merge(tmp_path, history)
    assert again == "false" and "holds this run" in said and not ours.exists()

    # another run took the number: its history takes this run's, to be saved as the next
    other = tmp_path / "other.db"
    store.record_run(other, entry(n=1), 200)
    store.record_run(other, entry("main", n=3), 200)
    history.write_bytes(other.read_bytes())
    ours.write_bytes(mine.read_bytes())
    again, said = _merge(tmp_path, history)
    assert again == "true" and "another run saved the history entry tg-main-s2 first" in said
    assert len(run_keys(history)) == 3

    # nothing under the key: this run's history is saved again
    history.unlink()
    ours.write_bytes(mine.read_bytes())
    again, said = _merge(tmp_path, history)
    assert again == "true" and "was not found" in said
    assert history.read_bytes() == mine.read_bytes() and not ours.exists()

    # an entry that is not a history: replaced by this run's, the reason in one line
    history.write_text("not a database")
    ours.write_bytes(mine.read_bytes())
    again, said = _merge(tmp_path, history)
    assert again == "true" and "is not usable (test-gate: error: " in said
    assert len(said.splitlines()) == 1 and history.read_bytes() == mine.read_bytes()

    # this run recorded nothing: nothing to keep
    history.unlink()
    assert _merge(tmp_path, history)[0] == "false" and not history.exists()


def test_set_aside_moves_this_runs_history(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    history.write_text("mine")
    (tmp_path / "history.db.ours").write_text("stale")
    _run(tmp_path, "set-aside", HISTORY=str(history))
    assert not history.exists() and (tmp_path / "history.db.ours").read_text() == "mine"
