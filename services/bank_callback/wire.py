"""A callback's fields as the bank sent them: one decoding for every path.

The query string and an ``application/x-www-form-urlencoded`` body are decoded by the same rule:
``&``-separated ``name=value`` pairs, ``+`` as a space, percent-escapes as UTF-8 bytes. Anything that
could be read two ways is refused rather than guessed: bytes that are not UTF-8 (``%FF``, GBK text,
lone surrogates), a name given twice (in one part or across query and body), another body type or
charset. So a GET and a POST, a query and a form, carry exactly the fields the bank signed or none.
"""
from urllib.parse import parse_qsl

from flask import Request

from shared.errors import AppError, BadRequest

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


class UnsupportedMediaType(AppError):
    status, code = 415, 915


def callback_fields(request: Request) -> dict[str, str]:
    """The fields of ``request``'s query string and form body, each name at most once."""
    pairs = _pairs(request.query_string, "query string")
    body = request.get_data(cache=True)
    if body:
        if request.mimetype != FORM:
            raise UnsupportedMediaType(f"the body must be {FORM}, not {request.mimetype or 'untyped'}")
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"the body must be UTF-8, not {charset[:32]}")
        pairs += _pairs(body, "form body")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if not name:
            raise BadRequest("a parameter without a name")
        if name in fields:
            raise BadRequest(f"{name[:64]} is given more than once")
        if "\x00" in value:
            raise BadRequest(f"{name[:64]} must not contain NUL characters")
        fields[name] = value
    return fields


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict",
                         max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BadRequest(f"the {where} is not valid UTF-8 (percent-escapes included)") from None
    except ValueError:
        raise BadRequest(f"the {where} has more than {MAX_FIELDS} parameters") from None
