"""Operator commands: ``python -m bank_callback --help`` (migrate, keys, netsave pending, cache rebuild|check,
anomalies list|resolve; docs/bank_callback.md, Operator commands)."""
import json
from contextlib import closing

from redis import RedisError

from shared.cli import build_cli, run

from bank_callback import DATABASE, MIGRATIONS_DIR, anomalies, crediting, customer_cache
from bank_callback.bootstrap import Dependencies, build
from bank_callback.config import load

# Operators' Redis calls may wait longer than a callback's copy to the cache does.
COMMAND_REDIS_TIMEOUT_MS = 2000


def _dependencies(config: dict) -> Dependencies:
    return build({**config, "REDIS_TIMEOUT_MS": max(config["REDIS_TIMEOUT_MS"], COMMAND_REDIS_TIMEOUT_MS)},
                 "bank-callback-command")


def netsave(config: dict, args) -> int:
    """``pending``: print every recharge not done yet as JSON lines; exit 1 when one waits for its customer."""
    with closing(_dependencies(config)) as deps:
        rows = crediting.open_recharges(deps.pool, args.limit)
    for row in rows:
        print(json.dumps({**row, "created_at": row["created_at"].isoformat()}, ensure_ascii=False))
    waiting = sum(row["state"] == crediting.WAITING for row in rows)
    print(f"{len(rows)} open recharge(s), {waiting} waiting for an unknown customer")
    return 1 if waiting else 0


def cache(config: dict, args) -> int:
    """``rebuild`` the bank-customers hash from the table, or ``check`` it; 2 when Redis is unreachable."""
    with closing(_dependencies(config)) as deps:
        try:
            if args.action == "rebuild":
                count = customer_cache.rebuild(deps.pool, deps.cache)
                print(f"rebuilt {deps.cache.key} with {count} binding(s)")
                return 0
            count, found = customer_cache.check(deps.pool, deps.cache)
        except RedisError as exc:
            print(f"redis unreachable: {exc}")
            return 2
    print(json.dumps(found, ensure_ascii=False, sort_keys=True))
    drift = sum(len(entries) for entries in found.values())
    print(f"{count} binding(s) in the table, {drift} difference(s) in {deps.cache.key}")
    return 1 if drift else 0


def anomaly(config: dict, args) -> int:
    """``list`` the open anomalies (``--all``: resolved ones too) as JSON lines, exit 1 when one is open;
    ``resolve ID...`` closes them once an operator has dealt with them."""
    with closing(_dependencies(config)) as deps:
        if args.action == "resolve":
            closed = anomalies.resolve(deps.pool, args.ids)
            print(f"{closed} anomaly(ies) resolved")
            return 0 if closed == len(set(args.ids)) else 1
        rows = anomalies.listed(deps.pool, include_resolved=args.all, limit=args.limit)
    for row in rows:
        print(json.dumps({**row, **{name: row[name] and row[name].isoformat()
                                    for name in ("first_seen", "last_seen", "resolved_at")}}, ensure_ascii=False))
    still_open = sum(row["resolved_at"] is None for row in rows)
    print(f"{still_open} open anomaly(ies)")
    return 1 if still_open else 0


def _netsave_arguments(parser) -> None:
    parser.add_argument("action", choices=["pending"])
    parser.add_argument("--limit", type=int, default=1000)


def _anomaly_arguments(parser) -> None:
    parser.add_argument("action", choices=["list", "resolve"])
    parser.add_argument("ids", nargs="*", type=int, help="resolve: the ids to close")
    parser.add_argument("--all", action="store_true", help="list: resolved anomalies too")
    parser.add_argument("--limit", type=int, default=1000)


COMMANDS = {
    "netsave": ("recharge callbacks: `pending` lists those not credited yet", _netsave_arguments, netsave),
    "cache": ("bank-customers Redis hash: `rebuild` it from the table or `check` it against the table",
              lambda parser: parser.add_argument("action", choices=["rebuild", "check"]), cache),
    "anomalies": ("signed callbacks refused as anomalies: `list` them, `resolve ID...` once dealt with",
                  _anomaly_arguments, anomaly),
}

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
