"""Page callbacks: where the browser goes after the bank's page, on the platform's frontend."""
from urllib.parse import quote, urlencode

REGISTER_ROUTE = "BankUserRegisterCallback"
NETSAVE_ROUTE = "NetSaveCallback"


def frontend_redirect(base: str, route: str, fields: dict) -> str:
    """``<base>#/<route>?RespCode=..&RespDesc=..`` with both values percent-encoded (space as %20)."""
    query = urlencode({"RespCode": fields.get("RespCode", ""), "RespDesc": fields.get("RespDesc", "")},
                      quote_via=quote)
    return f"{base}#/{route}?{query}"
