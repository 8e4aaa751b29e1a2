"""``POST /callbacks``: lending's callbacks, verified and kept; ``{"code": 0}`` once stored."""
import json

from flask import jsonify, request

from shared.contract import PARTNER_BAD_REQUEST, PARTNER_SUCCESS
from shared.partner_envelope import EnvelopeError
from shared.web import Blueprint

from partner_sandbox import callbacks
from partner_sandbox.bootstrap import dependencies

bp = Blueprint("callbacks", __name__, description="lending's callbacks")
FAULTED = 1  # the ``code`` of a delivery the fault knob fails on purpose


@bp.post("/callbacks")
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Envelope"}}}},
        responses={"200": {"description": '{"code": 0}: stored (or a repeat of a stored eventId)'},
                   "400": {"description": "not a genuine, fresh envelope from lending (code 1001)"},
                   "503": {"description": "failed on purpose by the fault knob"}})
def receive():
    """Verify the envelope, keep the callback once per eventId, answer ``{"code": 0}``."""
    deps = dependencies()
    try:
        envelope = json.loads(request.get_data(cache=False).decode("utf-8"))
        callbacks.receive(deps.pool, deps.config, envelope)
    except EnvelopeError as exc:  # a ValueError too: caught first, so that its own reason is answered
        return jsonify(code=PARTNER_BAD_REQUEST, msg=exc.msg), 400
    except (ValueError, UnicodeDecodeError):
        return jsonify(code=PARTNER_BAD_REQUEST, msg="the body must be JSON"), 400
    except callbacks.Faulted as exc:
        return jsonify(code=FAULTED, msg=str(exc)), 503
    return jsonify(code=PARTNER_SUCCESS, msg="success")
