"""The load generator: wrk (C, epoll) driven by a Lua script, so that the client takes little of the
CPU the server under test needs. Loopback only, bounded duration."""
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

LIBRARY = Path(__file__).with_name("paced.lua")  # what the benches' wrk scripts share (dofile)
INSTALL_HINT = ("wrk is needed: `apt-get install wrk` (Debian/Ubuntu), `brew install wrk` (macOS), "
                "or build it from https://github.com/wg/wrk")


def ensure_wrk() -> str:
    """The path of ``wrk``; installs the Debian package when missing and running as root, else exits with how."""
    path = shutil.which("wrk")
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        path = shutil.which("wrk")
    if path is None:
        raise SystemExit(INSTALL_HINT)
    return path


def run(url: str, token: str, script: Path, seconds: float, connections: int, threads: int = 1,
        carried: int = 1, **script_env) -> dict:
    """Run wrk against ``url`` with ``script``; ``script_env`` is passed as ``BENCH_<NAME>`` variables.

    Answers ``{requests, failed, statuses, requests_per_s, postings_per_s, p50_ms, p99_ms, max_ms}``;
    a request carries ``carried`` postings, counted when answered 200 or 201.
    """
    assert urlparse(url).hostname in ("127.0.0.1", "localhost"), "the load generator targets loopback only"
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_THREADS": str(threads), "BENCH_LIB": str(LIBRARY),
           **{f"BENCH_{name.upper()}": str(value) for name, value in script_env.items()}}
    duration = max(1, round(seconds))
    completed = subprocess.run([ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                                "--timeout", "30s", "-s", str(script), url],
                               env=env, capture_output=True, text=True, timeout=duration + 60, check=True)
    line = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(line[len("BENCH "):])
    statuses = {int(status): count for status, count in figures["statuses"].items()}
    answered = statuses.get(200, 0) + statuses.get(201, 0)
    elapsed = figures["duration_s"]
    return {"requests": figures["requests"], "failed": figures["requests"] - answered + figures["socket_errors"],
            "statuses": statuses, "requests_per_s": round(figures["requests"] / elapsed, 1),
            "postings_per_s": round(answered * carried / elapsed, 1), "p50_ms": figures["p50_ms"],
            "p99_ms": figures["p99_ms"], "max_ms": figures["max_ms"]}


def each_line_once(path: str, content_type: str) -> str:
    """A wrk script that POSTs each line of BENCH_FILE (a body) to ``path`` once, spread over the threads;
    bench/paced.lua counts the statuses and prints the figures. A thread whose share is sent repeats its
    first line until it stops (a duplicate, answered as such)."""
    return """
dofile(os.getenv("BENCH_LIB"))
local lines = {}
for line in io.lines(os.getenv("BENCH_FILE")) do lines[#lines + 1] = line end
local threads = tonumber(os.getenv("BENCH_THREADS"))
local headers = {["Content-Type"] = "%s"}
local sent, answered, quota = 0, 0, 0
function init(args)
    quota = math.floor((#lines - id - 1) / threads) + 1
end
function request()
    local index = id + 1 + sent * threads
    sent = sent + 1
    if index > #lines then index = id + 1 end
    return wrk.format("POST", "%s", headers, lines[index])
end
local count_status = response
function response(status, response_headers, body)
    count_status(status, response_headers, body)
    answered = answered + 1
    if answered >= quota then wrk.thread:stop() end
end
""" % (content_type, path)
