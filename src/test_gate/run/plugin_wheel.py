"""A wheel of pytest-test-gate made from its source tree, for pip to install without a build.

pytest-test-gate is pure Python, so a wheel is a zip of its package and a few metadata files.
pip would otherwise build one through an isolated hatchling environment, seconds of every job
of the action. The metadata comes from the tree's pyproject.toml; a tree laid out otherwise
returns None, and pip builds it as it would any project.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the 3.10 path
    import tomli as tomllib

_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def _digest(data: bytes) -> str:
    encoded = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + encoded.decode("ascii")


def _metadata(project: dict[str, Any], version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def _entry_points(project: dict[str, Any]) -> str:
    groups = project.get("entry-points", {})
    return "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items()) + "\n"
        for group, items in groups.items()
    )


def _layout(source: Path) -> tuple[dict[str, Any], str, list[Path]] | None:
    """The project table, the version and the package directories, when the tree is laid
    out as pytest-test-gate's is: else None."""
    try:
        data = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
        project = data["project"]
        hatch = data["tool"]["hatch"]
        version_file = source / hatch["version"]["path"]
        packages = [source / p for p in hatch["build"]["targets"]["wheel"]["packages"]]
        found = _VERSION.search(version_file.read_text(encoding="utf-8"))
    except (OSError, KeyError, TypeError, ValueError):
        return None
    if found is None or not all(p.is_dir() for p in packages) or not isinstance(project, dict):
        return None
    return project, found.group(1), packages


def build(source: Path, into: Path) -> Path | None:
    """Write the wheel into `into` and return its path, or None for a tree laid out otherwise."""
    layout = _layout(source)
    if layout is None:
        return None
    project, version, packages = layout
    name = re.sub(r"[-_.]+", "_", str(project["name"])).lower()
    dist_info = f"{name}-{version}.dist-info"
    files: list[tuple[str, bytes]] = []
    for package in packages:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append((path.relative_to(package.parent).as_posix(), path.read_bytes()))
    files += [
        (f"{dist_info}/METADATA", _metadata(project, version).encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: test-gate\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{dist_info}/entry_points.txt", _entry_points(project).encode()),
    ]
    record = "".join(f"{n},{_digest(d)},{len(d)}\n" for n, d in files) + f"{dist_info}/RECORD,,\n"
    wheel = into / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in [*files, (f"{dist_info}/RECORD", record.encode())]:
            archive.writestr(member, data)
    return wheel
