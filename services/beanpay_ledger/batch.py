"""The batch endpoint: many wallet postings in one request and one database round trip.

Each operation is validated and answered exactly as it would be alone (same status, code and
message); the valid ones run in order inside one SQL call, each refusal affecting only itself.
"""
import json

from flask import current_app

from beanpay_ledger import accounts_repo, store
from beanpay_ledger.outcomes import CHANGE_TYPES, SUCCESS_STATUS, refusal
from beanpay_ledger.responses import json_response
from beanpay_ledger.routing import LedgerBlueprint
from beanpay_ledger.schemas import BatchArgs, BatchResultsSchema, ErrorBodySchema
from beanpay_ledger.validation import load, one_of, posting_rules
from shared.errors import AppError, BadRequest

bp = LedgerBlueprint("batch", __name__, description="many postings in one call")
NOT_AN_OBJECT = BadRequest("invalid input: each operation must be a JSON object")


def _refused(error: AppError) -> str:
    return json.dumps({"status": error.status, "code": error.code, "msg": error.msg, "record": None},
                      ensure_ascii=False)


def run_batch(operations: list) -> list[str]:
    """Each operation's result as JSON text ``{status, code, msg, record}``, in the given order."""
    rules = (*posting_rules(current_app.config["LEDGER_MAX_AMOUNT"]), ("op", one_of(CHANGE_TYPES)))
    results: list[str | None] = [None] * len(operations)
    accepted: list[int] = []
    change_types, eids, trade_nos, amounts = [], [], [], []
    for index, operation in enumerate(operations):
        try:
            if not isinstance(operation, dict):
                raise NOT_AN_OBJECT
            eid, trade_no, amount, change_type = load(operation, rules)
        except BadRequest as error:
            results[index] = _refused(error)
            continue
        accepted.append(index)
        change_types.append(change_type)
        eids.append(eid)
        trade_nos.append(trade_no)
        amounts.append(amount)
    if accepted:
        with store.connection() as conn:
            outcomes = accounts_repo.post_batch(conn, change_types, eids, trade_nos, amounts)
        for index, eid, trade_no, (outcome, record) in zip(accepted, eids, trade_nos, outcomes):
            status = SUCCESS_STATUS.get(outcome)
            if status is None:
                results[index] = _refused(refusal(outcome, f"eid {eid}, trade_no {trade_no}"))
            else:
                results[index] = f'{{"status":{status},"code":0,"msg":"success","record":{record}}}'
    return results


@bp.route("/account/balance/batch", methods=["POST"])
@bp.arguments(BatchArgs, location="json")
@bp.alt_response(200, schema=BatchResultsSchema, success=True)
@bp.alt_response(400, schema=ErrorBodySchema)
@bp.alt_response(401, schema=ErrorBodySchema)
def batch(args):
    """Up to 1,000 add/deduct/refund operations; ``{results}`` in order, each as that operation alone."""
    limit = current_app.config["LEDGER_MAX_BATCH"]
    if len(args["operations"]) > limit:
        raise BadRequest(f"invalid input: at most {limit} operations per batch")
    return json_response('{"results":[' + ",".join(run_batch(args["operations"])) + "]}")
