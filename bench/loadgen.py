"""A small HTTP load generator: several processes, each on a keep-alive connection (reopened when
the server closes it), either as fast as possible or paced at a fixed rate. Loopback only."""
import http.client
import multiprocessing
import time
from typing import Callable
from urllib.parse import urlparse

# make_request(process_index, sequence) -> (path, JSON body bytes, postings the request carries)
RequestMaker = Callable[[int, int], tuple[str, bytes, int]]


class _Connection:
    def __init__(self, url: str, token: str):
        parsed = urlparse(url)
        assert parsed.hostname in ("127.0.0.1", "localhost"), "the load generator targets loopback only"
        self.host, self.port = parsed.hostname, parsed.port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = None

    def post(self, path: str, body: bytes) -> int:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn.request("POST", path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status


def _worker(url, token, make_request, index, seconds, rate, results):
    connection = _Connection(url, token)
    ok = failed = postings = 0
    latencies = []
    start = time.perf_counter()
    deadline = start + seconds
    sequence = 0
    while True:
        if rate:
            scheduled = start + sequence / rate  # latency counts from the scheduled time (no coordinated omission)
            if scheduled >= deadline:
                break
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        else:
            scheduled = time.perf_counter()
            if scheduled >= deadline:
                break
        path, body, carried = make_request(index, sequence)
        status = connection.post(path, body)
        latencies.append(time.perf_counter() - scheduled)
        if status in (200, 201):
            ok += 1
            postings += carried
        else:
            failed += 1
        sequence += 1
    results.put((ok, failed, postings, time.perf_counter() - start, latencies))


def run(url: str, token: str, make_request: RequestMaker, processes: int, seconds: float,
        rate: float = 0.0) -> dict:
    """Drive the load; answer ``{requests, failed, postings_per_s, requests_per_s, p50_ms, p99_ms}``."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    per_process_rate = rate / processes if rate else 0.0
    workers = [context.Process(target=_worker, args=(url, token, make_request, i, seconds, per_process_rate, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    collected = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    ok = sum(c[0] for c in collected)
    failed = sum(c[1] for c in collected)
    postings = sum(c[2] for c in collected)
    elapsed = max(c[3] for c in collected)
    latencies = sorted(latency for c in collected for latency in c[4])

    def percentile(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2) if latencies else None

    return {"requests": ok + failed, "failed": failed, "requests_per_s": round((ok + failed) / elapsed, 1),
            "postings_per_s": round(postings / elapsed, 1), "p50_ms": percentile(0.50), "p99_ms": percentile(0.99)}
