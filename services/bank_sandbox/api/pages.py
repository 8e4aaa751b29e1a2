"""The bank's HTML pages: the browser brings a signed gateway request, the user confirms with the
transaction password, and the bank redirects the browser to the platform's callbackUrl."""
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request
from werkzeug.exceptions import HTTPException

from shared import contract
from shared.errors import HTTP_STATUS_CODES, AppError, BadRequest, Conflict, Locked, Unauthorized
from shared.money import format_fen
from shared.web import Blueprint

from bank_sandbox import confirmation, gateway_requests
from bank_sandbox.api import schemas
from bank_sandbox.api.errors import error_json
from bank_sandbox.bootstrap import dependencies
from bank_sandbox.gateway_requests import RequestExpired
from bank_sandbox.notifications import bank_name

# The bank's pages load nothing from elsewhere, run no script and are never framed (clickjacking).
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
               "frame-ancestors 'none'")

bp = Blueprint("pages", __name__, url_prefix="", template_folder="../templates",
               description="The bank's pages for the user's browser")
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
_STATUS_TEXT = {contract.STATUS_PENDING: "pending", contract.STATUS_SUCCESS: "succeeded",
                contract.STATUS_FAILURE: "failed"}


@bp.route("/gateway", methods=["GET"])
@bp.arguments(schemas.GatewayQuery, location="query", as_kwargs=True)
@bp.doc(responses={"200": {"description": "the confirmation page", **_HTML},
                   "400": {"description": "bad signature, platformNo or fields; code 20007: the request expired"},
                   "409": {"description": "requestNo already used for another request"}})
def gateway_page(serviceName, platformNo, reqData, signature):
    """Verify the platform's signed request and show the page to confirm it."""
    deps = dependencies()
    verified = gateway_requests.verify(deps.config, deps.keys, platformNo, reqData, signature, serviceName)
    row = confirmation.record(deps.pool, verified)
    if row["status"] != contract.STATUS_PENDING:
        return _render_final(row)
    return _render_form(row)


@bp.route("/gateway/confirm", methods=["POST"])
@bp.arguments(schemas.GatewayForm, location="form", as_kwargs=True)
@bp.doc(responses={"200": {"description": "the request is already final: its result page", **_HTML},
                   "302": {"description": "to callbackUrl with code and msg"},
                   "400": {"description": "passwords differ or break the policy: the form again; code 20007: "
                                          "the request expired", **_HTML},
                   "401": {"description": "wrong transaction password: the page again", **_HTML},
                   "423": {"description": "too many wrong transaction passwords: locked for a while", **_HTML},
                   "403": {"description": "the form's token does not match the request"},
                   "404": {"description": "unknown requestNo"},
                   "409": {"description": "the request cannot be confirmed in its state: the form again", **_HTML}})
def gateway_submit(requestNo, token, action, password, passwordConfirm):
    """The bank page's form: confirm with the transaction password, or cancel."""
    deps = dependencies()
    row = confirmation.form_request(deps.pool, requestNo, token)
    if row["status"] != contract.STATUS_PENDING:
        return _render_final(row)
    if action == "cancel":
        result = confirmation.confirm(deps.pool, deps.config, deps.keys, requestNo, None, confirmation.FAIL)
        return redirect(result.redirect_url, 302)
    if row["service_name"] == contract.PERSONAL_REGISTER and password != passwordConfirm:
        return _render_form(row, "the two passwords differ", 400)
    try:
        result = confirmation.confirm(deps.pool, deps.config, deps.keys, requestNo, password)
    except RequestExpired:
        raise
    except (BadRequest, Conflict, Locked) as exc:
        return _render_form(row, exc.msg, exc.status)
    except Unauthorized as exc:
        return _render_form(row, f"{exc.msg}, nothing was changed", 401)
    return redirect(result.redirect_url, 302)


@bp.after_request
def _page_policy(response):
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"  # the page's URL carries the signed request
    return response


@bp.errorhandler(RequestExpired)
@bp.errorhandler(AppError)
def _app_error(exc: AppError):
    """An error as an HTML page for a browser, as JSON for anything else."""
    if _wants_html():
        return render_template("error.html", status=exc.status, code=exc.code, msg=exc.msg), exc.status
    return error_json(exc)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields = sorted({name for location in messages.values() for name in location}) if isinstance(messages, dict) else []
    msg = "missing or invalid: " + ", ".join(fields) if fields else (exc.description or exc.name)
    status = exc.code or 400
    return _app_error(AppError(msg, code=HTTP_STATUS_CODES.get(status, status), status=status))


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _render_form(row: dict, error: str = "", status: int = 200):
    user = confirmation.account_holder(dependencies().pool, row["user_no"])
    page = {
        "row": row, "p": row["payload"], "user": user, "error": error,
        "service": row["service_name"], "bank_name": bank_name(row["payload"].get("bankCode", "")),
        "valid_until": _local_time(row["expires_at"]),
        "mask": _mask, "yuan": format_fen,
    }
    return render_template("gateway.html", **page), status


def _render_final(row: dict):
    """A request already settled (a reload, a second tab): say so and offer the way back."""
    url = confirmation.callback_redirect(row["payload"]["callbackUrl"], row["resp_code"], row["resp_msg"])
    return render_template("final.html", row=row, state=_STATUS_TEXT[row["status"]], url=url)


def _local_time(moment) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(dependencies().config["SANDBOX_TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")


def _mask(value: str, keep: int = 4) -> str:
    return "*" * max(0, len(value) - keep) + value[-keep:] if value else ""

