"""pytest-test-gate as a wheel made from its source tree, with no build: what pip installs."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from pytest_test_gate.protocol import __version__

from test_gate.run import plugin_wheel
from test_gate.run.plugins import SOURCE_TREE


def test_the_wheel_holds_the_package_its_metadata_and_a_true_record(tmp_path: Path) -> None:
    wheel = plugin_wheel.build(SOURCE_TREE, tmp_path)
    assert wheel is not None and wheel.name == f"pytest_test_gate-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"pytest_test_gate-{__version__}.dist-info"
        assert {"pytest_test_gate/plugin.py", "pytest_test_gate/py.typed"} <= names
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        metadata = archive.read(f"{info}/METADATA").decode()
        assert f"Version: {__version__}" in metadata and "Requires-Dist: pytest>=7" in metadata
        assert (
            "[pytest11]\ntest_gate = pytest_test_gate.plugin"
            in archive.read(f"{info}/entry_points.txt").decode()
        )
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if name.endswith("RECORD"):
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert (digest, int(size)) == ("sha256=" + expected.decode(), len(data)), name


def test_a_tree_laid_out_otherwise_is_left_to_pip(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert plugin_wheel.build(tmp_path, tmp_path) is None
    assert plugin_wheel.build(tmp_path / "missing", tmp_path) is None
