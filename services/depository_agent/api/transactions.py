"""The transaction services for lending (service token): ``POST /l/projects``, ``/l/projects/status``,
``/l/pre-transactions``, ``/l/pre-transactions/cancel``, ``/l/loans``, ``/l/repayments``."""
from shared import contract
from shared.auth import require_service_token
from shared.web import Blueprint

from depository_agent import transactions
from depository_agent.api import refusals, schemas
from depository_agent.bootstrap import current

bp = Blueprint("transactions", __name__,
               description="The bank's transaction services for lending, signed and sent server to server "
                           "(service token required)")
bp.before_request(require_service_token)

_PENDING = {"description": "the bank has not answered in time (status 0): the result is published on "
                           "depository.gateway-notify once compensation learns it"}


def _transaction(schema):
    """What every transaction endpoint shares: its body schema (one instance: a class would be instantiated,
    its fields deep-copied, at every request), the result (200 or 202), its refusals, the token."""
    def decorate(view):
        view = bp.response(200, schemas.TransactionResponseSchema,
                           description="the bank's result (status 1 success, 2 failure)")(bp.arguments(schema())(view))
        view = bp.alt_response(202, schema=schemas.TransactionResponseSchema, **_PENDING)(view)
        return bp.doc(security=[{"serviceToken": []}])(refusals(bp, 400, 401, 409)(view))
    return decorate


def _call(service_name: str, body: dict):
    deps = current()
    status, result = transactions.call(deps.pool, deps.codec, deps.bank_service, deps.settler, service_name, body,
                                       deps.config["MAX_AMOUNT_FEN"], deps.config["GATEWAY_REQUEST_TTL_SECONDS"])
    message = "success" if status == transactions.ANSWERED else "accepted, the bank has not answered yet"
    return {"code": 0, "msg": message, "result": result}, status


@bp.post("/l/projects")
@_transaction(schemas.ProjectRequestSchema)
def create_project(body: dict):
    """CREATE_PROJECT: a borrower's project, before its tenders and repayments."""
    return _call(contract.CREATE_PROJECT, body)


@bp.post("/l/projects/status")
@_transaction(schemas.ProjectStatusRequestSchema)
def modify_project(body: dict):
    """MODIFY_PROJECT: a project's status."""
    return _call(contract.MODIFY_PROJECT, body)


@bp.post("/l/pre-transactions")
@_transaction(schemas.PreTransactionRequestSchema)
def pre_transaction(body: dict):
    """USER_AUTO_PRE_TRANSACTION: freeze a funder's tender or a borrower's repayment."""
    return _call(contract.PRE_TRANSACTION, body)


@bp.post("/l/pre-transactions/cancel")
@_transaction(schemas.CancelPreTransactionRequestSchema)
def cancel_pre_transaction(body: dict):
    """CANCEL_PRE_TRANSACTION: unfreeze what a freeze still holds (once)."""
    return _call(contract.CANCEL_PRE_TRANSACTION, body)


@bp.post("/l/loans")
@_transaction(schemas.LoanRequestSchema)
def confirm_loan(body: dict):
    """CONFIRM_LOAN: the project's tenders to the borrower, the commission to the platform."""
    return _call(contract.CONFIRM_LOAN, body)


@bp.post("/l/repayments")
@_transaction(schemas.RepaymentRequestSchema)
def confirm_repayment(body: dict):
    """CONFIRM_REPAYMENT: the borrower's repayment freeze to the funders and the platform."""
    return _call(contract.CONFIRM_REPAYMENT, body)
