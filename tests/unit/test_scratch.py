"""The scratch folder keeps only what was asked for."""

from __future__ import annotations

from pathlib import Path

from test_gate.run.scratch import clean_up


def test_only_what_is_kept_stays(tmp_path: Path) -> None:
    (tmp_path / "diagnosis").mkdir()
    (tmp_path / "diagnosis" / "probe-1.json").write_text("{}")
    (tmp_path / "record.jsonl").write_text("")
    (tmp_path / "result.json").write_text("{}")
    clean_up(tmp_path, keep={tmp_path / "result.json"})
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    clean_up(tmp_path, keep=set())
    assert not tmp_path.exists()
