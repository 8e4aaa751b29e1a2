"""Real service processes for integration and end-to-end tests: gunicorn apps and worker loops."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def module_env(env: dict) -> dict:
    """This process's environment with ``env`` on top and PYTHONPATH set to the repository and its services."""
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}", **env}


def run_module(module: str, *args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m <module> <args>`` from the repository root to completion, capturing its text output."""
    return subprocess.run([sys.executable, "-m", module, *args], env=module_env(env), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


class Process:
    """One child process with its output in a log file; killed at teardown."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = module_env(env)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      cwd=ROOT, start_new_session=True)
        log.close()
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the whole process group (gunicorn master and its workers)."""
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(5)

    def kill(self) -> None:
        """SIGKILL the process group, as a crash would, and reap it."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class WebService(Process):
    """A service's WSGI app under gunicorn on a free port."""

    def __init__(self, package: str, env: dict, log_dir: Path, workers: int = 2, port: int | None = None,
                 options: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
                "--graceful-timeout", "5", "--log-level", "warning", *options, f"{package}.wsgi:app"]
        super().__init__(f"{package}-{self.port}", argv, env, log_dir)

    def start(self, timeout: float = 30) -> "WebService":
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout}s:\n{self.log_tail()}")


class Worker(Process):
    """A worker loop started as ``python -m <module>``."""

    def __init__(self, module: str, env: dict, log_dir: Path, name: str | None = None):
        super().__init__(name or module.rsplit(".", 1)[-1], [sys.executable, "-m", module], env, log_dir)


class RedisServer(Process):
    """A private, real redis-server on a free port, so a test can stop and restart it at will."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        super().__init__(f"redis-{self.port}", argv, {}, log_dir)

    def start(self, timeout: float = 10) -> "RedisServer":
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on {self.port}:\n{self.log_tail()}")
