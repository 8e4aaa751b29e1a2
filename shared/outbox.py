"""A transactional outbox: messages written in the business transaction, published later.

A service that must announce a state change to RabbitMQ writes the message into an outbox table in
the SAME database transaction as the change (:func:`enqueue`). A relay (:class:`OutboxRelay`) claims
pending rows in one short statement (a session-level advisory lock per row, so several relays may run
and each row goes to one of them), publishes the batch with publisher confirms and ``mandatory`` while
no transaction is open and no row is locked, and then, in another short statement, marks a row sent
only once the broker has confirmed it AND routed it to a queue. A crash at any point leaves
unconfirmed rows pending, and a relay's claims end with its database connection, so another relay
publishes them again at once: every message is published at least once; consumers deduplicate by
``message_id``. A message the broker returns as unroutable (no queue bound for it) stays pending: it
is logged at ERROR, counted in its row, and retried with a growing delay (:mod:`shared.backoff`, so it
never holds the others back), after the relay has reconnected and declared its topology again. Sent
rows are kept for audit for ``retention_s`` and then pruned by the relays, a bounded batch at a time
(:meth:`OutboxRelay.prune`).

The table a service creates in a migration (name it as you like and pass it as ``table``) has exactly
the columns of :data:`COLUMNS` and the partial index :data:`PENDING_INDEX` on pending rows (so that
claiming stays cheap however many sent rows are kept); :func:`create_table_sql` writes the DDL, and
tests/shared/test_outbox.py checks every service database's outbox against it.
"""
import json
import logging
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Callable

import pika
import psycopg
from pika.adapters.select_connection import IOLoop, SelectConnection
from psycopg import sql
from psycopg.rows import dict_row

from shared.backoff import Backoff, backoff
from shared.messaging import connect

log = logging.getLogger(__name__)

# The outbox table, column by column, as every service's migration creates it (name: SQL definition).
COLUMNS = {
    "id": "bigserial primary key",
    "exchange": "text not null",
    "routing_key": "text not null",
    "message_id": "text not null unique",          # published as the AMQP message_id: consumers dedupe by it
    "content_type": "text not null default 'application/json'",
    "headers": "jsonb not null default '{}'",
    "body": "text not null",                       # the JSON exactly as published
    "created_at": "timestamptz not null default now()",
    "sent_at": "timestamptz",                      # null while pending
    "returned": "integer not null default 0",      # times the broker returned it as unroutable
    "retry_at": "timestamptz",                     # a returned message is not published again before
    "last_error": "text",
}
# Keeps claiming cheap however many sent rows are kept.
PENDING_INDEX = "create index {index} on {table} (id) where sent_at is null"
# What a producer writes (:func:`message_row`); the other columns take their defaults.
MESSAGE_COLUMNS = ("exchange", "routing_key", "message_id", "headers", "body")
# What the relay reads of a row it claims: what it publishes, and its bookkeeping.
CLAIMED_COLUMNS = ("id", "exchange", "routing_key", "message_id", "content_type", "headers", "body", "returned")


def column_type(name: str) -> str:
    """The SQL type of outbox column ``name`` (``text``, ``jsonb``, ...)."""
    return COLUMNS[name].split()[0]


def create_table_sql(table: str = "outbox", index: str = "outbox_pending") -> str:
    """The DDL of an outbox table named ``table`` with its pending index, for a new service's migration."""
    columns = ",\n".join(f"    {name} {definition}" for name, definition in COLUMNS.items())
    return f"create table {table} (\n{columns}\n);\n{PENDING_INDEX.format(index=index, table=table)};\n"


def message_row(exchange: str, routing_key: str, body: dict, message_id: str, headers: dict | None = None) -> dict:
    """The column values of an outbox row (:data:`MESSAGE_COLUMNS`), serialised.

    :func:`enqueue` inserts it; a service that writes its outbox row inside a larger statement (one
    round trip for the state change and the message) binds these values itself.
    """
    return {"exchange": exchange, "routing_key": routing_key, "message_id": message_id,
            "headers": json.dumps(headers or {}),
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


def enqueue(conn: psycopg.Connection, exchange: str, routing_key: str, body: dict, message_id: str,
            headers: dict | None = None, table: str = "outbox") -> int:
    """Add a message to the outbox inside the caller's open transaction; return its row id.

    ``message_id`` identifies the message (unique in the table): the relay publishes it with
    that id so consumers can deduplicate redeliveries.
    """
    query = sql.SQL("insert into {} ({}) values ({}) returning id").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, MESSAGE_COLUMNS)),
        sql.SQL(", ").join(map(sql.Placeholder, MESSAGE_COLUMNS)))
    row = conn.execute(query, message_row(exchange, routing_key, body, message_id, headers)).fetchone()
    return row["id"] if isinstance(row, dict) else row[0]


class PublishIncomplete(Exception):
    """Some messages of a batch were not confirmed (nack, timeout or lost connection) or not routed."""


@dataclass
class BatchOutcome:
    """Indexes of a published batch: ``routed`` (confirmed and delivered to a queue) and ``returned``
    (confirmed, but returned by the broker as unroutable); any other index was not confirmed."""

    routed: list = field(default_factory=list)
    returned: list = field(default_factory=list)


@dataclass
class _Confirms:
    """Delivery tags awaiting a broker confirm, and the ones acknowledged so far."""

    waiting: set = field(default_factory=set)
    acked: set = field(default_factory=set)

    def settle(self, tag: int, multiple: bool, ack: bool) -> None:
        done = {t for t in self.waiting if t <= tag} if multiple else {tag} & self.waiting
        self.waiting -= done
        if ack:
            self.acked |= done


class ConfirmingPublisher:
    """One AMQP channel in confirm mode that keeps a whole batch in flight.

    pika's blocking channel waits for each confirm before the next publish (one broker round
    trip, and with quorum queues one disk sync, per message). This drives pika's
    ``SelectConnection`` synchronously instead: publish every message of the batch, then pump
    the I/O loop until all confirms are in, the connection drops, or ``confirm_timeout`` passes.
    """

    def __init__(self, amqp_url: str, name: str, confirm_timeout: float = 10.0):
        self.params = pika.URLParameters(amqp_url)
        self.params.heartbeat = 30
        self.params.client_properties = {"connection_name": name}
        self.confirm_timeout = confirm_timeout
        self.ioloop: IOLoop | None = None
        self.connection: SelectConnection | None = None
        self.channel = None
        self.closed_reason: Exception | None = None
        self._confirms = _Confirms()
        self._returned: list[str | None] = []  # message ids the broker returned as unroutable
        self._next_tag = 0

    @property
    def is_open(self) -> bool:
        return self.channel is not None and self.channel.is_open and self.closed_reason is None

    def open(self, timeout: float = 10.0) -> None:
        """Connect and open a confirm-mode channel; raises :class:`pika.exceptions.AMQPError` on failure."""
        self.closed_reason = None
        self.ioloop = IOLoop()
        self.ioloop.activate_poller()
        state: dict = {}
        self.connection = SelectConnection(
            self.params,
            on_open_callback=lambda _conn: state.setdefault("connected", True),
            on_open_error_callback=lambda _conn, error: state.setdefault("error", error),
            on_close_callback=self._on_connection_closed,
            custom_ioloop=self.ioloop,
        )
        self._pump(lambda: "connected" in state or "error" in state, timeout)
        if "connected" not in state:
            raise pika.exceptions.AMQPConnectionError(state.get("error") or "connection timed out")
        self.connection.channel(on_open_callback=lambda channel: state.setdefault("channel", channel))
        self._pump(lambda: "channel" in state, timeout)
        self.channel = state.get("channel")
        if self.channel is None:
            raise pika.exceptions.AMQPChannelError("channel did not open")
        self.channel.add_on_close_callback(self._on_channel_closed)
        self.channel.add_on_return_callback(self._on_return)
        self._confirms, self._next_tag, self._returned = _Confirms(), 0, []
        self.channel.confirm_delivery(ack_nack_callback=self._on_confirm,
                                      callback=lambda _frame: state.setdefault("confirming", True))
        self._pump(lambda: "confirming" in state, timeout)
        if "confirming" not in state:
            raise pika.exceptions.AMQPChannelError("confirm mode was not enabled")

    def publish_batch(self, messages: list[dict]) -> BatchOutcome:
        """Publish ``messages`` (dicts with exchange, routing_key, message_id, content_type, headers,
        body) as ``mandatory`` and say which the broker confirmed and routed, and which it returned.

        The broker sends a message's return before its confirm, so once every confirm is in, every
        return is too. A return that names no message of the batch makes the whole batch unconfirmed.
        """
        if not self.is_open:
            raise pika.exceptions.ConnectionWrongStateError("publisher is not open")
        tags = {}
        self._returned = []
        for index, message in enumerate(messages):
            properties = pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent,
                content_type=message["content_type"],
                message_id=message["message_id"],
                headers=message["headers"] or None,
                timestamp=int(time.time()),
            )
            self.channel.basic_publish(message["exchange"], message["routing_key"],
                                       message["body"].encode("utf-8"), properties, mandatory=True)
            self._next_tag += 1
            tags[self._next_tag] = index
            self._confirms.waiting.add(self._next_tag)
        self._pump(lambda: not self._confirms.waiting, self.confirm_timeout)
        acked = sorted(tags[tag] for tag in self._confirms.acked if tag in tags)
        self._confirms.acked -= set(tags)
        by_id = {message["message_id"]: index for index, message in enumerate(messages)}
        if any(message_id not in by_id for message_id in self._returned):
            return BatchOutcome()
        returned = {by_id[message_id] for message_id in self._returned}
        return BatchOutcome([index for index in acked if index not in returned],
                            sorted(index for index in returned if index in acked))

    def idle(self, seconds: float) -> None:
        """Wait ``seconds`` while serving heartbeats and noticing a closed connection."""
        if self.is_open:
            self._pump(lambda: False, seconds)
        else:
            time.sleep(seconds)

    def close(self) -> None:
        """Close the connection (quietly when it is already gone) and release the I/O loop."""
        if self.connection is not None and self.connection.is_open:
            try:
                self.connection.close()
                self._pump(lambda: self.connection.is_closed, 2.0)
            except pika.exceptions.AMQPError:
                pass
        if self.ioloop is not None:
            self.ioloop.close()
        self.ioloop = self.connection = self.channel = None
        self.closed_reason = None

    def _on_confirm(self, frame) -> None:
        method = frame.method
        self._confirms.settle(method.delivery_tag, method.multiple, isinstance(method, pika.spec.Basic.Ack))

    def _on_return(self, _channel, _method, properties, _body) -> None:
        self._returned.append(properties.message_id)

    def _on_connection_closed(self, _connection, reason: Exception) -> None:
        self.closed_reason = reason

    def _on_channel_closed(self, _channel, reason: Exception) -> None:
        self.closed_reason = self.closed_reason or reason

    def _pump(self, done: Callable[[], bool], timeout: float) -> None:
        """Run the I/O loop until ``done()``, the connection closes, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        wake = self.ioloop.call_later(timeout, lambda: None)  # bounds each poll by the deadline
        try:
            while not done() and self.closed_reason is None and time.monotonic() < deadline:
                self.ioloop.poll()
                self.ioloop.process_timeouts()
        finally:
            self.ioloop.remove_timeout(wake)


class OutboxRelay:
    """Moves outbox rows to RabbitMQ: claim a batch, publish it with confirms, then mark the confirmed sent.

    A claim is a session-level advisory lock per row (class :attr:`LOCK_CLASS`, key the row id), taken by
    one short statement: it blocks no writer and holds no transaction open, and it ends with the
    relay's connection, so the rows of a relay that dies are claimable at once. Claiming and marking
    are statements of their own; the broker is waited for between them with no transaction open and no
    row locked. While there is a backlog, the statement that claims a batch also marks the previous
    one sent (one round trip a batch). ``declare(channel)`` declares the topology on a blocking
    channel after every (re)connect, so that messages are routed even before their consumer first
    starts. Every ``prune_interval`` seconds it also deletes rows sent more than ``retention_s`` ago
    (``retention_s`` 0: never).
    """

    PRUNE_BATCH = 5000  # rows looked at per delete: the oldest by id, so each delete stays short
    PRUNE_MAX_BATCHES = 20
    RETURN_DELAY_BASE = 1.0  # seconds before an unroutable message is published again, doubling ...
    RETURN_DELAY_CAP = 60.0  # ... up to this
    LOCK_CLASS = 5672  # the first key of a claim's advisory lock; the second is the row id modulo 2^31
    CLAIM_WINDOW = 5  # a claim looks at this many batches' worth of due rows, passing over other relays' ones
    RECONNECT_BASE, RECONNECT_CAP = 0.2, 5.0  # seconds between attempts after a broker or database failure

    def __init__(self, database_url: str, amqp_url: str, name: str,
                 declare: Callable | None = None, table: str = "outbox", batch_size: int = 200,
                 poll_interval: float = 0.1, confirm_timeout: float = 10.0, retention_s: float = 0,
                 prune_interval: float = 60.0):
        self.database_url = database_url
        self.amqp_url = amqp_url
        self.name = name
        self.declare = declare
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publisher = ConfirmingPublisher(amqp_url, name, confirm_timeout)
        self.retention_s = retention_s
        self.prune_interval = prune_interval
        self._next_prune = time.monotonic()
        self.db: psycopg.Connection | None = None
        self._sent: list[int] = []  # the last batch, published and routed, not yet marked sent (still claimed)
        table_id = sql.Identifier(table)
        key = sql.SQL("{}, (id %% 2147483648)::int").format(sql.Literal(self.LOCK_CLASS))
        # In one statement: mark the last batch sent and give its claims back, then claim up to ``limit``
        # due rows among the oldest ``window`` (the rows other relays have claimed are passed over; the
        # filter sits below the limit, so no lock is taken that is not returned). The row lock is a
        # re-check: a row another relay marked sent in the meantime is not published again.
        self._claim = sql.SQL(
            "with sent as (update {t} set sent_at = now(), retry_at = null where id = any(%(sent)s) and sent_at is null"
            "              returning pg_advisory_unlock({key}))"
            " select {columns} from {t}"
            " where id = any(array("
            "     select id from (select id from {t} where sent_at is null and (retry_at is null or retry_at <= now())"
            "                     and id <> all(%(sent)s) order by id limit %(window)s) due"
            "     where pg_try_advisory_lock({key}) limit %(limit)s))"
            "   and sent_at is null"
            " order by id for update of {t}"
        ).format(t=table_id, key=key, columns=sql.SQL(", ").join(map(sql.Identifier, CLAIMED_COLUMNS)))
        # After a batch that did not go out whole, or before a pause: the routed rows sent, the returned
        # ones counted and delayed, and every claim given back.
        self._settle = sql.SQL(
            "with sent as (update {0} set sent_at = now(), retry_at = null"
            "              where id = any(%(routed)s) and sent_at is null),"
            " returned as (update {0} o set returned = o.returned + 1, last_error = %(error)s,"
            "                     retry_at = now() + make_interval(secs => d.delay)"
            "              from unnest(%(returned)s::bigint[], %(delays)s::float8[]) d(id, delay)"
            "              where o.id = d.id and o.sent_at is null)"
            " select pg_advisory_unlock_all()"
        ).format(table_id)
        # Among the oldest rows by id (pending ones included), those sent before the cut-off: the cost
        # is bounded however large the table is.
        self._prune = sql.SQL(
            "delete from {0} where id in (select id from {0} order by id limit %(batch)s)"
            " and sent_at < now() - make_interval(secs => %(retention)s)"
        ).format(table_id)

    def connect(self) -> None:
        """Open whatever is not open yet: the database connection and the confirm channel."""
        if self.db is None or self.db.closed:
            # Its writes are bookkeeping (a sent mark, a return count): losing the last of them in a database
            # crash only makes a row published once more, so they need not wait for the WAL flush.
            self.db = psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row,
                                      application_name=self.name, options="-c synchronous_commit=off")
        if not self.publisher.is_open:
            if self.publisher.closed_reason is not None:
                log.warning("outbox relay: broker connection lost (%s); reconnecting", self.publisher.closed_reason)
            self.publisher.close()
            if self.declare is not None:
                with connect(self.amqp_url, f"{self.name}:declare") as admin:
                    self.declare(admin.channel())
            self.publisher.open()
            log.info("outbox relay %s: connected", self.name)

    def relay_batch(self) -> int:
        """Publish one batch of pending rows; return how many were published (and routed).

        A full batch is marked sent by the statement that claims the next one; a smaller one, the end
        of a backlog, at once (:meth:`flush`). Raises :class:`PublishIncomplete` after marking the
        routed part sent when the broker did not confirm or could not route every message (the rest
        stays pending for a later attempt; a returned one is delayed in its row, so that it does not
        hold the others back).
        """
        sent, self._sent = self._sent, []
        rows = self.db.execute(self._claim, {"sent": sent, "window": self.CLAIM_WINDOW * self.batch_size,
                                             "limit": self.batch_size}).fetchall()
        if not rows:
            return 0
        try:
            outcome = self.publisher.publish_batch(rows)
        except BaseException:
            with suppress(psycopg.Error):  # the claims end with the connection if the database is gone too
                self._settle_batch(rows, BatchOutcome())
            raise
        if len(outcome.routed) < len(rows):
            self._settle_batch(rows, outcome)
            raise PublishIncomplete(f"{len(rows) - len(outcome.routed)} of {len(rows)} messages not routed"
                                    f" ({len(outcome.returned)} unroutable; "
                                    f"{self.publisher.closed_reason or 'nack or timeout'} for the rest)")
        self._sent = [row["id"] for row in rows]
        if len(rows) < self.batch_size:
            self.flush()
        return len(rows)

    def flush(self) -> None:
        """Mark the last published batch sent now and give every claim back (before a pause, a prune or
        closing). Should the relay die first, its rows are claimable again and published once more."""
        self.db.execute(self._settle, {"routed": self._sent, "returned": [], "delays": [], "error": None})
        self._sent = []

    def _settle_batch(self, rows: list[dict], outcome: BatchOutcome) -> None:
        """Mark the routed rows sent, count and delay the returned ones, give every claim back."""
        returned = [rows[index] for index in outcome.returned]
        self.db.execute(self._settle, {
            "routed": [rows[index]["id"] for index in outcome.routed],
            "returned": [row["id"] for row in returned],
            "delays": [backoff(row["returned"] + 1, self.RETURN_DELAY_BASE, self.RETURN_DELAY_CAP) for row in returned],
            "error": "returned by the broker: no queue bound for it"})
        if returned:
            names = ", ".join(f"{row['exchange']}/{row['routing_key']} {row['message_id']}" for row in returned[:5])
            log.error("outbox relay: %d message(s) unroutable, kept for a retry: %s", len(returned), names)

    def prune(self) -> int:
        """Delete rows sent more than ``retention_s`` ago, batch by batch while a batch finds some, at most
        ``PRUNE_MAX_BATCHES`` (so that relaying pauses briefly even on a first run over a large table);
        how many were deleted."""
        deleted = 0
        for _ in range(self.PRUNE_MAX_BATCHES):
            count = self.db.execute(self._prune, {"batch": self.PRUNE_BATCH, "retention": self.retention_s}).rowcount
            deleted += count
            if count == 0:
                break
        return deleted

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set; reconnect with back-off whenever the broker or database fails."""
        failures = Backoff(self.RECONNECT_BASE, self.RECONNECT_CAP)
        while not stop.is_set():
            try:
                self.connect()
                if self.retention_s and time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + self.prune_interval
                    self.flush()
                    pruned = self.prune()
                    if pruned:
                        log.info("outbox relay: pruned %d rows sent over %gs ago", pruned, self.retention_s)
                published = self.relay_batch()
                failures.reset()
                if published < self.batch_size:
                    self.publisher.idle(self.poll_interval)
            except (pika.exceptions.AMQPError, PublishIncomplete, psycopg.Error, OSError) as exc:
                delay = failures.next()
                log.warning("outbox relay: %s: %s; retrying in %.1fs", exc.__class__.__name__, exc, delay)
                self.publisher.close()
                if isinstance(exc, psycopg.Error) and self.db is not None:
                    self.db.close()
                    self._sent = []  # its claims ended with the connection: published once more
                stop.wait(delay)
        self.close()

    def close(self) -> None:
        """Mark what was published sent, then release both connections."""
        if self.db is not None and not self.db.closed:
            with suppress(psycopg.Error):
                self.flush()
        self.publisher.close()
        if self.db is not None:
            self.db.close()
