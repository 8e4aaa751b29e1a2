"""Reading a peer's answer."""
import json


def json_object(raw: bytes) -> dict:
    """The body as a JSON object; ``{}`` when it is not one, so that no result is read out of it."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
