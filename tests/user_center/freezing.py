"""Freezing real gunicorn workers (SIGSTOP, later SIGCONT), as a stalled server or a long GC pause would:
a frozen worker has accepted what it holds and answers nothing until it is thawed."""
import os
import signal
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import WebService


def gunicorn_workers(service: WebService) -> list[int]:
    """The pids of a gunicorn server's worker processes (its master's children)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(after_name[1]) == service.popen.pid:
            children.append(int(stat.parent.name))
    return children


def worker_serving(service: WebService, client_port: int) -> int:
    """The worker holding the server side of the connection from 127.0.0.1:``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (service.port, client_port):
            inode = fields[9]
    assert inode is not None, f"no connection from port {client_port} to {service.port}"
    for pid in gunicorn_workers(service):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker of {service.name} holds the connection from port {client_port}")


@contextmanager
def frozen(pids: list[int]):
    """SIGSTOP the processes for the block, SIGCONT them afterwards (whatever happens inside)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
