"""Operator commands: ``python -m bank_sandbox --help`` (migrate, keys, pending, redeliver)."""
from shared.cli import build_cli, run

from bank_sandbox import DATABASE, MIGRATIONS_DIR, delivery
from bank_sandbox.bootstrap import build
from bank_sandbox.config import load


def _pending(config, args) -> int:
    deps = build(config, "bank-sandbox-cli")
    try:
        rows = delivery.undelivered(deps.pool, args.limit)
    finally:
        deps.close()
    for row in rows:
        print(f"{row['id']}\t{row['target']}{row['path']}\t{row['reference']}\tattempts={row['attempts']}"
              f"\tnext={row['next_attempt_at']:%Y-%m-%d %H:%M:%S}\tlast={row['last_status']} "
              f"{(row['last_answer'] or row['last_error'] or '')[:80]!r}")
    print(f"{len(rows)} undelivered notification(s)")
    return 0


def _redeliver(config, args) -> int:
    deps = build(config, "bank-sandbox-cli")
    try:
        count = delivery.make_due(deps.pool, args.id)
    finally:
        deps.close()
    print(f"{count} notification(s) due now")
    return 0 if count or args.id is None else 1


main = build_cli(DATABASE, load, MIGRATIONS_DIR, {
    "pending": ("list undelivered notifications with their last answer",
                lambda p: p.add_argument("--limit", type=int, default=100), _pending),
    "redeliver": ("make undelivered notifications due now (all, or --id N)",
                  lambda p: p.add_argument("--id", type=int), _redeliver),
})

if __name__ == "__main__":
    run(main)
