"""The batch endpoint: many wallet postings in one request and one database round trip.

Each operation is validated and answered exactly as it would be alone (same status, code and
message); the valid ones run in order inside one SQL call, each refusal affecting only itself.
"""
import json

from flask import current_app
from marshmallow import ValidationError, fields, validate

from beanpay_ledger import accounts_repo
from beanpay_ledger.outcomes import CHANGE_TYPES, SUCCESS_STATUS, refusal
from beanpay_ledger.responses import json_response
from beanpay_ledger.routing import LedgerBlueprint
from beanpay_ledger.schemas import BatchArgs, BatchResultsSchema, PostingArgs, ErrorBodySchema
from shared.errors import AppError, BadRequest

bp = LedgerBlueprint("batch", __name__, description="many postings in one call")


class BatchOperationArgs(PostingArgs):
    op = fields.String(required=True, validate=validate.OneOf(tuple(CHANGE_TYPES)))


_OPERATION = BatchOperationArgs()


def _parse(operation) -> dict:
    """The operation's arguments, or :class:`BadRequest` worded as the endpoint alone would word it."""
    if not isinstance(operation, dict):
        raise BadRequest("invalid input: each operation must be a JSON object")
    try:
        return _OPERATION.load(operation)
    except ValidationError as exc:
        detail = "; ".join(f"{field}: {', '.join(map(str, problems)) if isinstance(problems, list) else problems}"
                           for field, problems in exc.messages.items())
        raise BadRequest(f"invalid input: {detail}") from None


def _refused(error: AppError) -> str:
    return json.dumps({"status": error.status, "code": error.code, "msg": error.msg, "record": None},
                      ensure_ascii=False)


def run_batch(operations: list) -> list[str]:
    """Each operation's result as JSON text ``{status, code, msg, record}``, in the given order."""
    results: list[str | None] = [None] * len(operations)
    accepted = []
    for index, operation in enumerate(operations):
        try:
            accepted.append((index, _parse(operation)))
        except BadRequest as error:
            results[index] = _refused(error)
    if accepted:
        rows = accounts_repo.post_many([CHANGE_TYPES[args["op"]] for _, args in accepted],
                                       [args["eid"] for _, args in accepted],
                                       [args["trade_no"] for _, args in accepted],
                                       [args["amount"] for _, args in accepted])
        for (index, args), (_, outcome, record) in zip(accepted, rows):
            status = SUCCESS_STATUS.get(outcome)
            if status is None:
                results[index] = _refused(refusal(outcome, f"eid {args['eid']}, trade_no {args['trade_no']}"))
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
