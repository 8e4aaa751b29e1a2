"""``POST /callbacks``: lending's callbacks, verified and kept; ``{"code": 0}`` once stored."""
import json

from flask import current_app, jsonify, request

from shared.partner_envelope import BAD_ENVELOPE, EnvelopeError
from shared.web import Blueprint

from partner_sandbox import callbacks

bp = Blueprint("callbacks", __name__, description="lending's callbacks")


@bp.route("/callbacks", methods=["POST"])
@bp.doc(responses={"200": {"description": '{"code": 0}: stored (or a repeat of a stored eventId)'},
                   "400": {"description": "not a genuine, fresh envelope from lending"},
                   "503": {"description": "failed on purpose by the fault knob"}})
def receive():
    """Verify the envelope, keep the callback once per eventId, answer ``{"code": 0}``."""
    deps = current_app.extensions["sandbox"]
    try:
        envelope = json.loads(request.get_data(cache=False).decode("utf-8"))
        callbacks.receive(deps.pool, deps.config, envelope)
    except (ValueError, UnicodeDecodeError):
        return jsonify(code=BAD_ENVELOPE, msg="the body must be JSON"), 400
    except EnvelopeError as exc:
        return jsonify(code=BAD_ENVELOPE, msg=exc.msg), 400
    except callbacks.Faulted as exc:
        return jsonify(code=1, msg=str(exc)), 503
    return jsonify(code=0, msg="success")
