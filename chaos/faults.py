"""The faults a campaign injects while the traffic runs, each fired when the traffic reaches a given
share of its operations, and counted.

- the bank misbehaves (sandbox knobs): duplicated, dropped and reordered notifications;
- crashes: SIGKILL of the GatewayNotifyConsumer and of the outbox relay, restarted at once;
- RabbitMQ stopped and started (``rabbitmqctl stop_app`` / ``start_app`` on the campaign's private node);
- PostgreSQL: every connection to the run's databases terminated (``pg_terminate_backend``);
- the private Redis stopped while Huifu callbacks flow, started again, and the cache rebuilt;
- the ledger down: its gunicorn stopped, nothing listening on its port (connections refused) while
  recharges and withdraws flow, started again on the same port after ``ledger_down_seconds``;
- one ledger worker frozen: SIGSTOP of the gunicorn worker (not the master) holding the most of
  user-center's connections, for longer than user-center's SERVICE_TIMEOUT_SECONDS while withdraws
  are placed, then SIGCONT: the holds it was given land after user-center gave up on them.
"""
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import psycopg
import requests

from tests.support.infra import SERVICES

from chaos import proc
from chaos.environment import Environment
from chaos.options import Options
from chaos.workload import RECHARGE_POSTS, WITHDRAW_POSTS

LEDGER = "beanpay_ledger"

log = logging.getLogger("chaos.faults")


@dataclass
class Event:
    """One injected fault: what, when (seconds into the traffic, share of it done) and its details."""

    kind: str
    at: float
    progress: float
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)


def spread(count: int, start: float, end: float) -> list[float]:
    """``count`` points evenly spaced over [start, end] (the middle when there is one)."""
    if count <= 0:
        return []
    if count == 1:
        return [(start + end) / 2]
    return [start + (end - start) * index / (count - 1) for index in range(count)]


class FaultInjector:
    """Fires the planned faults from its own thread as the traffic's progress reaches them."""

    def __init__(self, env: Environment, options: Options, traffic):
        self.env = env
        self.options = options
        self.traffic = traffic
        self.progress = traffic.progress
        self.events: list[Event] = []
        self.errors: list[str] = []
        self.started = time.monotonic()
        self.finished = threading.Event()
        self.lock = threading.Lock()
        # the reorder windows follow each other in one thread, and so do the ledger's faults (a
        # worker is never frozen while the ledger is down); every other fault has its own
        windows, ledger, *others = self._plan()
        self.threads = [threading.Thread(target=self._fire, args=(steps,), daemon=True) for steps in (windows, ledger)]
        self.threads += [threading.Thread(target=self._fire, args=([step],), daemon=True) for step in others]

    def _plan(self) -> list:
        """``[reorder windows, ledger faults, fault, fault, ...]``; each step is ``(share of the traffic,
        action, argument)``.

        The ledger's outage comes early: withdraws wait for the ledger meanwhile, so the traffic
        cannot end before it does. The freeze blocks nothing but the calls on the frozen worker's
        connections, so it comes when enough traffic is left to go on during it.
        """
        o = self.options
        windows = [(0.08, self.set_reorder, "shuffle"), (0.3, self.set_reorder, "none"),
                   (0.62, self.set_reorder, "shuffle"), (0.78, self.set_reorder, "none")]
        ledger = [(at, self.stop_ledger, None) for at in spread(o.ledger_outages, 0.3, 0.4)]
        ledger += [(at, self.freeze_ledger_worker, None) for at in spread(o.ledger_freezes, 0.5, 0.6)]
        steps = [(at, self.kill_worker, "gateway_notify") for at in spread(o.consumer_kills, 0.12, 0.72)]
        steps += [(at, self.kill_worker, "outbox_relay") for at in spread(o.relay_kills, 0.17, 0.77)]
        steps += [(at, self.restart_rabbitmq, None) for at in spread(o.rabbitmq_restarts, 0.45, 0.6)]
        steps += [(at, self.terminate_postgres, None) for at in spread(o.pg_terminations, 0.8, 0.9)]
        steps += [(at, self.stop_redis, None) for at in spread(o.redis_stops, 0.25, 0.35)]
        return [windows, ledger, *steps]

    # -- driving ---------------------------------------------------------------------------
    def arm_bank(self) -> None:
        """Set the sandbox's standing fault knobs: some notifications duplicated, some first attempts dropped."""
        self.set_faults(duplicates=1, duplicateProbability=self.options.duplicate_rate,
                        dropFirst=1, dropProbability=self.options.drop_rate,
                        reorderBatch=6, reorderHoldSeconds=0.3)

    def start(self) -> None:
        """Fire the plan in the background as the traffic progresses."""
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """Fire whatever the plan has left (the traffic ended), wait for it, and calm the bank down."""
        self.finished.set()
        for thread in self.threads:
            thread.join(180 + self.options.ledger_down_seconds * self.options.ledger_outages)
        self.set_faults(reorder="none")

    def _fire(self, steps: list) -> None:
        for at, action, argument in steps:
            while self.progress() < at and not self.finished.is_set():
                time.sleep(0.02)
            try:
                action(argument) if argument is not None else action()
            except Exception as exc:  # a fault that could not be injected is a campaign failure
                log.exception("fault %s failed", action.__name__)
                self.errors.append(f"{action.__name__}({argument or ''}): {exc.__class__.__name__}: {exc}")

    def _record(self, kind: str, began: float, progress: float, **detail) -> None:
        event = Event(kind, round(began - self.started, 2), round(progress, 3), round(time.monotonic() - began, 2),
                      detail)
        with self.lock:
            self.events.append(event)
        log.warning("fault injected: %s at %.1fs (%.0f%% of the traffic) %s", kind, event.at,
                    event.progress * 100, detail)

    def counts(self) -> dict:
        counted: dict = {}
        for event in self.events:
            counted[event.kind] = counted.get(event.kind, 0) + 1
        return counted

    # -- the faults ------------------------------------------------------------------------
    def set_faults(self, **knobs) -> None:
        """Change the sandbox's fault knobs (retried while its database is briefly away)."""
        for attempt in range(50):
            try:
                answer = requests.post(f"{self.env.stack.url('bank_sandbox')}/sandbox/faults", json=knobs,
                                       timeout=10, headers={"Authorization": f"Bearer {self.env.infra.internal_token}"})
                if answer.status_code == 200:
                    return
                if answer.status_code < 500:
                    raise RuntimeError(f"sandbox refused fault knobs {knobs}: {answer.status_code} {answer.text[:200]}")
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"sandbox did not take fault knobs {knobs}")

    def set_reorder(self, mode: str) -> None:
        began, progress = time.monotonic(), self.progress()
        self.set_faults(reorder=mode)
        self._record("reorder_window_" + ("opened" if mode != "none" else "closed"), began, progress, mode=mode)

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker (a crash, mid-message) and start a new one."""
        began, progress = time.monotonic(), self.progress()
        worker = self.env.stack.workers[name]
        pid = worker.popen.pid
        worker.kill()
        time.sleep(0.3)
        self.env.stack.start_worker(name)
        self._record(f"sigkill_{name}", began, progress, pid=pid)

    def restart_rabbitmq(self) -> None:
        """Stop the private broker's application, keep it down a moment, start it and wait until it serves."""
        began, progress = time.monotonic(), self.progress()
        broker = self.env.rabbitmq
        broker.ctl("stop_app")
        time.sleep(self.options.rabbitmq_down_seconds)
        broker.ctl("start_app")
        broker.ctl("await_startup")
        self._record("rabbitmq_restart", began, progress, node=broker.node, port=broker.port)

    def terminate_postgres(self) -> None:
        """Terminate every connection to this run's databases (and only those)."""
        began, progress = time.monotonic(), self.progress()
        names = [self.env.infra.database_url(service).rsplit("/", 1)[1] for service in SERVICES]
        with psycopg.connect(f"{self.env.infra.pg_server_url}/postgres", autocommit=True) as conn:
            terminated = conn.execute(
                "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity"
                " where datname = any(%s) and pid <> pg_backend_pid()", (names,)).fetchone()[0]
        self._record("postgres_connections_terminated", began, progress, connections=terminated)

    def stop_redis(self) -> None:
        """Stop the private Redis while Huifu callbacks flow; start it again; rebuild the cache.

        A Huifu customer is let in as Redis goes down, and Redis stays down (at least
        ``redis_down_seconds``, at most a minute) until a registration and a recharge have been
        stored without it.
        """
        began, progress = time.monotonic(), self.progress()
        before = self._huifu_rows()
        self.env.redis.stop()
        newcomer = self.traffic.release_customer()
        during = before
        while time.monotonic() - began < 60:
            time.sleep(0.2)
            during = self._huifu_rows()
            enough = (during[0] > before[0] or not newcomer) and during[1] > before[1]
            if enough and time.monotonic() - began >= self.options.redis_down_seconds:
                break
        self.env.redis.start()
        rebuilt = self.env.run_command("bank_callback", "cache", "rebuild")
        if rebuilt.returncode != 0:
            raise RuntimeError(f"cache rebuild exited {rebuilt.returncode}: {rebuilt.stderr[-500:]}")
        self._record("redis_stop", began, progress, customers_stored_while_down=during[0] - before[0],
                     netsaves_stored_while_down=during[1] - before[1], cache_rebuilt=True)

    def _traffic_counts(self) -> dict:
        counts = self.traffic.journal.counts
        return {name: counts.get(name, 0) for name in (RECHARGE_POSTS, WITHDRAW_POSTS, "api_retries")}

    def _during(self, before: dict) -> dict:
        """What the traffic sent since ``before`` (see :meth:`_traffic_counts`)."""
        after = self._traffic_counts()
        return {"recharges_requested_during": after[RECHARGE_POSTS] - before[RECHARGE_POSTS],
                "withdraws_requested_during": after[WITHDRAW_POSTS] - before[WITHDRAW_POSTS],
                "client_retries_during": after["api_retries"] - before["api_retries"]}

    def stop_ledger(self) -> None:
        """Stop the ledger's gunicorn; keep its port refusing connections for ``ledger_down_seconds``
        while the traffic goes on; start it again on the same port.

        A socket bound to the port without listening keeps it ours meanwhile (no outgoing connection
        can take it as its local port) while every connection to it is refused; gunicorn binds next
        to it (both use SO_REUSEADDR), and it is closed once the ledger answers again. The port is
        probed every half second: each probe must be refused.
        """
        began, progress = time.monotonic(), self.progress()
        ledger = self.env.stack.web[LEDGER]
        before = self._traffic_counts()
        ledger.stop()
        stopped = time.monotonic()
        placeholder = _bound_not_listening(ledger.port)
        refused = accepted = 0
        try:
            while time.monotonic() - stopped < self.options.ledger_down_seconds:
                try:
                    socket.create_connection(("127.0.0.1", ledger.port), timeout=1).close()
                    accepted += 1
                except ConnectionRefusedError:
                    refused += 1
                time.sleep(0.5)
            down = time.monotonic() - stopped
            during = self._during(before)
            ledger.start()
        finally:
            if placeholder is not None:
                placeholder.close()
        if accepted:
            raise RuntimeError(f"something accepted {accepted} connections on the ledger's port during its outage")
        self._record("ledger_outage", began, progress, port=ledger.port, down_seconds=round(down, 1),
                     refused_probes=refused, **during)

    def freeze_ledger_worker(self) -> None:
        """SIGSTOP the ledger worker holding the most of user-center's connections for ``freeze_seconds``
        (past user-center's SERVICE_TIMEOUT_SECONDS) while withdraws are placed, then SIGCONT it.

        user-center's web processes call the ledger for the withdraw holds, over keep-alive
        connections; the deployed ledger gives each worker its own listening socket (SO_REUSEPORT), so
        the frozen one still receives its share of new connections. A hold sent to it times out in
        user-center and lands when the worker runs again. Reported: the worker and its master, the
        client connections it held when stopped (and how many were user-center's), and the
        connections their callers closed while it was stopped (CLOSE_WAIT: the caller timed out).
        """
        began, progress = time.monotonic(), self.progress()
        ledger = self.env.stack.web[LEDGER]
        pid, held, from_user_center = self._worker_serving_user_center(ledger.popen.pid, ledger.port)
        before = self._traffic_counts()
        os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            time.sleep(self.options.freeze_seconds)
            # its own and those queued on its listening socket (the running worker accepts at once)
            at_the_end = proc.held_connections(pid, ledger.port) + proc.unaccepted_connections(ledger.port)
        finally:
            os.kill(pid, signal.SIGCONT)
        frozen = time.monotonic() - stopped
        during = self._during(before)
        abandoned = sum(1 for connection in at_the_end if connection.state == proc.CLOSE_WAIT)
        time.sleep(1.0)
        if pid not in proc.children(ledger.popen.pid):
            raise RuntimeError(f"ledger worker {pid} did not survive its freeze")
        self._record("ledger_worker_frozen", began, progress, pid=pid, master_pid=ledger.popen.pid,
                     frozen_seconds=round(frozen, 1), service_timeout=self.options.service_timeout,
                     connections_held=len(held), connections_from_user_center=from_user_center,
                     connections_abandoned_by_callers=abandoned, **during)

    def _worker_serving_user_center(self, master: int, port: int, wait: float = 30.0) -> tuple[int, list, int]:
        """``(pid, connections, user-center's among them)`` of the ledger worker holding the most
        connections of user-center's web processes, once one holds any."""
        web = self.env.stack.web["user_center"].popen.pid
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            user_center = proc.caller_ports([web, *proc.children(web)], port)
            held = {pid: proc.held_connections(pid, port) for pid in proc.children(master)}
            theirs = {pid: sum(1 for c in connections if c.remote_port in user_center)
                      for pid, connections in held.items()}
            if any(theirs.values()):
                pid = max(theirs, key=theirs.get)
                return pid, held[pid], theirs[pid]
            time.sleep(0.05)
        raise RuntimeError(f"no ledger worker held a connection of user-center within {wait:.0f}s")

    def _huifu_rows(self) -> tuple[int, int]:
        with psycopg.connect(self.env.infra.database_url("bank_callback")) as conn:
            customers = conn.execute("select count(*) from bank_customers").fetchone()[0]
            netsaves = conn.execute("select count(*) from bank_netsave").fetchone()[0]
        return customers, netsaves


def _bound_not_listening(port: int) -> socket.socket | None:
    """A socket bound to 127.0.0.1:``port`` that never listens (connections to the port are refused),
    or None when the port could not be had (the probes then tell whether it still refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        log.warning("could not hold the ledger's port %s during its outage", port)
        sock.close()
        return None
    return sock

