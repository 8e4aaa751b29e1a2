"""Service package endpoints: packages, capacity postings and records (docs/protocols.md)."""
import json

from beanpay_ledger import packages_repo
from beanpay_ledger.outcomes import ADD, DEDUCT, REFUND, refusal
from beanpay_ledger.responses import json_response, posting_response
from beanpay_ledger.routing import LedgerBlueprint
from beanpay_ledger.schemas import (CapacityArgs, CapacitySchema, PackageArgs, PackageCreateArgs,
                                    PackageRecordPageSchema, PackageRecordQueryArgs, PackageRecordSchema,
                                    PackageSchema)
from shared.errors import NotFound

bp = LedgerBlueprint("packages", __name__, description="service packages and their capacity")
POSTING_ERRORS = (404, 409, 422, 423)
CAPACITY_FIELDS = ("spkg_id", "total_capacity", "total_remain", "capacity_daily", "deduct_today", "expires")


def _found(body: str | None, args) -> str:
    if body is None:
        raise NotFound(f"service package not found: eid {args['eid']}, spkg_id {args['spkg_id']}")
    return body


@bp.endpoint("/package/create", PackageCreateArgs, PackageSchema, successes=(200, 201), errors=(404,))
def create_package(args):
    """Create package ``spkg_id`` of ``eid`` holding ``total`` (200); an existing one answers 201."""
    outcome, package = packages_repo.open_package(args["eid"], args["spkg_id"], args["name"], args["total"],
                                                  args["daily"], args["expires"])
    if outcome == "no_account":
        raise refusal(outcome, f"eid {args['eid']}")
    return json_response(package, 200 if outcome == "created" else 201)


@bp.endpoint("/package/query", PackageArgs, PackageSchema, errors=(404,))
def query_package(args):
    """The package."""
    return json_response(_found(packages_repo.package_json(args["eid"], args["spkg_id"]), args))


@bp.endpoint("/package/capacity/query", PackageArgs, CapacitySchema, errors=(404,))
def query_capacity(args):
    """``{spkg_id, total_capacity, total_remain, capacity_daily, deduct_today, expires}``."""
    package = json.loads(_found(packages_repo.package_json(args["eid"], args["spkg_id"]), args))
    return {field: package[field] for field in CAPACITY_FIELDS}


def _post(change_type: int, args):
    outcome, record = packages_repo.post(change_type, args["eid"], args["spkg_id"], args["trade_no"], args["num"])
    return posting_response(outcome, record, f"eid {args['eid']}, spkg_id {args['spkg_id']}, "
                                             f"trade_no {args['trade_no']}")


@bp.endpoint("/package/capacity/add", CapacityArgs, PackageRecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def add_capacity(args):
    """Add ``num`` to the package's capacity."""
    return _post(ADD, args)


@bp.endpoint("/package/capacity/deduct", CapacityArgs, PackageRecordSchema, successes=(200, 201),
             errors=POSTING_ERRORS)
def deduct_capacity(args):
    """Use ``num``: never below 0, within the daily limit, not after ``expires`` (422/906)."""
    return _post(DEDUCT, args)


@bp.endpoint("/package/capacity/refund", CapacityArgs, PackageRecordSchema, successes=(200, 201),
             errors=POSTING_ERRORS)
def refund_capacity(args):
    """Give back (part of) the deduct ``trade_no``, once."""
    return _post(REFUND, args)


@bp.endpoint("/package/record/query", PackageRecordQueryArgs, PackageRecordPageSchema, errors=(404,))
def query_package_records(args):
    """The package's records, newest first: ``{count, data}``."""
    page = packages_repo.records_json(args["eid"], args["spkg_id"], args["change_type"], args["start"],
                                      args["end"], args["ps"], (args["pi"] - 1) * args["ps"])
    return json_response(_found(page, args))
