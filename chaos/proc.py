"""What Linux's /proc says about running servers: a gunicorn master's worker processes, the client
connections each worker holds on the server's port (keep-alive connections included), and which
process holds the other end of each.

The ledger freeze uses it to stop the worker that really holds user-center's connections, and to
see afterwards which connections the callers gave up on (a connection the client closed while the
worker was stopped waits in CLOSE_WAIT, accepted or still queued: the caller timed out).
"""
import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# TCP states as /proc/net/tcp writes them (include/net/tcp_states.h)
ESTABLISHED, CLOSE_WAIT, LISTEN = "01", "08", "0A"


@dataclass(frozen=True)
class Connection:
    """One TCP socket of this machine: its inode (0 once no process holds it), state and ports."""

    inode: int
    state: str
    local_port: int
    remote_port: int


def children(pid: int, proc: Path = PROC) -> list[int]:
    """The live processes whose parent is ``pid`` (a gunicorn master's workers), in pid order."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in {"Z", "X"}:
            found.append(int(entry.name))
    return sorted(found)


def socket_inodes(pids, proc: Path = PROC) -> set[int]:
    """The inodes of the sockets the processes ``pids`` have open."""
    inodes = set()
    for pid in pids:
        fd_dir = proc / str(pid) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # it exited meanwhile
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:["):-1]))
    return inodes


def tcp_connections(proc: Path = PROC) -> list[Connection]:
    """Every TCP socket of this network namespace, IPv4 and IPv6."""
    connections = []
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            connections.append(Connection(inode=int(fields[9]), state=fields[3],
                                          local_port=int(fields[1].rsplit(":", 1)[1], 16),
                                          remote_port=int(fields[2].rsplit(":", 1)[1], 16)))
    return connections


def held_connections(pid: int, port: int, proc: Path = PROC) -> list[Connection]:
    """The accepted client connections on local ``port`` that process ``pid`` holds."""
    mine = socket_inodes([pid], proc)
    return [c for c in tcp_connections(proc) if c.local_port == port and c.state != LISTEN and c.inode in mine]


def unaccepted_connections(port: int, proc: Path = PROC) -> list[Connection]:
    """Connections on local ``port`` the kernel completed that no process has accepted yet (they wait
    in a listening socket's queue: with SO_REUSEPORT each gunicorn worker has its own)."""
    return [c for c in tcp_connections(proc)
            if c.local_port == port and c.inode == 0 and c.state in {ESTABLISHED, CLOSE_WAIT}]


def caller_ports(pids, port: int, proc: Path = PROC) -> set[int]:
    """The local ports of the connections the processes ``pids`` hold to ``port`` (as its clients)."""
    theirs = socket_inodes(pids, proc)
    return {c.local_port for c in tcp_connections(proc) if c.remote_port == port and c.inode in theirs}
