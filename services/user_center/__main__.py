"""Operator commands: ``python -m user_center --help``.

- ``migrate``, ``keys``: the common ones (:mod:`shared.cli`).
- ``requests sweep``: one sweep now (:mod:`user_center.sweep`) over every kind of request, trying every
  waiting hold whatever its back-off; ``holds list [--all]`` shows the holds' release rows; ``holds
  release`` is the same sweep restricted to withdraws. Both sweeps exit 1 while a hold could not be
  released or the agent could not be asked.
- ``dlq list``, ``dlq replay --all | <message_id>``: the gateway notifications parked in the DLQ
  (:mod:`user_center.dead_letters`); replay exits 1 when the given message is not parked.

docs/user_center.md ("Operator commands") describes each.
"""
import argparse
import json

from shared.cli import build_cli, run
from shared.contract import GATEWAY_SERVICES, WITHDRAW
from shared.db import unit_of_work
from shared.errors import Unavailable
from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_QUEUE

from user_center import DATABASE, MIGRATIONS_DIR, bootstrap, dead_letters
from user_center.config import load
from user_center.holds import RELEASED, RETRYING
from user_center.repository import holds
from user_center.sweep import ADOPTED, FAILED


def _sweep(config: dict, services: tuple[str, ...], label: str) -> int:
    deps = bootstrap.build(config, "user-center-sweep")
    try:
        outcomes = deps.sweeper.sweep(services, now_all=True)
    except Unavailable as exc:
        print(f"{label}: {exc.msg}")
        return 1
    finally:
        deps.close()
    failed = f"{outcomes[FAILED]} failed, " if services != (WITHDRAW,) else ""
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
        return _sweep(config, (WITHDRAW,), "holds release")
    deps = bootstrap.build(config, "user-center-sweep")
    try:
        with unit_of_work(deps.pool) as conn:
            for row in holds.listing(conn, args.all):
                print(json.dumps(row, default=str))
    finally:
        deps.close()
    return 0


def _requests_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="requests_command", required=True)
    sub.add_parser("sweep", help="fail old pending requests the agent never received (withdraws: release the "
                                 "hold), then try every waiting hold now")


def _run_requests(config: dict, args: argparse.Namespace) -> int:
    return _sweep(config, GATEWAY_SERVICES, "requests sweep")


def _dlq_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dlq_command", required=True)
    sub.add_parser("list", help="show the messages parked in user-center.gateway-notify.dlq")
    replay_parser = sub.add_parser("replay", help="move DLQ messages back to user-center.gateway-notify")
    which = replay_parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="replay every message")
    which.add_argument("message_id", nargs="?", help="replay the message with this message_id")


def _run_dlq(config: dict, args: argparse.Namespace) -> int:
    if args.dlq_command == "list":
        messages = dead_letters.list_messages(config)
        for message in messages:
            print(f"{message['message_id']}\tattempts={message['attempts']}\tat={message['dead_lettered_at']}\t"
                  f"reason={message['reason']}\tbody={message['body'][:300]}")
        print(f"{len(messages)} message(s) in {GATEWAY_NOTIFY_DLQ}")
        return 0
    moved = dead_letters.replay(config, None if args.all else args.message_id)
    print(f"replayed {moved} message(s) to {GATEWAY_NOTIFY_QUEUE}")
    return 0 if moved or args.all else 1


main = build_cli(DATABASE, load, MIGRATIONS_DIR, {
    "dlq": ("list or replay dead-lettered gateway notifications", _dlq_arguments, _run_dlq),
    "holds": ("list or release withdraw holds waiting to be given back", _holds_arguments, _run_holds),
    "requests": ("sweep requests that never reached the bank (recharge, account opening, withdraw)",
                 _requests_arguments, _run_requests),
})

if __name__ == "__main__":
    run(main)
