"""Operator commands over requests that never reached the bank and withdraw holds to give back.

``python -m user_center requests sweep``: one sweep now (:mod:`user_center.sweep`) over every kind
of request, trying every waiting hold whatever its back-off. ``holds list [--all]`` shows the
holds' release rows; ``holds release`` is the same sweep restricted to withdraws. Both sweeps exit
1 while a hold could not be released or the agent could not be asked.
"""
import argparse
import json

from shared.db import unit_of_work
from shared.errors import Unavailable

from user_center.holds import RELEASED, RETRYING
from user_center.repository import holds
from user_center.sweep import ADOPTED, FAILED, SERVICES, build_sweeper


def _sweep(config: dict, services: tuple[str, ...], label: str) -> int:
    sweeper = build_sweeper(config)
    try:
        outcomes = sweeper.sweep(services, now_all=True)
    except Unavailable as exc:
        print(f"{label}: {exc.msg}")
        return 1
    finally:
        sweeper.pool.close()
    failed = f"{outcomes[FAILED]} failed, " if services != ("WITHDRAW",) else ""
    print(f"{label}: {failed}{outcomes[ADOPTED]} adopted, {outcomes[RELEASED]} released, "
          f"{outcomes[RETRYING]} still waiting")
    return 1 if outcomes[RETRYING] else 0


def _holds_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="holds_command", required=True)
    listing = sub.add_parser("list", help="withdraw holds waiting to be released, one JSON object a line")
    listing.add_argument("--all", action="store_true", help="include released ones")
    sub.add_parser("release", help="try every waiting hold now, whatever its back-off (adopting orphans first)")


def _run_holds(config: dict, args: argparse.Namespace) -> int:
    if args.holds_command == "release":
        return _sweep(config, ("WITHDRAW",), "holds release")
    sweeper = build_sweeper(config)
    try:
        with unit_of_work(sweeper.pool) as conn:
            for row in holds.listing(conn, args.all):
                print(json.dumps(row, default=str))
    finally:
        sweeper.pool.close()
    return 0


def _requests_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="requests_command", required=True)
    sub.add_parser("sweep", help="fail old pending requests the agent never received (withdraws: release the "
                                 "hold), then try every waiting hold now")


def _run_requests(config: dict, args: argparse.Namespace) -> int:
    return _sweep(config, SERVICES, "requests sweep")


HOLDS_COMMAND = ("list or release withdraw holds waiting to be given back", _holds_arguments, _run_holds)
REQUESTS_COMMAND = ("sweep requests that never reached the bank (recharge, account opening, withdraw)",
                    _requests_arguments, _run_requests)
