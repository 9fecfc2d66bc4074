"""A real PostgreSQL server for the tests: initdb and pg_ctl on a temporary directory, reached
through a Unix socket only, with trust authentication, stopped at the end. As root (CI), the
server runs as the `postgres` user, as PostgreSQL insists."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "tg"
MISSING = "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql"


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl: on PATH, else Debian's newest."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _as_server(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextmanager
def server() -> Iterator[str]:
    """A running server; yields the URL of its `postgres` database (user `tg`)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(MISSING)
    root = Path(tempfile.mkdtemp(prefix="tg-pg-"))
    root.chmod(0o755)
    data, socket = root / "data", root / "socket"
    socket.mkdir()
    socket.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(socket, "postgres")
    try:
        subprocess.run(
            _as_server(
                [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                 "--no-sync", "-E", "UTF8"]
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-k {socket} -c listen_addresses='' -c fsync=off -c max_connections=60"
        subprocess.run(
            _as_server(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                 str(root / "log"), "start"]
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        yield f"postgresql://{USER}@/postgres?host={socket}"
    finally:
        subprocess.run(
            _as_server([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.replace("/postgres?", f"/{name}?", 1)
