"""Users: registration, login, profile and opening the depository (bank) account."""
from psycopg_pool import ConnectionPool

from shared.contract import OPENED, PERSONAL_REGISTER, new_request_no, new_user_no
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, Unauthorized

from user_center import device_cookies
from user_center.agent_client import AgentClient
from user_center.device_cookies import Device
from user_center.login_throttle import LoginThrottle
from user_center.passwords import DUMMY_HASH, hash_password, verify_password
from user_center.repository import consumers, requests
from user_center.sweep import fail_unsent
from user_center.tokens import issue_token


def register(pool: ConnectionPool, throttle: LoginThrottle, mobile: str, password: str, username: str | None,
             address: str) -> dict:
    """Create a user; :class:`Conflict` when the mobile is taken.

    Counted per mobile and per client ``address`` first (429 once either has used up its share),
    since the answer tells registered mobiles apart and the hash is costly.
    """
    throttle.admit_registration(mobile, address)
    password_hash = hash_password(password)
    with unit_of_work(pool) as conn:
        row = consumers.insert(conn, new_user_no(), mobile, username, password_hash)
    if row is None:
        raise Conflict("this mobile number is already registered")
    return {"userNo": row["user_no"], "mobile": row["mobile"], "username": row["username"]}


def login(pool: ConnectionPool, config: dict, throttle: LoginThrottle, mobile: str, password: str,
          address: str, device: Device | None) -> tuple[dict, str]:
    """An access token for the user and a new device cookie for the browser.

    The same 401 for an unknown mobile, a user without a password and a wrong password. ``device`` is the
    caller's valid device cookie, if any: it counts only when it names this account (see
    :mod:`user_center.login_throttle` for the limits, 429 once used up).
    """
    with pool.connection() as conn:
        row = consumers.find_by_mobile(conn, mobile)
    returning = device if device is not None and row is not None and device.user_no == row["user_no"] else None
    attempt = throttle.admit_login(mobile, address, returning)
    # A user created for lending has no password yet: verified against the dummy hash, like an unknown mobile.
    stored = row["password_hash"] if row else None
    matches = verify_password(password, stored or DUMMY_HASH)
    if stored is None or not matches:
        raise Unauthorized("wrong mobile number or password")
    throttle.login_succeeded(attempt)
    ttl = config["TOKEN_TTL_SECONDS"]
    cookie = device_cookies.issue(config["TOKEN_SECRET"], row["user_no"], config["DEVICE_COOKIE_TTL_DAYS"] * 86400)
    return ({"access_token": issue_token(config["TOKEN_SECRET"], row["user_no"], ttl),
             "token_type": "Bearer", "expires_in": ttl}, cookie)


def load_consumer(conn, user_no: str, for_update: bool = False) -> dict:
    """The token's user; :class:`Unauthorized` when it no longer exists."""
    consumer = consumers.find(conn, user_no, for_update)
    if consumer is None:
        raise Unauthorized("unknown user, log in again")
    return consumer


def mask_card(card_number: str) -> str:
    """``6222********1234``: the first and last four digits only."""
    return card_number[:4] + "*" * max(len(card_number) - 8, 0) + card_number[-4:]


def profile(pool: ConnectionPool, user_no: str) -> dict:
    """The user's own profile with the bound bank card masked (``bankCard`` null before opening)."""
    with pool.connection() as conn:
        consumer = load_consumer(conn, user_no)
    card = None
    if consumer["card_number"]:
        card = {"bankCode": consumer["bank_code"], "bankName": consumer["bank_name"],
                "cardNumber": mask_card(consumer["card_number"])}
    return {"userNo": consumer["user_no"], "mobile": consumer["mobile"], "username": consumer["username"],
            "depositoryStatus": consumer["depository_status"], "bankCard": card}


def open_account(pool: ConnectionPool, agent: AgentClient, user_no: str, form: dict) -> dict:
    """Start opening the depository account: store the attempt, then get the signed GatewayRequest.

    ``form`` holds ``fullname, id_number, bank_code, card_number, mobile, role, callback_url``.
    A new attempt is allowed while the previous one is pending or failed; an open account is a 409.
    """
    request_no = new_request_no()
    with unit_of_work(pool) as conn:
        if load_consumer(conn, user_no, for_update=True)["depository_status"] == OPENED:
            raise Conflict("the depository account is already opened")
        requests.insert_register(conn, request_no, user_no, form)
        consumers.mark_pending(conn, user_no, request_no)
    body = {"requestNo": request_no, "userNo": user_no, "fullname": form["fullname"], "idNumber": form["id_number"],
            "bankCode": form["bank_code"], "cardNumber": form["card_number"], "mobile": form["mobile"],
            "role": form["role"], "callbackUrl": form["callback_url"]}
    try:
        return agent.personal_register(body)
    except AppError as exc:
        with unit_of_work(pool) as conn:
            fail_unsent(conn, PERSONAL_REGISTER, {"request_no": request_no, "user_no": user_no}, exc.msg)
        raise
