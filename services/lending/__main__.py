"""Operator commands: ``python -m lending --help`` (migrate, keys, borrows reject, penalties waive,
callbacks list|retry, postings retry, anomalies list); docs/lending.md, "Operator commands"."""
import argparse
import json

from shared.cli import build_cli, run
from shared.db import unit_of_work
from shared.errors import AppError

from lending import DATABASE, MIGRATIONS_DIR, call_settlement, disbursement, overdue
from lending.bootstrap import build
from lending.config import load
from lending.repository import anomalies, callbacks, postings


def _with_deps(action):
    """Run ``action(deps, args)`` on freshly built dependencies; a refusal prints its reason and exits 1."""
    def run(config: dict, args: argparse.Namespace) -> int:
        deps = build(config, "lending-operator")
        try:
            return action(deps, args)
        except AppError as exc:
            print(f"refused: {exc.msg}")
            return 1
        finally:
            deps.close()
    return run


def _reject(deps, args) -> int:
    follow_ups = disbursement.reject(deps, args.borrow, args.reason)
    call_settlement.send_all(deps, follow_ups)
    print(f"borrow {args.borrow} refused (27); loan.rejected callback written; {len(follow_ups)} call(s) sent"
          " (freezes cancelled, project miscarried)")
    return 0


def _waive(deps, args) -> int:
    waived = overdue.waive(deps, args.order, args.period)
    print(f"penalty waived on {waived} period(s) of {args.order}")
    return 0 if waived else 1


def _callbacks(deps, args) -> int:
    with unit_of_work(deps.pool) as conn:
        if args.action == "retry":
            print(f"{callbacks.retry_now(conn, args.event_id)} callback(s) due now")
            return 0
        for row in callbacks.pending(conn, args.limit):
            print(json.dumps({"eventId": row["event_id"], "attempts": row["attempts"], "lastError": row["last_error"],
                              "nextAttemptAt": row["next_attempt_at"].isoformat()}, ensure_ascii=False))
    return 0


def _postings(deps, args) -> int:
    with unit_of_work(deps.pool) as conn:
        print(f"{postings.requeue_refused(conn)} refused posting(s) queued again")
    return 0


def _anomalies(deps, args) -> int:
    with deps.pool.connection() as conn:
        for row in anomalies.recent(conn, args.limit):
            print(json.dumps({"id": row["id"], "kind": row["kind"], "reference": row["reference"],
                              "detail": row["detail"], "at": row["created_at"].isoformat()}, ensure_ascii=False))
    return 0


def _borrow_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    reject = sub.add_parser("reject", help="refuse a borrow that cannot be disbursed (10, 20 or 31 -> 27)")
    reject.add_argument("borrow", help="borrowNo or orderNo")
    reject.add_argument("--reason", default="refused by an operator after failed disbursements")


def _penalty_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    waive = sub.add_parser("waive", help="waive the penalty of a repaying borrow (it ends as 41)")
    waive.add_argument("order", help="orderNo or borrowNo")
    waive.add_argument("--period", type=int, default=None, help="one period only (default: every unpaid one)")


def _callback_arguments(parser) -> None:
    parser.add_argument("action", choices=("list", "retry"))
    parser.add_argument("--event-id", default=None, help="retry: only this callback")
    parser.add_argument("--limit", type=int, default=100)


def _posting_arguments(parser) -> None:
    parser.add_argument("action", choices=("retry",))


def _anomaly_arguments(parser) -> None:
    parser.add_argument("action", choices=("list",))
    parser.add_argument("--limit", type=int, default=100)


COMMANDS = {
    "borrows": ("refuse a borrow that cannot be disbursed: borrows reject <borrowNo|orderNo> [--reason]",
                _borrow_arguments, _with_deps(_reject)),
    "penalties": ("waive a penalty: penalties waive <orderNo> [--period N]", _penalty_arguments, _with_deps(_waive)),
    "callbacks": ("partner callbacks not acknowledged yet: callbacks list|retry [--event-id ID]",
                  _callback_arguments, _with_deps(_callbacks)),
    "postings": ("ledger postings the ledger refused: postings retry (once the cause is fixed)",
                 _posting_arguments, _with_deps(_postings)),
    "anomalies": ("what an operator must look at: anomalies list", _anomaly_arguments, _with_deps(_anomalies)),
}

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
