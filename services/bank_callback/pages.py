"""Page callbacks: where the browser goes after the bank's page, on the platform's frontend."""
from urllib.parse import quote, urlencode

from bank_callback.huifu import Command

REGISTER_ROUTE = "BankUserRegisterCallback"
NETSAVE_ROUTE = "NetSaveCallback"


def frontend_redirect(base: str, route: str, command: Command, resp_code: str) -> str:
    """``<base>#/<route>?RespCode=..&RespDesc=..``, both percent-encoded (space as %20).

    RespDesc is the platform's own text for the (signed) RespCode: the RespDesc the bank sends is
    not signed, so it is never shown to the user.
    """
    query = urlencode({"RespCode": resp_code, "RespDesc": command.resp_codes[resp_code]}, quote_via=quote)
    return f"{base}#/{route}?{query}"
