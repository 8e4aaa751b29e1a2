"""The one-time open-account link's pages (no auth: the link's token is the credential).

``GET /open-account/<token>`` only says whether the link can be used and offers a button, so a link
preview or a mail scanner fetching the URL uses nothing up; the button's ``POST`` uses the link, signs
the user in and goes on to the bank. The access token travels in the POST answer's body, which is not
stored (``no-store``) and sends no Referer on (``no-referrer``), never in a URL.
"""
from flask import Blueprint, render_template

from shared.errors import AppError, NotFound

from user_center import TEMPLATES_DIR, borrowers
from user_center.api.frontend import PAGE_HEADERS
from user_center.bootstrap import dependencies

bp = Blueprint("open_account_links", __name__, template_folder=str(TEMPLATES_DIR))
REFUSALS = {
    "used": ("链接已使用", "此开户链接已经使用过，不能再次使用。请从借款渠道重新获取链接，或登录后查看我的借款。"),
    "expired": ("链接已过期", "此开户链接已过期。请从借款渠道重新获取链接。"),
    None: ("链接无效", "此链接无效，请检查链接是否完整。"),
}


def _refusal(state: str | None, status: int):
    title, text = REFUSALS[state]
    return render_template("open_account.html", state=state or "unknown", title=title, text=text), status


@bp.get("/open-account/<token>")
def link_page(token):
    """The link's page: a button that uses it, or why it cannot be used (404 unknown, 410 used or expired)."""
    link = borrowers.link_state(dependencies().pool, token)
    if link is None or link["state"] != "valid":
        return _refusal(link and link["state"], 404 if link is None else 410)
    return render_template("open_account.html", state="valid", token=token, holder=link["holder"])


@bp.post("/open-account/<token>")
def use_link(token):
    """Use the link: sign its user in and go on to the bank's page (or to 我的借款 when the account is open).
    Of concurrent uses exactly one gets here; the others are told it was used (410)."""
    deps = dependencies()
    try:
        handoff = borrowers.follow_link(deps.pool, deps.agent, deps.config, token)
    except NotFound:
        return _refusal(None, 404)
    except borrowers.LinkGone:
        link = borrowers.link_state(deps.pool, token)
        if link is not None and link["state"] == "valid":  # a concurrent use was undone meanwhile (the agent down)
            return _unavailable(503)
        return _refusal(link and link["state"], 410)
    except AppError as exc:
        return _unavailable(exc.status)
    return render_template("open_account.html", state="signed-in", handoff={**handoff, **(handoff["gateway"] or {})})


def _unavailable(status: int):
    """The link could not be used now and is still valid: open it again later."""
    return render_template("open_account.html", state="unavailable", title="暂时无法前往存管银行",
                           text="存管银行暂时无法受理，链接仍然有效，请稍后重新打开此链接。"), status


@bp.after_request
def _protect(response):
    """The frontend's protection, and nothing kept: the answer of a use carries an access token."""
    response.headers.update(PAGE_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response
