"""Operator commands: ``python -m bank_callback netsave pending``, ``cache rebuild|check`` and
``anomalies list|resolve``."""
import json

import psycopg
from psycopg.rows import dict_row
from redis import RedisError

from bank_callback.repository import anomalies as anomaly_rows
from bank_callback.repository import customers, netsaves
from bank_callback.cache import CustomerCache, differences
from bank_callback.huifu import SUCCESS


def _connect(config: dict) -> psycopg.Connection:
    return psycopg.connect(config["DATABASE_URL"], row_factory=dict_row, autocommit=True)


def netsave(config: dict, args) -> int:
    """``pending``: print every recharge not done yet as JSON lines; exit 1 when one waits for its customer."""
    with _connect(config) as conn:
        rows = netsaves.open_netsaves(conn, limit=args.limit)
    waiting = 0
    for row in rows:
        if row["resp_code"] != SUCCESS:
            state = "failed at the bank, to be closed"
        elif row["openid"] is None:
            state = "unknown customer: waiting for UserRegister"
            waiting += 1
        else:
            state = "awaiting credit"
        print(json.dumps({**row, "state": state, "created_at": row["created_at"].isoformat()}, ensure_ascii=False))
    print(f"{len(rows)} open recharge(s), {waiting} waiting for an unknown customer")
    return 1 if waiting else 0


def cache(config: dict, args) -> int:
    """``rebuild`` the bank-customers hash from the table, or ``check`` it; 2 when Redis is unreachable."""
    with _connect(config) as conn:
        table = customers.all_customers(conn)
    customer_cache = CustomerCache.from_config({**config, "REDIS_TIMEOUT_MS": max(config["REDIS_TIMEOUT_MS"], 2000)})
    try:
        if args.action == "rebuild":
            customer_cache.rebuild(table)
            print(f"rebuilt {customer_cache.key} with {len(table)} binding(s)")
            return 0
        found = differences(table, customer_cache.snapshot())
    except RedisError as exc:
        print(f"redis unreachable: {exc}")
        return 2
    print(json.dumps(found, ensure_ascii=False, sort_keys=True))
    drift = sum(len(entries) for entries in found.values())
    print(f"{len(table)} binding(s) in the table, {drift} difference(s) in {customer_cache.key}")
    return 1 if drift else 0


def anomalies(config: dict, args) -> int:
    """``list`` the open anomalies (``--all``: resolved ones too) as JSON lines, exit 1 when one is open;
    ``resolve ID...`` closes them once an operator has dealt with them."""
    with _connect(config) as conn:
        if args.action == "resolve":
            closed = anomaly_rows.resolve_anomalies(conn, args.ids)
            print(f"{closed} anomaly(ies) resolved")
            return 0 if closed == len(set(args.ids)) else 1
        rows = anomaly_rows.anomalies(conn, include_resolved=args.all, limit=args.limit)
    for row in rows:
        print(json.dumps({**row, **{name: row[name] and row[name].isoformat()
                                    for name in ("first_seen", "last_seen", "resolved_at")}}, ensure_ascii=False))
    still_open = sum(row["resolved_at"] is None for row in rows)
    print(f"{still_open} open anomaly(ies)")
    return 1 if still_open else 0


def _anomaly_arguments(parser) -> None:
    parser.add_argument("action", choices=["list", "resolve"])
    parser.add_argument("ids", nargs="*", type=int, help="resolve: the ids to close")
    parser.add_argument("--all", action="store_true", help="list: resolved anomalies too")
    parser.add_argument("--limit", type=int, default=1000)


COMMANDS = {
    "netsave": ("recharge callbacks: `pending` lists those not credited yet",
                lambda p: (p.add_argument("action", choices=["pending"]),
                           p.add_argument("--limit", type=int, default=1000)), netsave),
    "cache": ("bank-customers Redis hash: `rebuild` it from the table or `check` it against the table",
              lambda p: p.add_argument("action", choices=["rebuild", "check"]), cache),
    "anomalies": ("signed callbacks refused as anomalies: `list` them, `resolve ID...` once dealt with",
                  _anomaly_arguments, anomalies),
}
