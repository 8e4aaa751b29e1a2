"""The agent's HTTP API: ``requests`` (signed gateway requests under /l/, service token) and ``gateway``
(the bank's notifications); request and answer formats in ``schemas``."""
from shared.web import Blueprint, RestErrorSchema


def refusals(blueprint: Blueprint, *statuses: int):
    """Document each of ``statuses`` as a refusal in the RestResponse error envelope."""
    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=RestErrorSchema)(view)
        return view
    return decorate


def success(result: dict) -> dict:
    """The RestResponse envelope of a successful answer."""
    return {"code": 0, "msg": "success", "result": result}
