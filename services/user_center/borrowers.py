"""lending's borrowers at user-center: find or create a user by mobile, tell a user's depository status, and
the one-time open-account link that signs the borrower in and starts opening the account at the bank.

A user created here has no password (the column is null, which no login matches): they sign in through
their links until they set one. A link's token is 32 random bytes (URL-safe Base64, 43 characters) and
only its SHA-256 is stored; it is used at most once and not after its expiry, both decided by one
``UPDATE`` in the database (docs/user_center.md, "Lending's borrowers").
"""
import base64
import binascii
import hashlib
import json
import re
import secrets

from psycopg_pool import ConnectionPool

from shared.contract import OPENED, new_user_no
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, NotFound

from user_center import accounts
from user_center.agent_client import AgentClient
from user_center.repository import consumers, links
from user_center.tokens import issue_token

LINK_PATH = "/open-account/"
MAX_LINK_MINUTES = 30
_TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# The web frontend's result page, where the bank sends the browser back.
FRONTEND_CALLBACK = "/#/callback"


class LinkGone(AppError):
    """A link that was used or has expired: it signs nobody in."""

    status, code = 410, 910


def find_or_create(pool: ConnectionPool, mobile: str, fullname: str, id_number: str) -> tuple[dict, bool]:
    """``({userNo, depositoryStatus}, created)`` of the user with ``mobile``, created without a password when
    there is none. A user without an ID number takes this one; :class:`Conflict` when the user has another."""
    with unit_of_work(pool) as conn:
        row = consumers.insert_borrower(conn, new_user_no(), mobile, fullname, id_number)
        created = row is not None
        if not created:
            row = consumers.claim_identity(conn, mobile, fullname, id_number)
    if row["id_number"] != id_number:
        raise Conflict("this mobile number belongs to someone with another ID number")
    return {"userNo": row["user_no"], "depositoryStatus": row["depository_status"]}, created


def status(pool: ConnectionPool, user_no: str) -> dict:
    """``{userNo, depositoryStatus}``; :class:`NotFound` for an unknown user."""
    with pool.connection() as conn:
        row = consumers.find(conn, user_no)
    if row is None:
        raise NotFound("no such user")
    return {"userNo": row["user_no"], "depositoryStatus": row["depository_status"]}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_link(pool: ConnectionPool, public_url: str, link: dict, valid_minutes: int) -> dict:
    """``{url, expiresAt}`` (Unix seconds): a one-time link under ``public_url`` for ``link``'s user.

    ``link`` holds ``user_no, fullname, id_number, mobile, bank_code, card_number, role``: the account is
    opened with them. :class:`NotFound` for an unknown user, :class:`Conflict` when the ID number is not
    the user's."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with unit_of_work(pool) as conn:
        user = consumers.find(conn, link["user_no"])
        if user is None:
            raise NotFound("no such user")
        if user["id_number"] is not None and user["id_number"] != link["id_number"]:
            raise Conflict("the ID number is not this user's")
        expires_at = links.insert(conn, _hash(token), link, valid_minutes)
    return {"url": public_url.rstrip("/") + LINK_PATH + token, "expiresAt": expires_at}


def link_state(pool: ConnectionPool, token: str) -> dict | None:
    """``{state, holder}``: ``valid``, ``used`` or ``expired``, and whose account the link opens, masked
    (``李*`` · ``139****9000``), so that someone sent another person's link sees it is not theirs; ``None`` for
    a token that names no link."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    with pool.connection() as conn:
        row = links.state(conn, _hash(token))
    if row is None:
        return None
    return {"state": row["state"], "holder": f"{mask_name(row['fullname'])} · {mask_mobile(row['mobile'])}"}


def mask_name(fullname: str) -> str:
    """The first character of a name, then one ``*`` for each other character."""
    return fullname[:1] + "*" * (len(fullname) - 1)


def mask_mobile(mobile: str) -> str:
    """``139****9000``: the first three and last four digits."""
    return mobile[:3] + "*" * max(len(mobile) - 7, 0) + mobile[-4:]


def follow_link(pool: ConnectionPool, agent: AgentClient, config: dict, token: str) -> dict:
    """Use the link: ``{accessToken, expiresIn, gateway, requestNo}`` for its user.

    ``gateway`` is the PERSONAL_REGISTER GatewayRequest built from the link (``None`` when the account is
    already open, and then ``requestNo`` too). :class:`NotFound` for an unknown link, :class:`LinkGone`
    for a used or expired one. When the request cannot be made (the agent is down), the link is left
    unused, so the borrower can open it again."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise NotFound("this link is not valid")
    with unit_of_work(pool) as conn:
        link = links.use(conn, _hash(token))
        gone = None if link else links.state(conn, _hash(token))
    if link is None:
        if gone is None:
            raise NotFound("this link is not valid")
        raise LinkGone(f"this link has {'been used' if gone['state'] == 'used' else 'expired'}")
    try:
        gateway = _open_account(pool, agent, config, link)
    except AppError:
        with unit_of_work(pool) as conn:
            links.release(conn, link["id"], link["used_at"])
        raise
    ttl = config["TOKEN_TTL_SECONDS"]
    return {"accessToken": issue_token(config["TOKEN_SECRET"], link["user_no"], ttl), "expiresIn": ttl,
            "gateway": gateway, "requestNo": _request_no(gateway) if gateway else None}


def _open_account(pool: ConnectionPool, agent: AgentClient, config: dict, link: dict) -> dict | None:
    """The PERSONAL_REGISTER GatewayRequest of the link's fields; ``None`` when the account is open."""
    if status(pool, link["user_no"])["depositoryStatus"] == OPENED:
        return None
    form = {name: link[name] for name in ("fullname", "id_number", "bank_code", "card_number", "mobile", "role")}
    form["callback_url"] = config["USER_CENTER_PUBLIC_URL"].rstrip("/") + FRONTEND_CALLBACK
    try:
        return accounts.open_account(pool, agent, link["user_no"], form)
    except Conflict:
        return None  # opened meanwhile: signing in is all that is left


def _request_no(gateway: dict) -> str | None:
    """The requestNo inside the GatewayRequest's signed reqData (Base64 of JSON)."""
    try:
        return json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
