"""Real service processes for integration and end-to-end tests: gunicorn apps and worker loops."""
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from tests.support.infra import reachable

ROOT = Path(__file__).resolve().parents[2]

log = logging.getLogger(__name__)


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

    def wait_until(self, ready, timeout: float, what: str) -> None:
        """Poll ``ready()`` until it is true; raise with the log's tail if the process exits first or
        ``timeout`` seconds pass (``what`` names what it failed to do)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not {what} within {timeout}s:\n{self.log_tail()}")

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
        self.wait_until(self.healthy, timeout, "answer /healthz")
        return self

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False


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
        self.wait_until(lambda: reachable("127.0.0.1", self.port), timeout, f"listen on {self.port}")
        return self


# Debian's /usr/sbin wrappers switch to the rabbitmq user, who could not use a private directory; the
# scripts they call run as anyone. Other installations put those scripts on PATH.
RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")


def _rabbitmq_script(name: str) -> str:
    if (RABBITMQ_SCRIPTS / name).exists():
        return str(RABBITMQ_SCRIPTS / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install rabbitmq-server)")
    return found


class RabbitMQServer(Process):
    """A private, real RabbitMQ node, so a test can stop and start its broker without touching the
    machine's: its own node name, AMQP and distribution ports (free ones), configuration, plugins
    (none), database, logs and Erlang cookie, all in one directory that :meth:`stop` removes (the
    log stays, in ``log_dir``). :meth:`ctl` runs ``rabbitmqctl`` against this node alone."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        self.dist_port = free_port()
        self.node = f"t_{uuid.uuid4().hex[:8]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}"
        self.home = log_dir / f"rabbitmq-{self.port}"
        env = {
            "HOME": str(self.home),  # the node and rabbitmqctl share the cookie written here
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.home / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.home / "log"),
            "RABBITMQ_LOGS": "-",  # to stdout, which is this process's log file
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        super().__init__(f"rabbitmq-{self.port}", [_rabbitmq_script("rabbitmq-server")], env, log_dir)

    def start(self, timeout: float = 90) -> "RabbitMQServer":
        """Start the node (the first start creates its files) and return once it serves AMQP."""
        if not self.home.exists():
            self.home.mkdir(parents=True)
            (self.home / "rabbitmq-env.conf").write_text("")
            (self.home / "enabled_plugins").write_text("[].\n")
            (self.home / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        super().start()
        self.wait_until(lambda: reachable("127.0.0.1", self.port), timeout, f"listen on {self.port} as {self.node}")
        self.ctl("await_startup", timeout=timeout)
        return self

    def ctl(self, *args: str, timeout: float = 120) -> str:
        """``rabbitmqctl -n <this node> <args>``; its output. Raises with rabbitmqctl's message on failure."""
        done = subprocess.run([_rabbitmq_script("rabbitmqctl"), "-n", self.node, "-q", *args], env=self.env,
                              cwd=self.home, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {self.node} {' '.join(args)} exited {done.returncode}:"
                               f" {(done.stderr or done.stdout).strip()[-500:]}")
        return done.stdout

    def stop(self, timeout: float = 30) -> None:
        """Stop the node (``rabbitmqctl stop``, then signals if it does not go) and remove its directory."""
        if self.alive():
            try:
                self.ctl("stop", timeout=timeout)
                self.popen.wait(timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                log.warning("RabbitMQ node %s did not stop cleanly (%s); signalling it", self.node, exc)
        super().stop(timeout=10)
        shutil.rmtree(self.home, ignore_errors=True)
