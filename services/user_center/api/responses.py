"""The RestResponse success envelope."""


def ok(result) -> dict:
    """``{"code": 0, "msg": "success", "result": result}``."""
    return {"code": 0, "msg": "success", "result": result}
