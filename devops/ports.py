"""Who holds a TCP port: LISTEN sockets from /proc/net/tcp{,6}, their inodes, the processes owning them.

`make up` asks before it starts anything, so a stale stack still holding the ports is named and refused
instead of being talked to (issue 20, orphans). Linux only; processes of other users show as unknown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TCP_LISTEN = "0A"  # socket state in /proc/net/tcp (include/net/tcp_states.h)


@dataclass(frozen=True)
class Holder:
    """A process listening on a port; pid None when it cannot be seen (another user's process)."""

    port: int
    pid: int | None
    command: str

    def describe(self, role: str = "") -> str:
        """One line naming the port, its role in the stack and the process."""
        what = f"port {self.port}" + (f" ({role})" if role else "")
        if self.pid is None:
            return f"{what} is held by a process this user cannot see"
        return f"{what} is held by pid {self.pid}: {self.command}"


def listening_inodes(ports: Iterable[int], proc: Path = PROC) -> dict[int, int]:
    """Socket inode → port for every LISTEN socket on one of `ports` (any address, IPv4 and IPv6)."""
    wanted = set(ports)
    found: dict[int, int] = {}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                port = int(fields[1].rsplit(":", 1)[1], 16)
                if fields[3] == TCP_LISTEN and port in wanted:
                    found[int(fields[9])] = port
    return found


def socket_owners(inodes: Iterable[int], proc: Path = PROC) -> dict[int, int]:
    """Socket inode → pid of a process holding it, for the inodes this user can see."""
    links = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        # Processes exit and fds close while we look; other users' fds are unreadable.
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    inode = links.get(os.readlink(fd))
                    if inode is not None:
                        owners.setdefault(inode, int(entry.name))
    return owners


def command_line(pid: int, proc: Path = PROC) -> str:
    """The process's command line, space-separated ('?' once it is gone)."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or "?"


def holders(ports: Iterable[int], proc: Path = PROC) -> list[Holder]:
    """Who listens on each of `ports` that is held, sorted by port."""
    inodes = listening_inodes(ports, proc)
    if not inodes:
        return []
    owners = socket_owners(inodes, proc)
    found: dict[int, Holder] = {}
    for inode, port in inodes.items():
        pid = owners.get(inode)
        if port not in found or found[port].pid is None:
            found[port] = Holder(port, pid, command_line(pid, proc) if pid is not None else "")
    return [found[port] for port in sorted(found)]


def held_ports_report(roles: Mapping[int, str], proc: Path = PROC) -> str:
    """Empty when every port in `roles` (port → what the stack runs there) is free, else one line each."""
    return "\n".join(holder.describe(roles[holder.port]) for holder in holders(roles, proc))
