"""Service package endpoints: packages, capacity postings and records (docs/beanpay_ledger.md, "API")."""
from beanpay_ledger import packages
from beanpay_ledger.api.schemas import (CapacityArgs, CapacitySchema, PackageArgs, PackageCreateArgs,
                                        PackageRecordPageSchema, PackageRecordQueryArgs, PackageRecordSchema,
                                        PackageSchema)
from beanpay_ledger.api.shell import Routes
from beanpay_ledger.bootstrap import Dependencies
from beanpay_ledger.outcomes import Answer

routes = Routes("packages", "service packages and their capacity")
POSTING_ERRORS = (404, 409, 422, 423)


@routes.endpoint("/package/create", PackageCreateArgs, PackageSchema, successes=(200, 201), errors=(404,))
def create_package(deps: Dependencies, args: dict) -> Answer:
    """Create package ``spkg_id`` of ``eid`` holding ``total`` (200); an existing one answers 201."""
    with deps.pool.connection() as conn:
        return packages.open_package(conn, args["eid"], args["spkg_id"], args["name"], args["total"],
                                     args["expires"], args["daily"], deps.max_amount)


@routes.endpoint("/package/query", PackageArgs, PackageSchema, errors=(404,))
def query_package(deps: Dependencies, args: dict) -> Answer:
    """The package."""
    with deps.pool.connection() as conn:
        return packages.package(conn, args["eid"], args["spkg_id"])


@routes.endpoint("/package/capacity/query", PackageArgs, CapacitySchema, errors=(404,))
def query_capacity(deps: Dependencies, args: dict) -> Answer:
    """``{spkg_id, total_capacity, total_remain, capacity_daily, deduct_today, expires}``."""
    with deps.pool.connection() as conn:
        return packages.capacity(conn, args["eid"], args["spkg_id"])


@routes.endpoint("/package/capacity/add", CapacityArgs, PackageRecordSchema, successes=(200, 201),
                 errors=POSTING_ERRORS)
def add_capacity(deps: Dependencies, args: dict) -> Answer:
    """Add ``num`` to the package's capacity."""
    with deps.pool.connection() as conn:
        return packages.add(conn, args["eid"], args["spkg_id"], args["trade_no"], args["num"], deps.max_amount)


@routes.endpoint("/package/capacity/deduct", CapacityArgs, PackageRecordSchema, successes=(200, 201),
                 errors=POSTING_ERRORS)
def deduct_capacity(deps: Dependencies, args: dict) -> Answer:
    """Use ``num``: never below 0, within the daily limit, not after ``expires`` (422/906)."""
    with deps.pool.connection() as conn:
        return packages.deduct(conn, args["eid"], args["spkg_id"], args["trade_no"], args["num"], deps.max_amount)


@routes.endpoint("/package/capacity/refund", CapacityArgs, PackageRecordSchema, successes=(200, 201),
                 errors=POSTING_ERRORS)
def refund_capacity(deps: Dependencies, args: dict) -> Answer:
    """Give back (part of) the deduct ``trade_no``, once."""
    with deps.pool.connection() as conn:
        return packages.refund(conn, args["eid"], args["spkg_id"], args["trade_no"], args["num"], deps.max_amount)


@routes.endpoint("/package/record/query", PackageRecordQueryArgs, PackageRecordPageSchema, errors=(404,))
def query_package_records(deps: Dependencies, args: dict) -> Answer:
    """The package's records, newest first: ``{count, data}``."""
    with deps.pool.connection() as conn:
        return packages.records(conn, args["eid"], args["spkg_id"], args["change_type"], args["start"],
                                args["end"], args["pi"], args["ps"])
