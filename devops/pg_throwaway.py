"""Run a command with PostgreSQL at TEST_POSTGRES_URL: the server that answers there, or else a throw-away
cluster (initdb into a temporary folder from the installed server, as pytest-postgresql does), stopped and
removed when the command ends. `make test` runs pytest through it.

    python -m devops.pg_throwaway -- pytest ...
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def answers(url: str) -> bool:
    """Whether a PostgreSQL server accepts `url`."""
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def server_bindir() -> Path:
    """The bin folder of the newest installed server (Debian: /usr/lib/postgresql/<version>/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found is None:
        raise SystemExit("no PostgreSQL server installed (Debian: apt-get install postgresql)")
    return Path(found).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse root: run them as `postgres` when this is root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _run(argv: list[str]) -> None:
    """Run a server tool (as `postgres` when root); fail on a non-zero exit."""
    subprocess.run(as_server_user(argv), check=True, stdout=subprocess.DEVNULL, timeout=120)


@contextlib.contextmanager
def throwaway_cluster(database: str = "test") -> Iterator[str]:
    """A fresh cluster on a free 127.0.0.1 port (user postgres, trust); its URL. Removed afterwards."""
    bindir = server_bindir()
    folder = Path(tempfile.mkdtemp(prefix="vsr-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, port = folder / "data", free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8"])  # fmt: skip
        # fsync off: a throw-away cluster of a test run; its socket in its folder, not /var/run/postgresql.
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
        _run([*pg_ctl, "-l", str(folder / "log"), "-o", f"{options} -c fsync=off", "-w", "start"])
        try:
            admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
            print(f"PostgreSQL: throw-away cluster on 127.0.0.1:{port} ({folder})", file=sys.stderr)
            yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
        finally:
            subprocess.run(as_server_user([*pg_ctl, "-m", "fast", "-w", "stop"]), check=False, timeout=120,
                           stdout=subprocess.DEVNULL)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Run argv (after --) with TEST_POSTGRES_URL answering; its exit code."""
    command = argv[1:] if argv[:1] == ["--"] else argv
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL)
    if answers(url):
        return subprocess.run(command, check=False).returncode
    print(f"PostgreSQL: nothing answers at {url}; starting a throw-away cluster", file=sys.stderr)
    with throwaway_cluster(url.rsplit("/", 1)[-1] or "test") as fresh:
        return subprocess.run(command, env={**os.environ, "TEST_POSTGRES_URL": fresh}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
