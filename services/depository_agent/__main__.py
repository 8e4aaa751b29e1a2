"""Operator commands: ``python -m depository_agent --help``.

``migrate`` and ``keys`` (every service's), ``exceptions list|retry|resolve`` (the exception desk) and
``reconcile --date YYYY-MM-DD|yesterday [--csv PATH] [--no-repair]`` (docs/reconciliation.md: exit code
0 clean or every difference repaired and verified, 1 differences remain, 2 the run could not complete).
"""
import argparse
import json
import sys
from datetime import date

import psycopg
from psycopg_pool import PoolTimeout

from shared.cli import build_cli, run
from shared.errors import AppError

from depository_agent import DATABASE, MIGRATIONS_DIR, exception_desk
from depository_agent.bootstrap import build
from depository_agent.config import load
from depository_agent.reconciliation.report import Progress, summary, write_csv
from depository_agent.reconciliation.run import Reconciler, business_day
from depository_agent.reconciliation.sources import SourceError

EXIT_CLEAN, EXIT_DIFFERENCES, EXIT_INCOMPLETE = 0, 1, 2


def exceptions_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open exceptions, oldest first, one JSON object a line")
    listing.add_argument("--all", action="store_true", help="include resolved ones")
    retry = actions.add_parser("retry", help="query the bank again now for a COMPENSATION_FAILED exception")
    retry.add_argument("id", type=int)
    resolve = actions.add_parser("resolve", help="close an exception after handling it")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--note", default="resolved by operator", help="what was done")


def exceptions_command(config: dict, args: argparse.Namespace) -> int:
    """``exceptions list|retry|resolve``; exit code 1 when the action is refused."""
    deps = build(config, "depository-agent.operator", check_keys=args.action == "retry")
    try:
        if args.action == "list":
            for row in exception_desk.listing(deps.pool, include_resolved=args.all):
                print(json.dumps(row, default=str, ensure_ascii=False))
            return 0
        if args.action == "retry":
            print(f"exception {args.id}: {deps.compensator.retry(args.id)}")
            return 0
        row = exception_desk.resolve(deps.pool, args.id, args.note)
        print(f"exception {args.id}: {'resolved' if row else 'not found or already resolved'}")
        return 0 if row else 1
    except AppError as exc:
        print(f"exception {args.id}: {exc.msg}")
        return 1
    finally:
        deps.close()


def _day(value: str) -> date | str:
    """A YYYY-MM-DD date, or ``yesterday`` (resolved once the time zone is known)."""
    return value if value == "yesterday" else date.fromisoformat(value)


def reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, type=_day,
                        help="business day, YYYY-MM-DD, or 'yesterday' (in RECONCILE_TIMEZONE)")
    parser.add_argument("--csv", help="where to write the findings (default reconcile-<date>.csv)")
    parser.add_argument("--no-repair", action="store_true", help="only report, change nothing")


def reconcile_command(config: dict, args: argparse.Namespace) -> int:
    """Reconcile ``args.date``; print the summary, write the CSV; the exit code says what remains."""
    day = business_day(args.date, config["RECONCILE_TIMEZONE"])
    csv_path = args.csv or f"reconcile-{day.isoformat()}.csv"
    reconciler = Reconciler(config, Progress(sys.stderr, config["RECONCILE_PROGRESS_EVERY"]))
    try:
        result = reconciler.run(day, repair=not args.no_repair)
    except (SourceError, psycopg.Error, PoolTimeout) as exc:
        print(f"reconciliation of {day.isoformat()} incomplete: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    finally:
        reconciler.close()
    write_csv(csv_path, result)
    print(summary(result, config["RECONCILE_TIMEZONE"], csv_path))
    return EXIT_CLEAN if result.remaining == 0 else EXIT_DIFFERENCES


COMMANDS = {
    "exceptions": ("list, retry or resolve the exceptions an operator must look at", exceptions_arguments,
                   exceptions_command),
    "reconcile": ("compare a day's bank statement with the agent, user-center and the ledger; repair what the "
                  "bank confirms", reconcile_arguments, reconcile_command),
}

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
