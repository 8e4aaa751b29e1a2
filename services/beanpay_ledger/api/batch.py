"""The batch endpoint: many wallet postings in one request and one database call; each operation validated
and answered exactly as it would be alone (same status, code and message), in order."""
import json

from beanpay_ledger import postings
from beanpay_ledger.api.schemas import BatchArgs, BatchResultsSchema
from beanpay_ledger.api.shell import Routes
from beanpay_ledger.bootstrap import Dependencies
from beanpay_ledger.outcomes import Answer
from shared.errors import BadRequest

routes = Routes("batch", "many postings in one call")


@routes.post("/account/balance/batch", BatchArgs, BatchResultsSchema)
def batch(deps: Dependencies, args: dict) -> Answer:
    """Up to 1,000 add/deduct/refund operations; ``{results}`` in order, each as that operation alone."""
    limit = deps.config["LEDGER_MAX_BATCH"]
    if len(args["operations"]) > limit:
        raise BadRequest(f"invalid input: at most {limit} operations per batch")
    with deps.pool.connection() as conn:
        results = postings.batch(conn, args["operations"], deps.max_amount)
    return Answer('{"results":[' + ",".join(map(_result, results)) + "]}")


def _result(result) -> str:
    """``{status, code, msg, record}`` of one operation (the record as PostgreSQL wrote it)."""
    if isinstance(result, Answer):
        return f'{{"status":{result.status},"code":0,"msg":"success","record":{result.body}}}'
    return json.dumps({"status": result.status, "code": result.code, "msg": result.msg, "record": None},
                      ensure_ascii=False)
