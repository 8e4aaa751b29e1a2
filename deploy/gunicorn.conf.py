"""gunicorn settings shared by every service of the local stack and the containers."""
import multiprocessing
import os

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
