"""gunicorn settings shared by every service of the local stack and the containers."""
import multiprocessing
import os
import shutil
import tempfile

workers = int(os.environ.get("WEB_CONCURRENCY", min(4, 2 * multiprocessing.cpu_count())))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
max_requests = 100_000
max_requests_jitter = 10_000


# The Prometheus multiprocess directory this server made for itself (removed on exit).
_own_metrics_dir = []


def on_starting(server):
    """Give this server's workers one fresh Prometheus multiprocess directory (unless one is set)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _own_metrics_dir.append(path)


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the merged metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the multiprocess directory this server made."""
    for path in _own_metrics_dir:
        shutil.rmtree(path, ignore_errors=True)
