"""Operator commands: ``python -m depository_agent exceptions ...`` and ``reconcile`` (see reconciliation/)."""
import argparse
import json

import psycopg
from psycopg.rows import dict_row

from shared.errors import AppError

from depository_agent import exception_store
from depository_agent.reconciliation import command as reconciliation_command
from depository_agent.workers.compensation import build_compensator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open exceptions, oldest first, one JSON object a line")
    listing.add_argument("--all", action="store_true", help="include resolved ones")
    retry = actions.add_parser("retry", help="query the bank again now for a COMPENSATION_FAILED exception")
    retry.add_argument("id", type=int)
    resolve = actions.add_parser("resolve", help="close an exception after handling it")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--note", default="resolved by operator", help="what was done")


def _connect(config: dict) -> psycopg.Connection:
    return psycopg.connect(config["DATABASE_URL"], row_factory=dict_row, application_name="depository-agent.operator")


def list_exceptions(config: dict, args: argparse.Namespace) -> int:
    with _connect(config) as conn:
        for row in exception_store.listing(conn, include_resolved=args.all):
            print(json.dumps(row, default=str, ensure_ascii=False))
    return 0


def retry_exception(config: dict, args: argparse.Namespace) -> int:
    compensator = build_compensator(config)
    try:
        print(f"exception {args.id}: {compensator.retry(args.id)}")
    finally:
        compensator.pool.close()
    return 0


def resolve_exception(config: dict, args: argparse.Namespace) -> int:
    with _connect(config) as conn:
        row = exception_store.resolve(conn, args.id, args.note)
    print(f"exception {args.id}: {'resolved' if row else 'not found or already resolved'}")
    return 0 if row else 1


_ACTIONS = {"list": list_exceptions, "retry": retry_exception, "resolve": resolve_exception}


def run(config: dict, args: argparse.Namespace) -> int:
    """Run ``exceptions list|retry|resolve``; exit code 1 when the action is refused."""
    try:
        return _ACTIONS[args.action](config, args)
    except AppError as exc:
        print(f"exception {args.id}: {exc.msg}")
        return 1


COMMANDS = {"exceptions": ("list, retry or resolve the exceptions an operator must look at", add_arguments, run),
            "reconcile": reconciliation_command.COMMAND}
