"""``python -m depository_agent reconcile --date YYYY-MM-DD|yesterday [--csv PATH] [--no-repair]``.

``yesterday`` is the business day before today in RECONCILE_TIMEZONE: what a daily scheduled run
(deploy/k8s/base/reconcile-cronjob.yaml) reconciles.

Exit codes: 0 clean (or every difference repaired and verified), 1 differences remain,
2 the run could not complete (a source unreachable or unreadable).
"""
import argparse
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg_pool import PoolTimeout

from depository_agent.reconciliation.report import Progress, summary, write_csv
from depository_agent.reconciliation.run import Reconciler
from depository_agent.reconciliation.sources import SourceError

EXIT_CLEAN, EXIT_DIFFERENCES, EXIT_INCOMPLETE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, type=_day,
                        help="business day, YYYY-MM-DD, or 'yesterday' (in RECONCILE_TIMEZONE)")
    parser.add_argument("--csv", help="where to write the findings (default reconcile-<date>.csv)")
    parser.add_argument("--no-repair", action="store_true", help="only report, change nothing")


def _day(value: str) -> date | str:
    """A YYYY-MM-DD date, or ``yesterday`` (resolved in :func:`run`, where the time zone is known)."""
    return value if value == "yesterday" else date.fromisoformat(value)


def business_day(value: date | str, zone: str, now: datetime | None = None) -> date:
    """``value`` itself, or for ``yesterday`` the day before today in ``zone``."""
    if value != "yesterday":
        return value
    return ((now or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)) - timedelta(days=1)).date()


def run(config: dict, args: argparse.Namespace) -> int:
    """Reconcile ``args.date``; print the summary, write the CSV; the exit code says what remains."""
    args.date = business_day(args.date, config["RECONCILE_TIMEZONE"])
    csv_path = args.csv or f"reconcile-{args.date.isoformat()}.csv"
    reconciler = Reconciler(config, Progress(sys.stderr, config["RECONCILE_PROGRESS_EVERY"]))
    try:
        result = reconciler.run(args.date, repair=not args.no_repair)
    except (SourceError, psycopg.Error, PoolTimeout) as exc:
        print(f"reconciliation of {args.date.isoformat()} incomplete: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    finally:
        reconciler.close()
    write_csv(csv_path, result)
    print(summary(result, config["RECONCILE_TIMEZONE"], csv_path))
    return EXIT_CLEAN if result.remaining == 0 else EXIT_DIFFERENCES


COMMAND = ("compare a day's bank statement with the agent, user-center and the ledger; repair what the "
           "bank confirms", add_arguments, run)
